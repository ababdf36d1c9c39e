import Logging
import MeshgateAudit
import MeshgateCore
import MeshgatePolicy
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

@testable import MeshgateDNS

enum TestGroup {
    static let shared = MultiThreadedEventLoopGroup(numberOfThreads: 2)
}

enum TestProcessor {
    /// A processor whose forwarder never runs: for the replay and synthesis paths.
    static func make(configuration: DNSFilterConfiguration = DNSFilterConfiguration(upstreams: []),
                     policy: @escaping @Sendable () -> PolicyEngine = { .empty }, audit: MemoryAuditSink = MemoryAuditSink()) throws -> DNSQueryProcessor {
        let metrics = DNSMetrics()
        return DNSQueryProcessor(configuration: configuration, policy: policy, identities: NoIdentities(), audit: audit,
                                 cache: DNSCache(), memory: DNSAnswerMemory(), forwarder: DNSForwarder(upstreams: [], timeout: .seconds(1), metrics: metrics),
                                 metrics: metrics)
    }
}

/// Rules over the host list only, as DNS sees them.
func testPolicy(_ yaml: String, portal: String? = "https://portal.example.com/mcp") throws -> PolicyEngine {
    let ruleset = try Ruleset.parse(yaml: yaml, file: "test.yaml")
    return try PolicyEngine(rulesets: [ruleset], regexCompiler: NoRegexes(), portal: portal)
}

struct NoRegexes: RegexCompiler {
    struct Unsupported: Error {}
    func compile(_ pattern: String) throws -> any CompiledRegex { throw Unsupported() }
}

/// A scripted upstream resolver on 127.0.0.1 (UDP and TCP on one port). By first label:
/// `big…` is truncated over UDP and 40 records over TCP; `nx…` is NXDOMAIN with a SOA;
/// `alias…` is a CNAME to mcp.linear.app; `slow…` is never answered; anything else gets
/// 192.0.2.1 (A) or 2001:db8::1 (AAAA) with TTL 300. With `failing`, every answer is SERVFAIL.
final class TestUpstream: Sendable {
    let udp: any Channel
    let tcp: any Channel
    let state: NIOLockedValueBox<[String]>
    var port: Int { udp.localAddress?.port ?? 0 }
    var address: SocketAddress { udp.localAddress! }
    var queries: [String] { state.withLockedValue { $0 } }

    init(failing: Bool = false) async throws {
        let state = NIOLockedValueBox<[String]>([])
        self.state = state
        // UDP picks a free port; TCP may find it taken by some client's connection: try again.
        var attempt = 0
        while true {
            attempt += 1
            let udp = try await DatagramBootstrap(group: TestGroup.shared)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(UDPResponder(state: state, failing: failing)) }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            do {
                tcp = try await ServerBootstrap(group: TestGroup.shared)
                    .childChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(TwoByteFrames()))
                            try channel.pipeline.syncOperations.addHandler(TCPResponder(state: state, failing: failing))
                        }
                    }
                    .bind(host: "127.0.0.1", port: udp.localAddress?.port ?? 0).get()
                self.udp = udp
                return
            } catch {
                try? await udp.close()
                if attempt >= 10 { throw error }
            }
        }
    }

    func close() async {
        try? await udp.close()
        try? await tcp.close()
    }

    static func answer(_ bytes: [UInt8], overTCP: Bool, failing: Bool, state: NIOLockedValueBox<[String]>) -> [UInt8]? {
        guard let query = try? DNSMessage(decoding: bytes), let question = query.questions.first else { return nil }
        let qname = question.name.description
        state.withLockedValue { $0.append("\(overTCP ? "tcp" : "udp") \(qname) \(question.type)") }
        var header = query.header
        header.isResponse = true
        header.recursionAvailable = true
        var reply = DNSMessage(header: header, questions: [question])
        reply.edns = query.edns.map { _ in DNSEDNS(udpPayloadSize: 1232) }
        let first = qname.split(separator: ".").first.map(String.init) ?? ""
        if failing {
            reply.header.rcode = .serverFailure
        } else if first.hasPrefix("slow") {
            return nil
        } else if first.hasPrefix("big") {
            if overTCP {
                reply.answers = (0..<40).map { .address(question.name, [10, 0, 0, UInt8($0)], ttl: 300) }
            } else {
                reply.header.truncated = true
            }
        } else if first.hasPrefix("nx") {
            reply.header.rcode = .nameError
            let soa = DNSSOA(primary: try! DNSName("ns.test"), mailbox: try! DNSName("h.test"), serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 60)
            reply.authorities = [DNSRecord(name: try! DNSName("test"), type: .soa, ttl: 60, data: .soa(soa))]
        } else if first.hasPrefix("alias") {
            let target = try! DNSName("mcp.linear.app")
            reply.answers = [DNSRecord(name: question.name, type: .cname, ttl: 300, data: .cname(target)), .address(target, [192, 0, 2, 55], ttl: 300)]
        } else if question.type == .a {
            reply.answers = [.address(question.name, [192, 0, 2, 1], ttl: 300)]
        } else if question.type == .aaaa {
            reply.answers = [.address(question.name, [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1], ttl: 300)]
        }
        return try? reply.encoded()
    }

    final class UDPResponder: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        typealias OutboundOut = AddressedEnvelope<ByteBuffer>
        let state: NIOLockedValueBox<[String]>
        let failing: Bool
        init(state: NIOLockedValueBox<[String]>, failing: Bool) {
            self.state = state
            self.failing = failing
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            guard let reply = TestUpstream.answer(Array(envelope.data.readableBytesView), overTCP: false, failing: failing, state: state) else { return }
            context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: ByteBuffer(bytes: reply))), promise: nil)
        }
    }

    final class TCPResponder: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let state: NIOLockedValueBox<[String]>
        let failing: Bool
        init(state: NIOLockedValueBox<[String]>, failing: Bool) {
            self.state = state
            self.failing = failing
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard let reply = TestUpstream.answer(Array(unwrapInboundIn(data).readableBytesView), overTCP: true, failing: failing, state: state) else { return }
            var buffer = ByteBuffer()
            buffer.writeInteger(UInt16(reply.count))
            buffer.writeBytes(reply)
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }
    }
}

