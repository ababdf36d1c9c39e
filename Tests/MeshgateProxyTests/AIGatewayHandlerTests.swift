import MeshgateAudit
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import MeshgateProxy

/// The `ai` listener's own handler, through the real HTTP codec: it is the one in the pipeline, and
/// it answers in the caller's LLM dialect without ever reaching a provider.
@Suite struct AIGatewayHandlerTests {
    static func makeChannel() throws -> (EmbeddedChannel, MemoryAuditSink) {
        let audit = MemoryAuditSink()
        let services = try HTTPProxyHandlerTests.makeServices(audit: audit)
        let channel = EmbeddedChannel()
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 40001)).wait()
        try ProxyPipeline.addHTTPServerHandlers(to: channel.pipeline.syncOperations, services: services, mode: .aiGateway, identity: nil)
        return (channel, audit)
    }

    @Test func theAIListenerHasItsOwnHandler() throws {
        let (channel, _) = try Self.makeChannel()
        let ops = channel.pipeline.syncOperations
        #expect((try? ops.handler(type: AIGatewayHandler.self)) != nil)
        #expect((try? ops.handler(type: HTTPProxyHandler.self)) == nil)
        _ = try? channel.finish()
    }

    @Test(arguments: [
        ("POST /v1/chat/completions", "", #""error":{"message":"meshgate: send your identity token"#),
        ("POST /v1/messages", "anthropic-version: 2023-06-01\r\n", #""type":"error","error":{"type":"authentication_error""#),
    ])
    func aCallerWithoutATokenGets401InItsDialect(line: String, extra: String, expected: String) throws {
        let (channel, audit) = try Self.makeChannel()
        let body = #"{"model":"m","messages":[]}"#
        try HTTPProxyHandlerTests.send(channel, "\(line) HTTP/1.1\r\nHost: gateway\r\n\(extra)Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        let out = try HTTPProxyHandlerTests.output(channel)
        #expect(out.hasPrefix("HTTP/1.1 401"), "\(out)")
        #expect(out.contains(expected), "\(out)")
        #expect(audit.events.count == 1)
        _ = try? channel.finish()
    }

    @Test func twoPipelinedRequestsAreAnsweredInOrder() throws {
        let (channel, audit) = try Self.makeChannel()
        try HTTPProxyHandlerTests.send(channel, "GET /v1/nothing HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer wrong\r\n\r\n"
            + "GET /v1/models HTTP/1.1\r\nHost: gateway\r\n\r\n")
        let out = try HTTPProxyHandlerTests.output(channel)
        #expect(out.components(separatedBy: "HTTP/1.1 401 Unauthorized\r\n").count == 3, "\(out)")
        let unknown = try #require(out.range(of: "unknown identity token"))
        let missing = try #require(out.range(of: "send your identity token"))
        #expect(unknown.lowerBound < missing.lowerBound, "answered in the order asked")
        #expect(audit.events.count == 2)
        _ = try? channel.finish()
    }
}
