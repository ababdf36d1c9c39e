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
        let services = self.services
        let idle = services.configuration.idleTimeout
        try await ProxyListener.serve(
            name: "explicit", logMessage: "explicit proxy listening", host: host, port: port, services: services,
            group: group, shutdownGrace: shutdownGrace, bound: bound
        ) { channel in
            channel.eventLoop.makeCompletedFuture {
                let ops = channel.pipeline.syncOperations
                try ops.addHandler(IdleStateHandler(allTimeout: idle))
                try ProxyPipeline.addHTTPServerHandlers(to: ops, services: services, mode: .explicit, identity: nil)
            }
        }
    }
}
