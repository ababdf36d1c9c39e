import Logging
import MeshgateCore
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle

/// The `admin` listener as a ServiceLifecycle `Service`: `/healthz`, `/metrics`, `/proxy.pac`,
/// `/ca.pem`, `POST /admin/reload` and `GET /admin/usage` over HTTP/1.1, one request per connection.
///
/// On graceful shutdown it closes the listening socket and waits for the connections in flight
/// to finish their response; on cancellation it closes them at once.
public final class AdminServer: Service, Sendable {
    /// How long a client may stay silent before its connection is closed.
    private static let readTimeout = TimeAmount.seconds(10)

    private let configuration: AdminConfiguration
    private let router: AdminRouter
    private let group: any EventLoopGroup
    private let logger: Logger
    private let state = NIOLockedValueBox(ListenerState())

    /// Creates the server; nothing is bound until `run()`.
    public init(
        configuration: AdminConfiguration,
        registry: PrometheusCollectorRegistry,
        health: HealthRegistry,
        group: any EventLoopGroup,
        logger: Logger
    ) {
        self.configuration = configuration
        self.router = AdminRouter(configuration: configuration, registry: registry, health: health)
        self.group = group
        self.logger = logger
    }

    /// Installs the work behind `POST /admin/reload`: success answers 200 with the message,
    /// failure 500 with the error. Until one is set the endpoint answers 503. Concurrent
    /// reload requests call the handler concurrently.
    public func setReloadHandler(_ handler: @escaping @Sendable (_ requestedBy: String) async -> Result<String, any Error>) {
        router.setReloadHandler(handler)
    }

    /// Installs the work behind `GET /admin/usage[?team=T]` (admin token required): success answers
    /// 200 with the JSON, failure 503 with the error. Until one is set the endpoint answers 503.
    public func setUsageHandler(_ handler: @escaping @Sendable (_ team: String?) async -> Result<String, any Error>) {
        router.setUsageHandler(handler)
    }

    /// Installs what the dashboard reads (its pages and `/admin/api/`); until then its endpoints
    /// answer 503.
    public func setDashboard(_ hooks: DashboardHooks) {
        router.dashboard.withLockedValue { $0 = hooks }
    }

    /// The port actually bound (useful with port 0). Waits until `run()` has bound the socket;
    /// nil if binding failed or the server has stopped. Call it only after starting `run()`.
    public var boundPort: Int? {
        get async {
            await withCheckedContinuation { (continuation: CheckedContinuation<Int?, Never>) in
                let ready = state.withLockedValue { s -> Int?? in
                    switch s.phase {
                    case .bound(let port): return .some(port)
                    case .failed, .stopped: return .some(nil)
                    case .notStarted:
                        s.portWaiters.append(continuation)
                        return .none
                    }
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }

    /// Binds, serves until graceful shutdown or cancellation, then drains. Throws
    /// `AdminBindError` when the address cannot be bound.
    public func run() async throws {
        let server: any Channel
        do {
            server = try await bind()
        } catch {
            finish(phase: .failed)
            throw AdminBindError(host: configuration.bindHost, port: configuration.bindPort,
                                 underlying: SystemErrorText.bindFailure(error, key: "listeners.admin"))
        }
        let port = server.localAddress?.port ?? configuration.bindPort
        let waiters = state.withLockedValue { s -> [CheckedContinuation<Int?, Never>] in
            s.phase = .bound(port)
            defer { s.portWaiters = [] }
            return s.portWaiters
        }
        for waiter in waiters { waiter.resume(returning: port) }
        logger.info("admin listener started", metadata: ["address": "\(configuration.bindHost):\(port)"])

        await withTaskCancellationOrGracefulShutdownHandler {
            try? await server.closeFuture.get()
        } onCancelOrGracefulShutdown: {
            server.close(promise: nil)
        }

        // No connection registers after this point (see `childInitializer`), so the snapshot is complete.
        let (open, streams) = state.withLockedValue { s -> ([any Channel], [any Channel]) in
            s.accepting = false
            return (Array(s.connections.values), Array(s.streams.values))
        }
        if Task.isCancelled {
            for connection in open { connection.close(promise: nil) }
        }
        // A streamed response (the Live page) never finishes by itself; the browser reconnects elsewhere.
        for stream in streams { stream.close(promise: nil) }
        for connection in open {
            try? await connection.closeFuture.get()
        }
        finish(phase: .stopped)
        logger.info("admin listener stopped", metadata: ["address": "\(configuration.bindHost):\(port)"])
    }

    private func bind() async throws -> any Channel {
        guard (0...65535).contains(configuration.bindPort) else {
            throw AdminPortOutOfRange(port: configuration.bindPort)
        }
        let router = self.router
        let logger = self.logger
        let maxBody = configuration.maxRequestBodyBytes
        let state = self.state
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 128)
            .childChannelInitializer { channel in
                let accepted = state.withLockedValue { s -> Bool in
                    guard s.accepting else { return false }
                    s.connections[ObjectIdentifier(channel)] = channel
                    return true
                }
                guard accepted else { return channel.close() }
                channel.closeFuture.whenComplete { _ in
                    state.withLockedValue {
                        $0.connections.removeValue(forKey: ObjectIdentifier(channel))
                        $0.streams.removeValue(forKey: ObjectIdentifier(channel))
                    }
                }
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.configureHTTPServerPipeline(withErrorHandling: true)
                    try sync.addHandler(IdleStateHandler(readTimeout: Self.readTimeout))
                    try sync.addHandler(AdminHTTPHandler(router: router, maxBodyBytes: maxBody, logger: logger) { streaming in
                        let draining = state.withLockedValue { s -> Bool in
                            guard s.accepting else { return true }
                            s.streams[ObjectIdentifier(streaming)] = streaming
                            return false
                        }
                        if draining { streaming.close(promise: nil) }
                    })
                }
            }
            .bind(host: configuration.bindHost, port: configuration.bindPort)
            .get()
    }

    private func finish(phase: ListenerState.Phase) {
        let waiters = state.withLockedValue { s -> [CheckedContinuation<Int?, Never>] in
            s.phase = phase
            s.accepting = false
            defer { s.portWaiters = [] }
            return s.portWaiters
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }
}

extension AdminServer {
    fileprivate struct ListenerState: Sendable {
        enum Phase: Sendable {
            case notStarted
            case bound(Int)
            case failed
            case stopped
        }

        var phase: Phase = .notStarted
        var portWaiters: [CheckedContinuation<Int?, Never>] = []
        var accepting = true
        var connections: [ObjectIdentifier: any Channel] = [:]
        /// Connections carrying a streamed response.
        var streams: [ObjectIdentifier: any Channel] = [:]
    }
}

/// The admin listener could not bind its address.
public struct AdminBindError: Error, CustomStringConvertible, Sendable {
    /// `listeners.admin`'s host.
    public var host: String
    /// `listeners.admin`'s port.
    public var port: Int
    /// The system's reason.
    public var underlying: String

    /// A one-line cause with the fix.
    public var description: String {
        "cannot listen on \(host):\(port) for listeners.admin: \(underlying)"
    }
}

/// `listeners.admin` names a port outside 0...65535.
struct AdminPortOutOfRange: Error, CustomStringConvertible {
    var port: Int
    var description: String { "port \(port) is outside 0...65535" }
}