/// Splits a TCP stream into DNS messages (2-byte big-endian length prefix).
struct TwoByteFrames: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
              buffer.readableBytes >= 2 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 2)
        guard let frame = buffer.readSlice(length: Int(length)) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }
}

/// A DNS client for tests: one UDP exchange, or several queries down one TCP connection.
enum TestClient {
    static func query(_ name: String, _ type: DNSType = .a, id: UInt16 = 0x4242, edns: Bool = true) throws -> [UInt8] {
        var header = DNSHeader(id: id)
        header.recursionDesired = true
        var message = DNSMessage(header: header, questions: [DNSQuestion(name: try DNSName(name), type: type)])
        if edns { message.edns = DNSEDNS(udpPayloadSize: 1232) }
        return try message.encoded()
    }

    /// Sends `packets` from one UDP socket and collects replies until `expect` arrived or 3 s passed.
    static func udp(_ packets: [[UInt8]], to server: SocketAddress, expect: Int = 1) async throws -> [DNSMessage] {
        let received = NIOLockedValueBox<[[UInt8]]>([])
        let channel = try await DatagramBootstrap(group: TestGroup.shared)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Collector<AddressedEnvelope<ByteBuffer>>(received: received) { Array($0.data.readableBytesView) }) }
            }
            .bind(host: server.protocol == .inet6 ? "::1" : "127.0.0.1", port: 0).get()
        for packet in packets {
            try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: server, data: ByteBuffer(bytes: packet)))
        }
        for _ in 0..<300 where received.withLockedValue({ $0.count }) < expect {
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        try? await channel.close()
        return try received.withLockedValue { $0 }.map { try DNSMessage(decoding: $0) }
    }

    static func udp(_ name: String, _ type: DNSType = .a, to server: SocketAddress, edns: Bool = true) async throws -> DNSMessage? {
        try await udp([try query(name, type, edns: edns)], to: server).first
    }

    /// Sends every query down one connection and waits for as many answers.
    static func tcp(_ queries: [[UInt8]], to server: SocketAddress) async throws -> [DNSMessage] {
        let received = NIOLockedValueBox<[[UInt8]]>([])
        let channel = try await ClientBootstrap(group: TestGroup.shared)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(TwoByteFrames()))
                    try channel.pipeline.syncOperations.addHandler(Collector<ByteBuffer>(received: received) { Array($0.readableBytesView) })
                }
            }
            .connect(to: server).get()
        var buffer = ByteBuffer()
        for query in queries {
            buffer.writeInteger(UInt16(query.count))
            buffer.writeBytes(query)
        }
        try await channel.writeAndFlush(buffer)
        for _ in 0..<300 where received.withLockedValue({ $0.count }) < queries.count {
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        try? await channel.close()
        return try received.withLockedValue { $0 }.map { try DNSMessage(decoding: $0) }
    }

    /// Keeps the bytes of every message read (datagrams or TCP frames).
    final class Collector<Message>: ChannelInboundHandler {
        typealias InboundIn = Message
        let received: NIOLockedValueBox<[[UInt8]]>
        let bytes: (Message) -> [UInt8]
        init(received: NIOLockedValueBox<[[UInt8]]>, bytes: @escaping (Message) -> [UInt8]) {
            self.received = received
            self.bytes = bytes
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let message = bytes(unwrapInboundIn(data))
            received.withLockedValue { $0.append(message) }
        }
    }
}

/// A running DNSServer on 127.0.0.1:0 with a memory audit sink, for in-process tests.
struct RunningServer {
    let server: DNSServer
    let audit: MemoryAuditSink
    let address: SocketAddress
    let task: Task<Void, any Error>

    static func start(upstreams: [SocketAddress], policy: PolicyEngine = .empty, host: String = "127.0.0.1",
                      configure: (inout DNSFilterConfiguration) -> Void = { _ in }) async throws -> RunningServer {
        var configuration = DNSFilterConfiguration(upstreams: upstreams, redirectIPv4: [192, 0, 2, 10], upstreamTimeout: .milliseconds(300))
        configure(&configuration)
        let audit = MemoryAuditSink()
        let holder = NIOLockedValueBox(policy)
        let server = DNSServer(host: host, port: 0, configuration: configuration, policy: { holder.withLockedValue { $0 } },
                               audit: audit, group: TestGroup.shared, logger: Logger(label: "test"))
        let task = Task { try await server.run() }
        let address = try await server.localAddress
        return RunningServer(server: server, audit: audit, address: address, task: task)
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}

/// A name from text, for test tables (the root for invalid text).
func name(_ text: String) -> DNSName {
    (try? DNSName(text)) ?? .root
}
