import Logging
import MeshgateCore
import NIOCore
import NIOHTTP1
import NIOSSL

/// The proxy's per-connection HTTP handler. Sits after `HTTPServerPipelineHandler` (which serialises
/// pipelined requests) in the explicit listener's pipeline and inside intercepted TLS tunnels.
/// Consumes request parts, decides, and either answers locally or streams the exchange through a
/// pooled upstream connection with back-pressure both ways. CONNECT and protocol upgrades hand the
/// connection over to a tunnel (see the `+Connect` and `+Upgrade` extensions).
final class HTTPProxyHandler {
    typealias Machine = ExchangeStateMachine<HTTPTransaction, UpstreamConnection>
    typealias State = Machine.State

    let services: ProxyServices
    let mode: ProxyRequestMode
    /// The connection's lifecycle; this handler performs what it decides.
    var machine = Machine(now: .now())
    var state: State { machine.state }
    var context: ChannelHandlerContext?
    var clientAddress: SocketAddress? {
        didSet { if clientAddress != oldValue { clientAuditDescription = clientAddress?.auditDescription } }
    }
    /// `clientAddress` as the audit line writes it, formatted once per connection.
    private(set) var clientAuditDescription: String?
    var identity: Identity?
    /// Set for requests on redirected connections, for their audit lines.
    var transparent: TransparentFacts?
    var headerTimer: Scheduled<Void>?
    /// Bytes buffered while an upstream connects before reading from the client pauses.
    static let maxBufferedWhileConnecting = 256 * 1024

    init(services: ProxyServices, mode: ProxyRequestMode, identity: Identity? = nil) {
        self.services = services
        self.mode = mode
        self.identity = identity
    }

    var configuration: ProxyConfiguration { services.configuration }
    var logger: Logger { services.logger }
}

extension HTTPProxyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        clientAddress = context.channel.remoteAddress
        if context.channel.isActive { armHeaderTimer() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        clientAddress = context.channel.remoteAddress
        armHeaderTimer()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let part = machine.received(unwrapInboundIn(data)) {
            dispatch(part, context: context)
        }
    }

    func dispatch(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            receivedHead(head, context: context)
        case .body(let buffer):
            receivedBody(buffer)
        case .end(let trailers):
            receivedEnd(trailers)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        receivedReadComplete()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        abandonExchange()
        context.fireChannelInactive()
    }

    /// The client is gone: the exchange in progress ends here, its upstream call is cancelled, its
    /// audit line written and a metered call settled or released. Leaves the state `.closed`.
    func abandonExchange() {
        switch machine.connectionLost() {
        case .connecting(let tx), .admitting(let tx), .inspecting(let tx):
            tx.error = "client closed the connection"
            finishAudit(tx)
        case .forwarding(let tx, let connection):
            connection.delegate = nil
            connection.close()
            tx.error = tx.error ?? "client closed the connection"
            finishAudit(tx)
        case .localResponse(let tx, _):
            if !tx.responseEnded { finishAudit(tx) }
        case .idle, .handedOff, .closed, .connectPending:
            break
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .forwarding(_, let connection) = state {
            connection.setReadsHeld(!context.channel.isWritable)
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let parserError = error as? HTTPParserError {
            // A request cut off by the connection closing (a client that left, or shutdown quiescing an
            // idle connection) is reported just before channelInactive, which settles the exchange:
            // nobody is left to answer, and writing after the serialising handler finished
            // quiescing is a precondition failure.
            guard context.channel.isActive else { return }
            refuseMalformedRequest(parserError)
            return
        }
        if case .handedOff = state {
            context.fireErrorCaught(error)
            return
        }
        logger.debug("client connection error", metadata: ["error": "\(error)"])
        if error is NIOSSLError || error is BoringSSLError {
            services.metrics.clientTLSFailures.increment()
            logger.info("client TLS handshake failed; is the meshgate CA installed on the client? (meshgate ca export)", metadata: [
                "client_ip": "\(clientAddress?.ipAddress ?? "?")", "error": "\(error)",
            ])
        }
        closeConnection()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            closeConnection()
            return
        }
        if case ChannelEvent.inputClosed = event, !machine.isHandedOff {
            clientClosedInput()
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func read(context: ChannelHandlerContext) {
        if machine.readRequested() { context.read() }
    }
}

// Not Sendable: confined to its channel's event loop. Futures it waits on are hopped there and
// observed through `assumeIsolated()`, which checks that they call back on it.
@available(*, unavailable)
extension HTTPProxyHandler: Sendable {}
