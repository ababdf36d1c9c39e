import Logging
import MeshgateCore
import NIOCore
import NIOHTTP1

/// A request head's way in: access, limits, identity, loops and the request's form decide whether it
/// is refused, tunnels (CONNECT) or goes through the request filters.
extension HTTPProxyHandler {
    func receivedHead(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        // llhttp also stops after a CONNECT: a refused one (403, 407) must not wedge the connection.
        guard machine.beginExchange(decoderStops: head.method == .CONNECT || HeaderRewriter.decoderStopsAfter(head.headers)) else {
            // HTTPServerPipelineHandler hands over one request at a time, and one it delivers while the
            // previous exchange settles is deferred in channelRead; anything else is a bug or abuse.
            context.close(promise: nil)
            return
        }
        let intercepted: Bool
        if case .intercepted = mode { intercepted = true } else { intercepted = false }
        let tx = HTTPTransaction(
            head: head,
            scheme: intercepted ? "https" : "http",
            host: "",
            port: 0,
            path: head.uri,
            intercepted: intercepted
        )
        if case .intercepted(let authority, _, _) = mode {
            tx.host = authority.host
            tx.port = authority.port
        }
        if let transparent {
            tx.transparentDestination = transparent.destination
            tx.workload = transparent.workload
        }

        guard configuration.allows(clientAddress) else {
            let who = clientAddress?.ipAddress ?? "unknown"
            respondLocally(tx, LocalResponse(status: .forbidden, message: "client \(who) is not allowed (access.allow_clients)"), close: true)
            return
        }
        guard head.headers.count <= configuration.maxHeaderCount else {
            let message = "request has \(head.headers.count) header fields, more than \(configuration.maxHeaderCount) (limits.max_header_count)"
            respondLocally(tx, LocalResponse(status: .requestHeaderFieldsTooLarge, message: message), close: true)
            return
        }
        if case .aiGateway = mode {
            receivedAIGatewayHead(tx, context: context)
            return
        }
        if case .explicit = mode {
            switch services.identities.identify(client: clientAddress, credentials: head.headers.first(name: "proxy-authorization")) {
            case .identified(let id):
                identity = id
            case .anonymous where !configuration.requireIdentity:
                identity = nil
            case .anonymous, .invalidCredentials:
                let response = LocalResponse(
                    status: .proxyAuthenticationRequired,
                    message: "proxy authentication required: send Proxy-Authorization with an identity token",
                    extraHeaders: [("Proxy-Authenticate", "Basic realm=\"meshgate\""), ("Proxy-Authenticate", "Bearer realm=\"meshgate\"")]
                )
                respondLocally(tx, response, close: false)
                return
            }
        }

        if head.headers[canonicalForm: "via"].contains(where: { $0.contains("(\(services.instanceID))") }) {
            respondLocally(tx, LocalResponse(status: .loopDetected, message: "this request already passed through this meshgate (Via); refusing to loop"), close: true)
            return
        }
        switch ProxyRequestClassifier.classify(head, mode: mode, configuration: configuration, isOwnAddress: services.isOwnAddress) {
        case .reject(let status, let message):
            if case .explicit = mode {
                if head.method == .CONNECT, let hp = HostPort(authority: head.uri, defaultPort: nil) {
                    tx.scheme = "https"
                    tx.host = hp.host
                    tx.port = hp.port
                    tx.path = ""
                } else if let url = AbsoluteURL(head.uri), let hp = HostPort(authority: url.authority, defaultPort: 80) {
                    tx.scheme = url.scheme
                    tx.host = hp.host
                    tx.port = hp.port
                    tx.path = url.pathAndQuery
                }
            }
            respondLocally(tx, LocalResponse(status: status, message: message), close: status == .badRequest)
        case .connect(let authority):
            tx.host = authority.host
            tx.port = authority.port
            tx.path = ""
            tx.scheme = "https"
            if configuration.doNotInspect.matches(authority.host), refuseByHostPolicy(tx, host: authority.host, port: authority.port) {
                return
            }
            machine.enter(.connectPending(tx, authority))
        case .forward(let target):
            tx.target = target
            tx.scheme = target.scheme
            tx.host = target.origin.host
            tx.port = target.origin.port
            tx.path = target.path
            applyPolicy(tx, context: context)
        }
    }

    /// For a tunnel that will not be inspected, host-level rules decide at CONNECT time: anything but
    /// allow/log is a 403 to the CONNECT itself (a spliced stream cannot be rerouted or redirected).
    func refuseByHostPolicy(_ tx: HTTPTransaction, host: String, port: Int) -> Bool {
        let policy = services.policy.current
        let verdict = policy.evaluateHostOnly(host: host, port: port, identity: identity)
        switch verdict.action {
        case .allow, .log, .limit:
            tx.action = verdict.action
            tx.rule = verdict.rule
            tx.ruleset = verdict.ruleset
            return false
        case .block, .redirect, .reroute:
            tx.action = .block
            tx.rule = verdict.rule
            tx.ruleset = verdict.ruleset
            tx.redirectTarget = verdict.target
            respondLocally(tx, PolicyResponse.block(rule: verdict.rule, portal: policy.portal, jsonRPC: nil, accept: tx.head.headers.first(name: "accept")), close: true)
            return true
        }
    }
}
