import Logging
import MeshgateAudit
import MeshgateCore
import MeshgatePolicy
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NIOExtras
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The `dns` listener as a ServiceLifecycle service: the filtering forwarder on UDP and TCP at
/// one address (IPv4 or IPv6). UDP gets one socket per event loop (SO_REUSEPORT), so queries
/// spread over every core and each stays on the loop it arrived on, forwarding included.
public final class DNSServer: Service, Sendable {
    /// Addresses recently answered per name and client, for the transparent proxy.
    public let memory: DNSAnswerMemory
    /// The answer cache.
    public let cache: DNSCache
    private let host: String
    private let port: Int
    private let group: any EventLoopGroup
    private let logger: Logger
    private let processor: DNSQueryProcessor
    private let forwarder: DNSForwarder
    private let bound: EventLoopPromise<SocketAddress>
    private let listening = NIOLockedValueBox<String?>(nil)
    /// Datagrams received per UDP socket; tests read how they were shared out.
    let udpDatagrams = NIOLockedValueBox<[DatagramCounter]>([])

    /// Creates the listener; nothing is bound until `run()`.
    ///
    /// - Parameters:
    ///   - policy: the policy in force, read once per query (so reloads apply at once).
    ///   - metricsFactory: where the counters go; the global `MetricsSystem` when nil.
    public init(
        host: String, port: Int, configuration: DNSFilterConfiguration,
        policy: @escaping @Sendable () -> PolicyEngine,
        identities: any IdentityResolver = NoIdentities(),
        audit: any AuditSink,
        group: any EventLoopGroup,
        logger: Logger,
        clock: any DNSClock = SystemDNSClock(),
        metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.host = host
        self.port = port
        self.group = group
        self.logger = logger
        let metrics = DNSMetrics(factory: metricsFactory)
        cache = DNSCache(capacity: configuration.cacheCapacity, minTTL: configuration.minTTL, maxTTL: configuration.maxTTL,
                         maxNegativeTTL: configuration.maxNegativeTTL, clock: clock)
        memory = DNSAnswerMemory(clock: clock)
        forwarder = DNSForwarder(upstreams: configuration.upstreams, timeout: configuration.upstreamTimeout, metrics: metrics,
                                 socketMark: configuration.socketMark)
        processor = DNSQueryProcessor(configuration: configuration, policy: policy, identities: identities, audit: audit,
                                      cache: cache, memory: memory, forwarder: forwarder, metrics: metrics)
        bound = group.next().makePromise(of: SocketAddress.self)
    }

    /// The address the listener bound (useful with port 0).
    public var localAddress: SocketAddress {
        get async throws { try await bound.futureResult.get() }
    }

    /// Nil while healthy; otherwise why not (not listening, or no upstream answering).
    public var healthProblem: String? {
        guard listening.withLockedValue({ $0 }) != nil else { return "not listening" }
        guard let failing = forwarder.failing.withLockedValue({ $0 }) else { return nil }
        return "no upstream answered since \(RFC3339.timestamp(millis: failing.sinceMillis)): \(failing.cause)"
    }

    /// Facts for `/healthz`: the listening address and the upstreams.
    public var healthDetails: [String: String] {
        var details = ["upstreams": forwarder.upstreams.map(\.auditDescription).joined(separator: ",")]
        if let address = listening.withLockedValue({ $0 }) { details["address"] = address }
        return details
    }

    /// Binds UDP and TCP, serves until graceful shutdown, then closes everything.
    public func run() async throws {
        var channels: [any Channel] = []
        do {
            try await forwarder.start(group: group)
            channels = try await bindAll()
        } catch {
            for channel in channels { try? await channel.close() }
            await forwarder.stop()
            let failure = ListenerBindError(listener: "dns", address: "\(host):\(port)", underlying: error)
            bound.fail(failure)
            throw failure
        }
        guard let address = channels.first?.localAddress else { return }
        listening.withLockedValue { $0 = address.auditDescription }
        bound.succeed(address)
        logger.info("dns listener started", metadata: ["address": "\(address.auditDescription)", "transports": "udp,tcp",
                                                        "upstreams": "\(forwarder.upstreams.map(\.auditDescription).joined(separator: ","))"])
        let all = channels
        await withTaskCancellationOrGracefulShutdownHandler {
            for channel in all { try? await channel.closeFuture.get() }
        } onCancelOrGracefulShutdown: {
            for channel in all { channel.close(promise: nil) }
        }
        listening.withLockedValue { $0 = nil }
        await forwarder.stop()
    }

    /// One UDP socket per loop and one TCP listener on the same port. With port 0 the first UDP
    /// socket picks the port and the rest follow it (retrying if TCP finds it taken).
    private func bindAll() async throws -> [any Channel] {
        let loops = Array(group.makeIterator())
        var attempt = 0
        while true {
            attempt += 1
            var channels: [any Channel] = []
            do {
                var port = self.port
                for loop in loops {
                    let channel = try await bindUDP(on: loop, port: port, reusePort: loops.count > 1)
                    channels.append(channel)
                    port = channel.localAddress?.port ?? port
                }
                channels.append(try await bindTCP(port: port))
                if loops.count > 1, let first = channels.first {
                    do {
                        try await ReusePortSpread.attach(to: first, sockets: loops.count)
                    } catch {
                        logger.notice("dns: queries from one source port will all be answered on one thread (the kernel refused the reuseport program)", metadata: ["error": "\(error)"])
                    }
                }
                return channels
            } catch {
                for channel in channels { try? await channel.close() }
                guard self.port == 0, attempt < 5 else { throw error }
            }
        }
    }

    private func bindUDP(on loop: any EventLoop, port: Int, reusePort: Bool) async throws -> any Channel {
        let processor = self.processor
        var bootstrap = DatagramBootstrap(group: loop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.maxMessagesPerRead, value: 32)
            // recvmmsg: up to 16 queries per system call; the receive buffer is split between them.
            .channelOption(.datagramVectorReadMessageCount, value: 16)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 16 * 4096))
        if reusePort { bootstrap = bootstrap.channelOption(.socketOption(NIOBSDSocket.Option(rawValue: SO_REUSEPORT)), value: 1) }
        return try await bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let counter = DatagramCounter()
                    self.udpDatagrams.withLockedValue { $0.append(counter) }
                    try channel.pipeline.syncOperations.addHandler(DNSUDPHandler(processor: processor, counter: counter))
                }
            }
            .bind(host: host, port: port)
            .get()
    }

    private func bindTCP(port: Int) async throws -> any Channel {
        let processor = self.processor
        let idle = processor.configuration.tcpIdleTimeout
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let ops = channel.pipeline.syncOperations
                    try ops.addHandler(IdleStateHandler(readTimeout: idle))
                    try ops.addHandler(ByteToMessageHandler(LengthFieldBasedFrameDecoder(lengthFieldBitLength: .twoBytes)))
                    try ops.addHandler(DNSTCPHandler(processor: processor))
                }
            }
            .bind(host: host, port: port)
            .get()
    }
}
