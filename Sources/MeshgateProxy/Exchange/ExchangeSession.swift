import Logging
import MeshgateCore
import NIOCore
import NIOHTTP1
import NIOSSL

/// The exchanges of one client connection: `ExchangeStateMachine` decides the connection's
/// lifecycle, the request and response filters (`ExchangeFilterOrder`) decide each exchange, and
/// this class carries out what they return: the only code that writes a response or touches the
/// upstream. A listener's handler (`HTTPProxyHandler`, `AIGatewayHandler`) is a thin shell that
/// passes it the channel's events and says what a request head means on its listener.
final class ExchangeSession {
    typealias Machine = ExchangeStateMachine<HTTPTransaction, UpstreamConnection>
    typealias State = Machine.State

    let services: ProxyServices
    let mode: ProxyRequestMode
    /// The listener's half: what a request head means there (not retained: the handler owns us).
    weak var front: (any ExchangeFront)?
    /// The connection's lifecycle; this session performs what it decides.
    var machine = Machine(now: .now())
    var state: State { machine.state }
    /// The handler's context, while the handler is in the pipeline.
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

    /// Response parts go out through the handler's context, typed as its `OutboundOut`.
    func wrapOutboundOut(_ part: HTTPServerResponsePart) -> NIOAny { NIOAny(part) }

    // MARK: channel events, as the handler passes them on

    func attached(to context: ChannelHandlerContext) {
        self.context = context
        clientAddress = context.channel.remoteAddress
        if context.channel.isActive { armHeaderTimer() }
    }

    func detached() {
        cancelTimers()
        context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        clientAddress = context.channel.remoteAddress
        armHeaderTimer()
    }

    func received(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        if let part = machine.received(part) {
            dispatch(part, context: context)
        }
    }

    func dispatch(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            if let tx = beginExchange(head, context: context) {
                front?.exchangeStarted(tx, session: self, context: context)
            }
        case .body(let buffer):
            receivedBody(buffer)
        case .end(let trailers):
            receivedEnd(trailers)
        }
    }

    func channelInactive() {
        cancelTimers()
        abandonExchange()
    }

    /// The client is gone: the exchange in progress ends here, its upstream call is cancelled, its
    /// audit line written and a metered call settled or released. Leaves the state `.closed`.
    func abandonExchange() {
        switch machine.connectionLost() {
        case .connecting(let tx), .admitting(let tx), .inspecting(let tx):
            tx.audit.error = "client closed the connection"
            finishAudit(tx)
        case .forwarding(let tx, let connection):
            connection.delegate = nil
            connection.close()
            tx.audit.error = tx.audit.error ?? "client closed the connection"
            finishAudit(tx)
        case .localResponse(let tx, _):
            if !tx.progress.responseEnded { finishAudit(tx) }
        case .idle, .handedOff, .closed, .connectPending:
            break
        }
    }

    func writabilityChanged(isWritable: Bool) {
        if case .forwarding(_, let connection) = state {
            connection.setReadsHeld(!isWritable)
        }
    }

    /// Returns whether the error is the tunnel's to handle (the connection was handed off).
    func errorCaught(_ error: any Error, context: ChannelHandlerContext) -> Bool {
        if let parserError = error as? HTTPParserError {
            // A request cut off by the connection closing (a client that left, or shutdown quiescing an
            // idle connection) is reported just before channelInactive, which settles the exchange:
            // nobody is left to answer, and writing after the serialising handler finished
            // quiescing is a precondition failure.
            guard context.channel.isActive else { return false }
            refuseMalformedRequest(parserError)
            return false
        }
        if case .handedOff = state { return true }
        logger.debug("client connection error", metadata: ["error": "\(error)"])
        if error is NIOSSLError || error is BoringSSLError {
            services.metrics.clientTLSFailures.increment()
            logger.info("client TLS handshake failed; is the meshgate CA installed on the client? (meshgate ca export)", metadata: [
                "client_ip": "\(clientAddress?.ipAddress ?? "?")", "error": "\(error)",
            ])
        }
        closeConnection()
        return false
    }

    /// Returns whether the event is for the handlers after this one.
    func userEvent(_ event: Any) -> Bool {
        if event is IdleStateHandler.IdleStateEvent {
            closeConnection()
            return false
        }
        if case ChannelEvent.inputClosed = event, !machine.isHandedOff {
            clientClosedInput()
            return false
        }
        return true
    }
}

/// A listener's half of the exchange: what a request head means on that listener. The session has
/// already begun the exchange (access, header limits); the front decides who the caller is and
/// where the request goes, and hands it back to the session's filters or answers it.
protocol ExchangeFront: AnyObject {
    func exchangeStarted(_ tx: HTTPTransaction, session: ExchangeSession, context: ChannelHandlerContext)
}

// Not Sendable: confined to its channel's event loop. Futures it waits on are hopped there and
// observed through `assumeIsolated()`, which checks that they call back on it.
@available(*, unavailable)
extension ExchangeSession: Sendable {}
