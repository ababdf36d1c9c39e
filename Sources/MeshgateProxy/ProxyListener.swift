import Logging
import MeshgateCore
import NIOConcurrencyHelpers
import NIOCore
import NIOExtras
import NIOPosix
import ServiceLifecycle

/// What the proxy listeners share: bind, count connections, serve until graceful shutdown, then
/// stop accepting, give in-flight exchanges `shutdownGrace` and close what is left.
enum ProxyListener {
    static func serve(
        name: String,
        logMessage: String,
        host: String,
        port: Int,
        services: ProxyServices,
        group: any EventLoopGroup,
        shutdownGrace: TimeAmount,
        bound: EventLoopPromise<SocketAddress>,
        childInitializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) async throws {
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
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelInitializer { channel in
                    services.metrics.activeConnections.increment()
                    channel.closeFuture.whenComplete { _ in services.metrics.activeConnections.decrement() }
                    return childInitializer(channel)
                }
                .bind(host: host, port: port)
                .get()
        } catch {
            let failure = ListenerBindError(listener: name, address: "\(host):\(port)", underlying: error)
            bound.fail(failure)
            throw failure
        }
        if let address = serverChannel.localAddress {
            services.registerListener(address)
            bound.succeed(address)
        }
        services.logger.info("\(logMessage)", metadata: ["address": "\(serverChannel.localAddress?.auditDescription ?? "?")"])
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
