import Logging
import MeshgateCore
import NIOConcurrencyHelpers
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The `explicit` listener: an HTTP forward proxy (absolute-form requests and CONNECT) as a
/// ServiceLifecycle service. On graceful shutdown it stops accepting, lets in-flight requests
/// finish (up to `shutdownGrace`), then closes what is left.
public final class ExplicitProxyServer: Service, Sendable {
    private let host: String
    private let port: Int
    private let services: ProxyServices
    private let group: any EventLoopGroup
    private let shutdownGrace: TimeAmount
    private let bound: EventLoopPromise<SocketAddress>

    /// Creates the listener; nothing is bound until `run()`.
    public init(host: String, port: Int, services: ProxyServices, group: any EventLoopGroup, shutdownGrace: TimeAmount = .seconds(30)) {
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
        let quiesce = ServerQuiescingHelper(group: group)
        let services = self.services
        let idle = services.configuration.idleTimeout
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
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelInitializer { channel in
                    services.metrics.activeConnections.increment()
                    channel.closeFuture.whenComplete { _ in services.metrics.activeConnections.decrement() }
                    return channel.eventLoop.makeCompletedFuture {
                        let ops = channel.pipeline.syncOperations
                        try ops.addHandler(IdleStateHandler(allTimeout: idle))
                        try ProxyPipeline.addHTTPServerHandlers(to: ops, services: services, mode: .explicit, identity: nil)
                    }
                }
                .bind(host: host, port: port)
                .get()
        } catch {
            let failure = ListenerBindError(listener: "explicit", address: "\(host):\(port)", underlying: error)
            bound.fail(failure)
            throw failure
        }
        if let address = serverChannel.localAddress {
            services.registerListener(address)
            bound.succeed(address)
        }
        services.logger.info("explicit proxy listening", metadata: ["address": "\(serverChannel.localAddress?.auditDescription ?? "?")"])

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
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { _ = try? await drained.futureResult.get() }
            tasks.addTask { try? await Task.sleep(nanoseconds: UInt64(max(0, grace.nanoseconds))) }
            await tasks.next()
            tasks.cancelAll()
        }
        _ = try? await (services.closeIdleUpstreams() ?? eventLoop.makeSucceededVoidFuture()).get()
    }
}
