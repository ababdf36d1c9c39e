import MeshgateCore
import NIOCore
import NIOHTTP1

/// Receives what an upstream connection produces while it serves one transaction.
/// Always called on the connection's event loop.
protocol UpstreamConnectionDelegate: AnyObject {
    func upstream(_ connection: UpstreamConnection, didReceive part: HTTPClientResponsePart)
    func upstream(_ connection: UpstreamConnection, didCloseWith error: (any Error)?)
    func upstreamWritabilityChanged(_ connection: UpstreamConnection)
}

/// Identifies connections that may be reused for each other.
struct UpstreamKey: Hashable {
    var scheme: String
    var origin: HostPort
    var serverName: String?
    /// The address to connect to instead of resolving `origin` (transparent connections).
    var pinned: SocketAddress?
    /// Chosen by the operator, so not checked by the ``DestinationGuard``.
    var configured = false
}

/// One HTTP/1.1 connection to an origin (plain or verified TLS), lent to one client transaction at a time.
/// Lives on one event loop; all access happens there.
final class UpstreamConnection {
    let channel: any Channel
    let key: UpstreamKey
    weak var delegate: (any UpstreamConnectionDelegate)?
    /// Whether the last response allows another request on this connection.
    var reusable = true
    /// When the connection went back to the pool (for idle expiry).
    var idleSince: NIODeadline = .now()
    private(set) var isClosed = false
    fileprivate var responseHandler: UpstreamResponseHandler?

    init(channel: any Channel, key: UpstreamKey) {
        self.channel = channel
        self.key = key
    }

    var isUsable: Bool { !isClosed && channel.isActive && reusable }

    func write(_ part: HTTPClientRequestPart, promise: EventLoopPromise<Void>? = nil) {
        channel.write(part, promise: promise)
    }

    func flush() { channel.flush() }

    /// Holds or resumes reading responses (back-pressure when the client is slow).
    func setReadsHeld(_ held: Bool) { responseHandler?.setReadsHeld(held) }

    func close() {
        guard !isClosed else { return }
        channel.close(promise: nil)
    }

    fileprivate func markClosed(error: (any Error)?) {
        guard !isClosed else { return }
        isClosed = true
        delegate?.upstream(self, didCloseWith: error)
    }
}

// Not Sendable: only touched on its channel's event loop.
@available(*, unavailable)
extension UpstreamConnection: Sendable {}

/// Last handler of an upstream pipeline: passes response parts to the connection's delegate,
/// records keep-alive, and holds reads while the client cannot take more.
final class UpstreamResponseHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    private weak var connection: UpstreamConnection?
    private var context: ChannelHandlerContext?
    private var readsHeld = false
    private var pendingRead = false
    private var pendingError: (any Error)?

    init(connection: UpstreamConnection) {
        self.connection = connection
        connection.responseHandler = self
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func setReadsHeld(_ held: Bool) {
        readsHeld = held
        if !held, pendingRead, let context {
            pendingRead = false
            context.read()
        }
    }
}

extension UpstreamResponseHandler {
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        guard let connection else { return }
        if case .head(let head) = part, head.status != .continue {
            connection.reusable = head.isKeepAlive
        }
        connection.delegate?.upstream(connection, didReceive: part)
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection?.markClosed(error: pendingError)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        pendingError = error
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if let connection { connection.delegate?.upstreamWritabilityChanged(connection) }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if readsHeld {
            pendingRead = true
        } else {
            context.read()
        }
    }
}
