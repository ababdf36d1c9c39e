import MeshgateCore
import NIOCore
import NIOHTTP1

/// The handler of the explicit listener, of redirected (transparent) plain-HTTP connections and of
/// intercepted TLS tunnels: last in the pipeline, after `HTTPServerPipelineHandler`, it consumes
/// request parts and emits response parts. A thin shell over `ExchangeSession`: it only decides what
/// a request head means on a proxy listener (who asks, a loop, CONNECT or a request to forward).
final class HTTPProxyHandler {
    let session: ExchangeSession

    init(services: ProxyServices, mode: ProxyRequestMode, identity: Identity? = nil, transparent: TransparentFacts? = nil) {
        session = ExchangeSession(services: services, mode: mode, identity: identity)
        session.transparent = transparent
        session.front = self
    }
}

extension HTTPProxyHandler: ExchangeHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    func exchangeStarted(_ tx: HTTPTransaction, session: ExchangeSession, context: ChannelHandlerContext) {
        let head = tx.head, mode = session.mode, services = session.services
        if case .explicit = mode {
            switch services.identities.identify(client: session.clientAddress, credentials: head.headers.first(name: "proxy-authorization")) {
            case .identified(let id):
                session.identity = id
            case .anonymous where !services.configuration.requireIdentity:
                session.identity = nil
            case .anonymous, .invalidCredentials:
                let response = LocalResponse(
                    status: .proxyAuthenticationRequired,
                    message: "proxy authentication required: send Proxy-Authorization with an identity token",
                    extraHeaders: [("Proxy-Authenticate", "Basic realm=\"meshgate\""), ("Proxy-Authenticate", "Bearer realm=\"meshgate\"")]
                )
                return session.respondLocally(tx, response, close: false)
            }
        }
        if head.headers[canonicalForm: "via"].contains(where: { $0.contains("(\(services.instanceID))") }) {
            return session.respondLocally(tx, LocalResponse(status: .loopDetected, message: "this request already passed through this meshgate (Via); refusing to loop"), close: true)
        }
        switch ProxyRequestClassifier.classify(head, mode: mode, configuration: services.configuration, isOwnAddress: services.isOwnAddress) {
        case .reject(let status, let message):
            if case .explicit = mode { Self.nameTarget(of: tx) }
            session.respondLocally(tx, LocalResponse(status: status, message: message), close: status == .badRequest)
        case .connect(let authority):
            tx.route.host = authority.host
            tx.route.port = authority.port
            tx.route.path = ""
            tx.route.scheme = "https"
            if services.configuration.doNotInspect.matches(authority.host),
               session.refuseByHostPolicy(tx, host: authority.host, port: authority.port) {
                return
            }
            session.machine.enter(.connectPending(tx, authority))
        case .forward(let target):
            tx.route.target = target
            tx.route.scheme = target.scheme
            tx.route.host = target.origin.host
            tx.route.port = target.origin.port
            tx.route.path = target.path
            session.applyPolicy(tx, context: context)
        }
    }

    /// A refused request's audit line still names where it wanted to go, when its target says.
    private static func nameTarget(of tx: HTTPTransaction) {
        let head = tx.head
        if head.method == .CONNECT, let hp = HostPort(authority: head.uri, defaultPort: nil) {
            tx.route.scheme = "https"
            tx.route.host = hp.host
            tx.route.port = hp.port
            tx.route.path = ""
        } else if let url = AbsoluteURL(head.uri), let hp = HostPort(authority: url.authority, defaultPort: 80) {
            tx.route.scheme = url.scheme
            tx.route.host = hp.host
            tx.route.port = hp.port
            tx.route.path = url.pathAndQuery
        }
    }
}

// Not Sendable: confined to its channel's event loop.
@available(*, unavailable)
extension HTTPProxyHandler: Sendable {}
