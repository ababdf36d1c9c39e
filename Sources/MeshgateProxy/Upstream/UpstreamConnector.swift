import MeshgateCore
import MeshgateTLS
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS

/// Why an origin could not be reached, in words a person can act on, and the status the client gets.
struct UpstreamFailure: Error, CustomStringConvertible {
    var status: HTTPResponseStatus
    var description: String
    /// The `meshgate_proxy_upstream_errors_total` kind label.
    var kind: String
}

/// Opens connections to origins: TCP, then verified TLS for https (SNI sent, handshake completed before
/// the connection is handed out so certificate problems surface as a 502 naming them).
struct UpstreamConnector {
    var tlsContext: NIOSSLContext
    var connectTimeout: TimeAmount
    var staticHosts: [String: String] = [:]
    /// Checks client-chosen destinations by the address they resolve to (nil: no check).
    var destinationGuard: DestinationGuard?
    /// `SO_MARK` for every upstream socket, so the node's redirect rules can exempt meshgate's own
    /// connections (needs CAP_NET_ADMIN).
    var socketMark: Int32?
    /// Told about each connected upstream channel.
    var onConnect: (@Sendable (any Channel) -> Void)?

    func connect(_ key: UpstreamKey, on eventLoop: any EventLoop) -> EventLoopFuture<NIOLoopBound<UpstreamConnection>> {
        let handshake = eventLoop.makePromise(of: Void.self)
        let tlsContext = self.tlsContext
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.autoRead, value: true)
            .marked(socketMark)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let ops = channel.pipeline.syncOperations
                    if key.scheme == "https" {
                        let tls = try NIOSSLClientHandler(context: tlsContext, serverHostname: key.serverName)
                        try ops.addHandler(tls)
                        try ops.addHandler(HandshakeWaiter(promise: handshake))
                    } else {
                        handshake.succeed(())
                    }
                    // Added by hand (not addHTTPClientHandlers) so no header validator sits in the way of the
                    // raw bytes a WebSocket upgrade later sends through this pipeline.
                    try ops.addHandler(HTTPRequestEncoder())
                    try ops.addHandler(ByteToMessageHandler(HTTPResponseDecoder(
                        leftOverBytesStrategy: .forwardBytes,
                        informationalResponseStrategy: .forward
                    )))
                }
            }
        let host = staticHosts[key.origin.host] ?? key.origin.host
        let port = key.origin.port
        let description = key.origin.description
        let timeout = connectTimeout
        let onConnect = self.onConnect
        let connected = bootstrap.connect(host: host, port: port, pinned: key.pinned,
                                          guard: key.configured || staticHosts[key.origin.host] != nil ? nil : destinationGuard,
                                          on: eventLoop)
            .map { channel -> any Channel in
                onConnect?(channel)
                return channel
            }
        return connected
            .flatMapError { error in
                // No channel, so no TLS handler will ever settle the handshake.
                handshake.fail(error)
                return eventLoop.makeFailedFuture(Self.classify(connectError: error, target: description, timeout: timeout)) as EventLoopFuture<any Channel>
            }
            .flatMap { channel in
                handshake.futureResult.flatMapError { error in
                    channel.close(promise: nil)
                    let handshakeError = error as? UpstreamHandshakeError
                    let reason = UpstreamTLS.describe(
                        handshakeError?.underlying ?? error,
                        host: key.serverName ?? host,
                        peerCertificate: handshakeError?.peerCertificate
                    )
                    let failure = UpstreamFailure(
                        status: .badGateway,
                        description: "TLS to \(description) failed: \(reason)",
                        kind: "tls"
                    )
                    return eventLoop.makeFailedFuture(failure) as EventLoopFuture<Void>
                }.flatMapThrowing {
                    let connection = UpstreamConnection(channel: channel, key: key)
                    try channel.pipeline.syncOperations.addHandler(UpstreamResponseHandler(connection: connection))
                    // The connection lives on `eventLoop`, the client's, where the caller picks it up.
                    return NIOLoopBound(connection, eventLoop: eventLoop)
                }
            }
    }

    static func classify(connectError error: any Error, target: String, timeout: TimeAmount) -> UpstreamFailure {
        if let refused = DestinationRefused.find(in: error) {
            return UpstreamFailure(status: .forbidden, description: refused.description, kind: "destination")
        }
        if let channelError = error as? ChannelError, case .connectTimeout = channelError {
            return UpstreamFailure(status: .gatewayTimeout, description: "connecting to \(target) timed out after \(timeout.nanoseconds / 1_000_000_000)s (limits.upstream_connect_timeout)", kind: "timeout")
        }
        if let connectionError = error as? NIOConnectionError {
            if connectionError.connectionErrors.isEmpty, connectionError.dnsAError != nil || connectionError.dnsAAAAError != nil {
                return UpstreamFailure(status: .badGateway, description: "could not resolve \(connectionError.host)", kind: "dns")
            }
            if connectionError.connectionErrors.contains(where: { ($0.error as? ChannelError).map { if case .connectTimeout = $0 { true } else { false } } ?? false }) {
                return UpstreamFailure(status: .gatewayTimeout, description: "connecting to \(target) timed out after \(timeout.nanoseconds / 1_000_000_000)s (limits.upstream_connect_timeout)", kind: "timeout")
            }
            let first = connectionError.connectionErrors.first.map { SystemErrorText.describe($0.error) } ?? "no address"
            return UpstreamFailure(status: .badGateway, description: "could not connect to \(target): \(first)", kind: "connect")
        }
        return UpstreamFailure(status: .badGateway, description: "could not connect to \(target): \(SystemErrorText.describe(error))", kind: "connect")
    }
}

