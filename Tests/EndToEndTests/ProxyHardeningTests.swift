import Foundation
import MeshgateAudit
import MeshgateCore
import MeshgateProxy
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// The explicit proxy as clients that close first, vanish, upgrade and aim at the gateway itself use
/// it (issue 17): every test here failed on 098100f.
@Suite(.serialized) struct ProxyHardeningTests {
    /// An origin and a proxy for one test; `body` gets both and a client connected to the proxy.
    static func withOriginAndProxy(
        configure: (inout ProxyConfiguration) -> Void = { _ in },
        _ body: (TestOrigin, TestProxy, HalfClosingClient) async throws -> Void
    ) async throws {
        let pki = try TestPKI.make()
        let origin = try await TestOrigin(group: TestGroup.shared)
        let proxy = try await TestProxy(group: TestGroup.shared, pki: pki, configure: configure)
        let client = try await HalfClosingClient.connect(port: proxy.port)
        try await body(origin, proxy, client)
        await client.close()
        await proxy.stop()
        await origin.close()
    }

    /// A client connection whose output can be shut down (FIN) while it still reads.
    struct HalfClosingClient {
        let channel: any Channel
        let received: NIOLockedValueBox<ByteBuffer>
        let eof: NIOLockedValueBox<Bool>

        static func connect(port: Int) async throws -> HalfClosingClient {
            let box = NIOLockedValueBox(ByteBuffer())
            let eof = NIOLockedValueBox(false)
            let channel = try await ClientBootstrap(group: TestGroup.shared)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(RawClient.Collector(box: box))
                        try channel.pipeline.syncOperations.addHandler(EOFWatcher(eof: eof))
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
            return HalfClosingClient(channel: channel, received: box, eof: eof)
        }

        /// Notes the proxy's FIN (or a reset), whether or not our own side is still open.
        final class EOFWatcher: ChannelInboundHandler, Sendable {
            typealias InboundIn = ByteBuffer
            let eof: NIOLockedValueBox<Bool>
            init(eof: NIOLockedValueBox<Bool>) { self.eof = eof }
            func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
                if case ChannelEvent.inputClosed = event { eof.withLockedValue { $0 = true } }
                context.fireUserInboundEventTriggered(event)
            }
            func channelInactive(context: ChannelHandlerContext) {
                eof.withLockedValue { $0 = true }
                context.fireChannelInactive()
            }
        }

        func send(_ text: String) async throws { try await channel.writeAndFlush(ByteBuffer(string: text)).get() }

        /// Waits (up to 5 s) until what arrived satisfies `done`.
        func waitUntil(_ done: (String) -> Bool) async throws {
            let deadline = ContinuousClock.now + .seconds(5)
            while !done(text), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        }
        func shutdownOutput() async throws { try await channel.close(mode: .output).get() }
        var text: String { received.withLockedValue { String(buffer: $0) } }

        /// Waits until the proxy closes its side; false when it did not within `timeout`.
        func closedByPeer(within timeout: Duration) async -> Bool {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if eof.withLockedValue({ $0 }) { return true }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return eof.withLockedValue { $0 }
        }

