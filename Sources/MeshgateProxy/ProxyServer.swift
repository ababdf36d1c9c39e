import Logging
import MeshgateCore
import NIOConcurrencyHelpers
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// A proxy listener as a ServiceLifecycle service: `explicit` (an HTTP forward proxy for
/// absolute-form requests and CONNECT) or `transparent` (TCP that nftables redirected here, see
/// ``TransparentConnection``). On graceful shutdown it stops accepting, lets in-flight requests
/// finish (up to `shutdownGrace`), then closes what is left.
public final class ProxyServer: Service, Sendable {
    /// Which listener this is (`listeners.explicit` or `listeners.transparent`).
    public enum Listener: String, Sendable {
        case explicit, transparent, ai

        func setUp(_ channel: any Channel, services: ProxyServices) -> EventLoopFuture<Void> {
            switch self {
            case .explicit, .ai:
                let mode: ProxyRequestMode = self == .ai ? .aiGateway : .explicit
                return channel.eventLoop.makeCompletedFuture {
                    let ops = channel.pipeline.syncOperations
                    try ops.addHandler(IdleTimeoutHandler(timeout: services.configuration.idleTimeout))
                    try ProxyPipeline.addHTTPServerHandlers(to: ops, services: services, mode: mode, identity: nil)
                }
            case .transparent:
                return TransparentConnection.setUp(channel, services: services)
            }
        }
    }

    private let listener: Listener
    private let host: String
    private let port: Int
    private let services: ProxyServices
    private let group: any EventLoopGroup
    private let shutdownGrace: TimeAmount
    private let bound: EventLoopPromise<SocketAddress>
    private let openChannels = OpenChannels()

    /// Creates the listener; nothing is bound until `run()`.
    public init(_ listener: Listener, host: String, port: Int, services: ProxyServices, group: any EventLoopGroup,
                shutdownGrace: TimeAmount = .seconds(30)) {
        self.listener = listener
        self.host = host
        self.port = port
        self.services = services
        self.group = group
        self.shutdownGrace = shutdownGrace
        self.bound = group.next().makePromise(of: SocketAddress.self)
    }

    /// The address the listener bound (useful with port 0).
    public var localAddress: SocketAddress {
        get async throws { try await bound.futureResult.get() }
    }

    /// Binds, serves until graceful shutdown, then drains.
    public func run() async throws {
        let services = self.services
        let listener = self.listener
        // Only redirected connections can come back to us through our own upstream sockets.
        if listener == .transparent { services.ownConnections.enable() }
        let group = self.group, bound = self.bound, shutdownGrace = self.shutdownGrace, openChannels = self.openChannels
        let quiesce = ServerQuiescingHelper(group: group)
        let serverChannel: any Channel
        do {
            serverChannel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                    }
                }
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelInitializer { channel in
                    services.metrics.activeConnections.increment()
                    openChannels.track(channel)
                    channel.closeFuture.whenComplete { _ in services.metrics.activeConnections.decrement() }
                    return listener.setUp(channel, services: services)
                }
                .bind(host: host, port: port)
                .get()
        } catch {
            let failure = ListenerBindError(listener: listener.rawValue, address: "\(host):\(port)", underlying: error)
            bound.fail(failure)
            throw failure
        }
        if let address = serverChannel.localAddress {
            services.registerListener(address)
            bound.succeed(address)
        }
        services.logger.info(listener == .ai ? "ai gateway listening" : "\(listener.rawValue) proxy listening", metadata: ["address": "\(serverChannel.localAddress?.auditDescription ?? "?")"])
        let drained = group.next().makePromise(of: Void.self)
        let initiated = NIOLockedValueBox(false)
        let initiate: @Sendable () -> Void = {
            let first = initiated.withLockedValue { done -> Bool in
                defer { done = true }
                return !done
            }
            if first { quiesce.initiateShutdown(promise: drained) }
        }
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                try? await serverChannel.closeFuture.get()
            } onGracefulShutdown: {
                initiate()
            }
        } onCancel: {
            initiate()
        }
        initiate()
        // In-flight exchanges get their grace period; whatever is still open then is cut.
        let grace = shutdownGrace
        let eventLoop = group.next()
        // Whichever comes first. (Awaiting `drained` in a task group does not work: a future's get()
        // ignores cancellation, so the group waited for the last connection however long it took.)
        let drainedOrGraceOver = eventLoop.makePromise(of: Void.self)
        drained.futureResult.whenComplete { _ in drainedOrGraceOver.succeed(()) }
        let graceTimer = eventLoop.scheduleTask(in: grace) { drainedOrGraceOver.succeed(()) }
        _ = try? await drainedOrGraceOver.futureResult.get()
        graceTimer.cancel()
        let remaining = openChannels.count
        if remaining > 0 {
            services.logger.notice("shutdown grace over; closing the connections still open", metadata: [
                "listener": "\(listener.rawValue)", "connections": "\(remaining)", "grace_ms": "\(grace.nanoseconds / 1_000_000)",
            ])
        }
        _ = try? await openChannels.closeAll(on: eventLoop).get()
        _ = try? await (services.closeIdleUpstreams() ?? eventLoop.makeSucceededVoidFuture()).get()
    }
}
