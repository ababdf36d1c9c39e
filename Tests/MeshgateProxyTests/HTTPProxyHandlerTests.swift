import Logging
import MeshgateAudit
import MeshgateCore
import MeshgateTLS
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOPosix
import NIOTLS
import Testing

@testable import MeshgateProxy

/// The proxy handler's request and CONNECT state handling, driven through an EmbeddedChannel with the
/// real HTTP codec in front of it (bytes in, bytes out).
@Suite struct HTTPProxyHandlerTests {
    static let sharedCA = Result { try CertificateAuthority.create(commonName: "handler test CA") }

    static func makeChannel(_ configure: (inout ProxyConfiguration) -> Void = { _ in }) throws -> (EmbeddedChannel, MemoryAuditSink) {
        let audit = MemoryAuditSink()
        let services = try makeServices(audit: audit, configure)
        let channel = EmbeddedChannel()
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 40000)).wait()
        try ProxyPipeline.addHTTPServerHandlers(to: channel.pipeline.syncOperations, services: services, mode: .explicit, identity: nil)
        return (channel, audit)
    }

    static func makeServices(audit: MemoryAuditSink = MemoryAuditSink(), _ configure: (inout ProxyConfiguration) -> Void = { _ in }) throws -> ProxyServices {
        var configuration = ProxyConfiguration()
        configure(&configuration)
        let cache = LeafCertificateCache(minter: try LeafMinter(authority: try sharedCA.get()), capacity: 10)
        return try ProxyServices(
            configuration: configuration,
            leafCache: cache,
            upstreamTLSContext: try UpstreamTLS.makeClientContext(trust: .system),
            audit: audit,
            group: MultiThreadedEventLoopGroup.singleton,
            logger: Logger(label: "test")
        )
    }

    static func send(_ channel: EmbeddedChannel, _ text: String) throws {
        try channel.writeInbound(ByteBuffer(string: text))
    }

    static func output(_ channel: EmbeddedChannel) throws -> String {
        var all = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            all += String(buffer: buffer)
        }
        return all
    }

    @Test func connectToAForbiddenPortIs403AndAudited() throws {
        let (channel, audit) = try Self.makeChannel()
        try Self.send(channel, "CONNECT example.com:22 HTTP/1.1\r\nHost: example.com:22\r\n\r\n")
        let out = try Self.output(channel)
        #expect(out.hasPrefix("HTTP/1.1 403 Forbidden"))
        #expect(out.contains("access.connect_ports"))
        #expect(audit.events.count == 1)
        #expect(audit.events.first?.jsonLine().contains(#""status":403"#) == true)
        _ = try? channel.finish()
    }

    @Test func acceptedConnectAnswers200AndPeeksAtTLS() throws {
        let (channel, _) = try Self.makeChannel()
        try Self.send(channel, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
        let out = try Self.output(channel)
        #expect(out == "HTTP/1.1 200 Connection Established\r\n\r\n", "a CONNECT 2xx carries no body framing")
        let ops = channel.pipeline.syncOperations
        #expect((try? ops.handler(type: ByteToMessageHandler<SNIHandler>.self)) != nil, "the ClientHello peek takes over")
        #expect((try? ops.handler(type: HTTPProxyHandler.self)) == nil)
        #expect((try? ops.handler(type: HTTPResponseEncoder.self)) == nil)
        _ = try? channel.finish()
    }

    @Test func requireIdentityGives407WithChallenges() throws {
        let (channel, _) = try Self.makeChannel { $0.requireIdentity = true }
        try Self.send(channel, "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n")
        let out = try Self.output(channel)
        #expect(out.hasPrefix("HTTP/1.1 407"))
        #expect(out.contains("Proxy-Authenticate: Basic realm=\"meshgate\""))
        #expect(channel.isActive, "a 407 keeps the connection so the client can retry with credentials")
        _ = try? channel.finish()
    }

    @Test func oversizedHeadIs431AndCloses() throws {
        let (channel, audit) = try Self.makeChannel { $0.maxHeaderBytes = 1024 }
        try? Self.send(channel, "GET http://example.com/ HTTP/1.1\r\nX-Big: \(String(repeating: "a", count: 2048))\r\n\r\n")
        let out = try Self.output(channel)
        #expect(out.hasPrefix("HTTP/1.1 431"))
        #expect(out.contains("limits.max_header_bytes"))
        #expect(!channel.isActive)
        #expect(audit.events.first?.jsonLine().contains(#""action":"block""#) == true)
    }

    @Test func contentLengthWithTransferEncodingIs400AndCloses() throws {
        let (channel, _) = try Self.makeChannel()
        try? Self.send(channel, "POST http://example.com/ HTTP/1.1\r\nHost: example.com\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        let out = try Self.output(channel)
        #expect(out.hasPrefix("HTTP/1.1 400"))
        #expect(!channel.isActive)
    }

    @Test func clientsOutsideAllowListGet403() throws {
        let (channel, _) = try Self.makeChannel { $0.allowClients = [CIDR("10.0.0.0/8")].compactMap { $0 } }
        try Self.send(channel, "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n")
        let out = try Self.output(channel)
        #expect(out.hasPrefix("HTTP/1.1 403"))
        #expect(out.contains("access.allow_clients"))
    }

    // MARK: the lifecycle through the real codec (ExchangeStateMachine's actions carried out)

    /// Three pipelined requests in one write: each answered, in order, on the same connection.
    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let (channel, audit) = try Self.makeChannel { $0.requireIdentity = true }
        let requests = ["one", "two", "three"].map { "GET http://example.com/\($0) HTTP/1.1\r\nHost: example.com\r\n\r\n" }
        try Self.send(channel, requests.joined())
        let out = try Self.output(channel)
        #expect(out.components(separatedBy: "HTTP/1.1 407").count - 1 == 3, "\(out)")
        let paths = audit.events.map { $0.jsonLine() }.map { line in ["one", "two", "three"].first { line.contains("example.com/\($0)") } }
        #expect(paths == ["one", "two", "three"])
        #expect(channel.isActive)
        _ = try? channel.finish()
    }

    /// A client that sends a whole request and shuts its sending side still gets the answer; then
    /// the connection closes instead of waiting in CLOSE-WAIT.
    @Test func aHalfClosedClientIsAnsweredThenClosed() throws {
        let (channel, _) = try Self.makeChannel { $0.requireIdentity = true }
        try Self.send(channel, "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n")
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        channel.embeddedEventLoop.run()
        let out = try Self.output(channel)
        #expect(out.hasPrefix("HTTP/1.1 407"))
        #expect(!channel.isActive)
    }

    /// A request whose body the half-close cut off: its answer (already going out) is the last thing
    /// on the connection, which then closes instead of waiting for body bytes that cannot come.
    @Test func aRequestCutOffByAHalfCloseEndsTheConnection() throws {
        let (channel, audit) = try Self.makeChannel { $0.requireIdentity = true }
        try Self.send(channel, "POST http://example.com/x HTTP/1.1\r\nHost: example.com\r\nContent-Length: 100\r\n\r\nonly part")
        #expect(channel.isActive, "the rest of the body may still come")
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        channel.embeddedEventLoop.run()
        #expect(try Self.output(channel).hasPrefix("HTTP/1.1 407"))
        #expect(!channel.isActive)
        #expect(audit.events.count == 1)
    }

    /// A malformed request pipelined behind a good one: the good one is answered first, then 400.
    @Test func aMalformedRequestBehindAGoodOneIsAnsweredAfterIt() throws {
        let (channel, audit) = try Self.makeChannel { $0.requireIdentity = true }
        try? Self.send(channel, "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\nNOT HTTP AT ALL\r\n\r\n")
        channel.embeddedEventLoop.run()
        let out = try Self.output(channel)
        let first = out.range(of: "HTTP/1.1 407")?.lowerBound, second = out.range(of: "HTTP/1.1 400")?.lowerBound
        #expect(first != nil && second != nil && first! < second!, "\(out)")
        #expect(!channel.isActive, "nothing after a parse error can be framed")
        #expect(audit.events.count == 2)
    }
}