        func close() async { try? await channel.close() }
    }

    @Test func aClientThatHalfClosesAfterItsRequestGetsTheAnswerAndTheSocketIsReleased() async throws {
        try await Self.withOriginAndProxy { origin, _, client in
            try await client.send("GET http://127.0.0.1:\(origin.port)/hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            try await client.shutdownOutput()
            // The header timer is 10 s here: a proxy that ignores the FIN keeps the socket far longer.
            #expect(await client.closedByPeer(within: .seconds(3)), "the proxy must close once it has answered a half-closed client")
            #expect(client.text.hasPrefix("HTTP/1.1 200"), "the answer still arrives: \(client.text)")
            #expect(client.text.contains("hello from origin"))
        }
    }

    @Test func aKeepAliveClientThatHangsUpBetweenRequestsIsReleasedAtOnce() async throws {
        try await Self.withOriginAndProxy { origin, _, client in
            try await client.send("GET http://127.0.0.1:\(origin.port)/hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            try await client.waitUntil { $0.contains("hello from origin") }
            try await client.shutdownOutput()
            #expect(await client.closedByPeer(within: .seconds(3)), "an idle keep-alive connection whose client sent FIN must be closed")
        }
    }

    @Test func aClientThatHalfClosesMidBodyIsCutOff() async throws {
        try await Self.withOriginAndProxy { origin, _, client in
            try await client.send("POST http://127.0.0.1:\(origin.port)/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nonly part")
            try await client.shutdownOutput()
            #expect(await client.closedByPeer(within: .seconds(3)), "a request cut off by FIN can never complete")
        }
    }

    @Test func aConnectTunnelClosedBeforeItsClientHelloIsReleased() async throws {
        try await Self.withOriginAndProxy { _, _, client in
            try await client.send("CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n")
            try await client.waitUntil { $0.contains("200") }
            #expect(client.text.hasPrefix("HTTP/1.1 200"), "\(client.text)")
            try await client.shutdownOutput()
            #expect(await client.closedByPeer(within: .seconds(3)), "a tunnel whose client left before the ClientHello must be closed")
        }
    }

    @Test func aConnectTunnelThatNeverSendsAClientHelloTimesOut() async throws {
        try await Self.withOriginAndProxy(configure: { $0.headerReadTimeout = .seconds(1) }) { _, _, client in
            try await client.send("CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n")
            // idle_timeout (300 s) is what used to end it; limits.header_read_timeout now bounds the wait.
            #expect(await client.closedByPeer(within: .seconds(5)), "a silent tunnel is closed after limits.header_read_timeout")
        }
    }

    @Test func aDeclinedUpgradeLeavesTheConnectionUsable() async throws {
        try await Self.withOriginAndProxy { origin, proxy, client in
            let base = "http://127.0.0.1:\(origin.port)"
            // The origin knows nothing of WebSockets and answers 200: the connection stays HTTP.
            try await client.send("GET \(base)/hello HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            try await client.waitUntil { $0.contains("hello from origin") }
            #expect(client.text.hasPrefix("HTTP/1.1 200"), "\(client.text)")
            try await client.send("GET \(base)/bytes?n=5 HTTP/1.1\r\nHost: x\r\n\r\n")
            try await client.waitUntil { $0.hasSuffix("xxxxx") }
            #expect(client.text.hasSuffix("xxxxx"), "the request after a declined upgrade must be answered: \(client.text)")
            #expect(client.channel.isActive)
            #expect(proxy.audit.events.count == 2, "both exchanges are audited")
        }
    }

    @Test func aRefusedConnectLeavesTheConnectionUsable() async throws {
        try await Self.withOriginAndProxy { origin, proxy, client in
            // Port 25 is not in access.connect_ports: 403, and the connection stays open for the next request.
            try await client.send("CONNECT mail.example.test:25 HTTP/1.1\r\nHost: mail.example.test:25\r\n\r\n")
            try await client.waitUntil { $0.contains("connect_ports") }
            #expect(client.text.hasPrefix("HTTP/1.1 403"), "\(client.text)")
            try await client.send("GET http://127.0.0.1:\(origin.port)/hello HTTP/1.1\r\nHost: x\r\n\r\n")
            try await client.waitUntil { $0.contains("hello from origin") }
            #expect(client.text.contains("hello from origin"), "the request after a refused CONNECT must be answered: \(client.text)")
            #expect(proxy.audit.events.count == 2)
        }
    }

    @Test(arguments: ["127.1", "0x7f.1", "2130706433", "0177.0.0.1", "localhost", "[::1]", "[::ffff:127.0.0.1]", "0.0.0.0", "169.254.169.254"])
    func destinationsOnLoopbackAndLinkLocalAreRefusedByAddress(host: String) async throws {
        let pki = try TestPKI.make()
        let origin = try await TestOrigin(group: TestGroup.shared)
        let proxy = try await TestProxy(group: TestGroup.shared, pki: pki) { $0.allowDestinations = [] }
        let reply = try await RawClient.exchange(
            port: proxy.port,
            send: "GET http://\(host):\(origin.port)/hello HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n"
        )
        #expect(reply.hasPrefix("HTTP/1.1 403"), "\(host): \(reply)")
        #expect(reply.contains("access.allow_destinations"), "the refusal names the setting that allows it: \(reply)")
        #expect(!reply.contains("hello from origin"))
        await proxy.stop()
        let event = try #require(proxy.audit.events.last)
        #expect(event.action == .block)
        #expect(event.jsonLine().contains(#""status":403"#), "\(event.jsonLine())")
        await origin.close()
    }

    @Test func allowDestinationsLetsAChosenNetworkThrough() async throws {
        let pki = try TestPKI.make()
        let origin = try await TestOrigin(group: TestGroup.shared)
        let proxy = try await TestProxy(group: TestGroup.shared, pki: pki) { $0.allowDestinations = ["127.0.0.0/8"].compactMap(CIDR.init) }
        let reply = try await RawClient.exchange(port: proxy.port, send: "GET http://127.1:\(origin.port)/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(reply.hasPrefix("HTTP/1.1 200"), "\(reply)")
        await proxy.stop()
        await origin.close()
    }

    @Test func theProxysOwnListenerIsRefusedWhateverTheSpelling() async throws {
        let pki = try TestPKI.make()
        let proxy = try await TestProxy(group: TestGroup.shared, pki: pki) { $0.allowDestinations = [] }
        for host in ["127.1", "2130706433", "localhost"] {
            let reply = try await RawClient.exchange(port: proxy.port, send: "GET http://\(host):\(proxy.port)/metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            // Refused either by the listener check (400, "would loop") or by address (403): never forwarded.
            #expect(reply.hasPrefix("HTTP/1.1 403") || reply.hasPrefix("HTTP/1.1 400"), "\(host): \(reply)")
            #expect(reply.contains("access.allow_destinations") || reply.contains("own listener"), "\(host): \(reply)")
        }
        await proxy.stop()
    }

    @Test func aRequestWithTooManyHeaderFieldsIsRefused() async throws {
        let pki = try TestPKI.make()
        let origin = try await TestOrigin(group: TestGroup.shared)
        let proxy = try await TestProxy(group: TestGroup.shared, pki: pki)
        let headers = (0..<200).map { "X-H\($0): v\r\n" }.joined()
        let reply = try await RawClient.exchange(port: proxy.port, send: "GET http://127.0.0.1:\(origin.port)/headers HTTP/1.1\r\nHost: x\r\n\(headers)\r\n")
        #expect(reply.hasPrefix("HTTP/1.1 431"), "\(reply.prefix(300))")
        #expect(reply.contains("limits.max_header_count"))
        await proxy.stop()
        await origin.close()
    }
}
