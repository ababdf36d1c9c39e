import Foundation
import MeshgateCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle
import Testing

/// Timeouts and graceful shutdown, observed from the client's side.
@Suite(.serialized) struct ProxyLifecycleTests {
    @Test func incompleteRequestHeadGets408() async throws {
        let pki = try TestPKI.make()
        let proxy = try await TestProxy(group: TestGroup.shared, pki: pki) { $0.headerReadTimeout = .seconds(1) }
        let (reply, closed) = try await RawClient.exchangeWithClose(port: proxy.port, send: "GET http://127.0.0.1/ HTTP/1.1\r\nHost: 127", timeout: .seconds(8))
        #expect(reply.hasPrefix("HTTP/1.1 408"), "got: \(reply)")
        #expect(reply.contains("limits.header_read_timeout"))
        #expect(closed, "meshgate closes the connection after a 408")
        await proxy.stop()
    }

    @Test func headerReadTimeoutStartsAfreshWhenAnExchangeEnds() async throws {
        let pki = try TestPKI.make()
        let origin = try await TestOrigin(group: TestGroup.shared)
        let proxy = try await TestProxy(group: TestGroup.shared, pki: pki) { $0.headerReadTimeout = .seconds(1) }
        let collected = NIOLockedValueBox(ByteBuffer())
        let channel = try await RawClient.open(port: proxy.port, collectingInto: collected)
        try await channel.writeAndFlush(ByteBuffer(string: "GET http://127.0.0.1:\(origin.port)/sse HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")).get()
        // The exchange lasts twice the header timeout: that is not a slow request head, so it is not cut.
        for _ in 0..<3 {
            try await Task.sleep(for: .milliseconds(800))
            origin.releaseNextEvent()
        }
        let finished = ContinuousClock.now + .seconds(5)
        while !collected.withLockedValue({ String(buffer: $0) }).hasSuffix("0\r\n\r\n"), ContinuousClock.now < finished {
            try await Task.sleep(for: .milliseconds(50))
        }
        let first = collected.withLockedValue { String(buffer: $0) }
        #expect(first.contains("event-3") && first.hasSuffix("0\r\n\r\n"), "got: \(first)")
        #expect(channel.isActive, "a long exchange must not trip limits.header_read_timeout")

        // A second head that never completes is dropped about one timeout later.
        try await channel.writeAndFlush(ByteBuffer(string: "GET http://127.0.0.1/ HTTP/1.1\r\nHost: 127")).get()
        let timer = channel.eventLoop.scheduleTask(in: .seconds(8)) { channel.close(promise: nil) }
        let sent = ContinuousClock.now
        try? await channel.closeFuture.get()
        timer.cancel()
        #expect(ContinuousClock.now - sent < .seconds(6), "the unfinished second head is dropped by limits.header_read_timeout")
        await proxy.stop()
        await origin.close()
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let pki = try TestPKI.make()
        let origin = try await TestOrigin(group: TestGroup.shared)
        let proxy = try await TestProxy(group: TestGroup.shared, pki: pki)
        let collected = NIOLockedValueBox(ByteBuffer())
        let channel = try await RawClient.open(port: proxy.port, collectingInto: collected)
        let base = "http://127.0.0.1:\(origin.port)"
        // Two requests in one write, then a third while the first answer is still held by the origin.
        try await channel.writeAndFlush(ByteBuffer(string: "GET \(base)/sse HTTP/1.1\r\nHost: x\r\n\r\nGET \(base)/hello HTTP/1.1\r\nHost: x\r\n\r\n")).get()
        try await Task.sleep(for: .milliseconds(300))
        try await channel.writeAndFlush(ByteBuffer(string: "GET \(base)/bytes?n=7 HTTP/1.1\r\nHost: x\r\n\r\n")).get()
        try await Task.sleep(for: .milliseconds(300))
        #expect(!collected.withLockedValue { String(buffer: $0) }.contains("hello from origin"), "the second answer must wait for the first")
        for _ in 0..<3 { origin.releaseNextEvent() }
        let deadline = ContinuousClock.now + .seconds(5)
        while !collected.withLockedValue({ String(buffer: $0) }).hasSuffix("xxxxxxx"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let text = collected.withLockedValue { String(buffer: $0) }
        let order = ["event-3", "hello from origin", "xxxxxxx"].map { text.range(of: $0)?.lowerBound }
        #expect(order.allSatisfy { $0 != nil }, "got: \(text)")
        if let a = order[0], let b = order[1], let c = order[2] { #expect(a < b && b < c, "answers out of order: \(text)") }
        try? await channel.close()
        await proxy.stop()
        await origin.close()
    }

    @Test func idleKeepAliveConnectionIsClosed() async throws {
        let pki = try TestPKI.make()
        let origin = try await TestOrigin(group: TestGroup.shared)
        // Long enough for the exchange itself on a loaded machine (the client waits without traffic
        // while the origin answers); the connection must close once it then sits idle.
        let proxy = try await TestProxy(group: TestGroup.shared, pki: pki) { $0.idleTimeout = .seconds(3) }
        let (reply, closed) = try await RawClient.exchangeWithClose(
            port: proxy.port,
            send: "GET http://127.0.0.1:\(origin.port)/hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            timeout: .seconds(10)
        )
        #expect(reply.hasPrefix("HTTP/1.1 200"))
        #expect(closed, "an idle keep-alive connection is closed by limits.idle_timeout")
        await proxy.stop()
        await origin.close()
    }

    @Test func idleSplicedTunnelIsClosed() async throws {
        let pki = try TestPKI.make()
        let origin = try await TestOrigin(group: TestGroup.shared, tls: pki.originContext)
        let proxy = try await TestProxy(group: TestGroup.shared, pki: pki) {
            $0.idleTimeout = .seconds(1)
            $0.connectPorts = [origin.port]
            $0.doNotInspect = HostPatternList([HostPattern("localhost")].compactMap { $0 })
        }
        // s_client finishes its handshake through the splice, then sends nothing and waits.
        let client = try StreamingClient([
            "openssl", "s_client", "-proxy", "127.0.0.1:\(proxy.port)", "-connect", "localhost:\(origin.port)",
            "-servername", "localhost", "-CAfile", pki.originCAPath,
        ], captureStderr: true)
        defer { client.terminate() }
        #expect(try await client.waitForOutput(containing: "Verify return code: 0", timeout: 10), "\(client.text)")
        let exit = try await client.waitForExit(timeout: 8)
        #expect(exit != nil, "a spliced tunnel without traffic is closed by limits.idle_timeout")
        client.terminate()  // if it was not, stopping the proxy would wait out its drain for it
        try await eventually { proxy.audit.events.contains { $0.jsonLine().contains(#""intercepted":false"#) } }
        await proxy.stop()
        await origin.close()
    }

    @Test func gracefulShutdownLetsInFlightResponsesFinish() async throws {
        let pki = try TestPKI.make()
        let origin = try await TestOrigin(group: TestGroup.shared)
        let proxy = try await TestProxy(group: TestGroup.shared, pki: pki, run: false)
        let group = ServiceGroup(configuration: .init(services: [.init(service: proxy.server)], logger: Logger(label: "test")))
        let running = Task { try await group.run() }
        let port = try await proxy.server.localAddress.port ?? 0

        let client = try StreamingClient(["curl", "-sS", "-N", "-x", "http://127.0.0.1:\(port)", "http://127.0.0.1:\(origin.port)/sse"])
        origin.releaseNextEvent()
        #expect(try await client.waitForOutput(containing: "event-1", timeout: 10))

        await group.triggerGracefulShutdown()
        // New clients are turned away while the old one is still being served.
        try await Task.sleep(nanoseconds: 200_000_000)
        let refused = try await Curl.fetch("http://127.0.0.1:\(origin.port)/hello", proxy: "http://127.0.0.1:\(port)")
        #expect(refused.status == 0, "the listener should be closed during shutdown")

        origin.releaseNextEvent()
        origin.releaseNextEvent()
        #expect(try await client.waitForOutput(containing: "event-3", timeout: 10), "the in-flight stream finishes during the drain")
        try await running.value
        client.terminate()
        await origin.close()
    }
}