/// Completes a promise when the upstream TLS handshake finishes (or fails), then steps aside.
final class HandshakeWaiter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    private var promise: EventLoopPromise<Void>?

    init(promise: EventLoopPromise<Void>) { self.promise = promise }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
            promise?.succeed(())
            promise = nil
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let promise {
            self.promise = nil
            // The certificate the origin presented turns BoringSSL's generic verify failure into a
            // specific cause (expired, unknown issuer, wrong name).
            let peer = (try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self))?.peerCertificate
            promise.fail(UpstreamHandshakeError(underlying: error, peerCertificate: peer))
        }
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let promise {
            self.promise = nil
            promise.fail(ChannelError.eof)
        }
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        promise?.fail(ChannelError.ioOnClosedChannel)
        promise = nil
    }
}

/// A failed upstream handshake together with the certificate the origin presented, if any.
struct UpstreamHandshakeError: Error {
    var underlying: any Error
    var peerCertificate: NIOSSLCertificate?
}

extension ClientBootstrap {
    /// Connects to `pinned` when given, else to `host` resolved; with a guard, only to addresses it allows.
    func connect(host: String, port: Int, pinned: SocketAddress?, guard destinationGuard: DestinationGuard?,
                 on eventLoop: any EventLoop) -> EventLoopFuture<any Channel> {
        guard let destinationGuard else {
            return pinned.map { connect(to: $0) } ?? connect(host: host, port: port)
        }
        if let pinned {
            if let reason = destinationGuard.refusal(for: pinned) {
                let address = pinned.ipAddress ?? "?"
                return eventLoop.makeFailedFuture(DestinationRefused(host: address, address: address, reason: reason))
            }
            return connect(to: pinned)
        }
        return resolver(GuardedResolver(loop: eventLoop, host: host, guard: destinationGuard)).connect(host: host, port: port)
    }

    /// Sets `SO_MARK` when a mark is configured.
    func marked(_ mark: Int32?) -> ClientBootstrap {
        guard let mark else { return self }
        return channelOption(ChannelOptions.Types.SocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_MARK)), value: SocketOptionValue(mark))
    }
}
