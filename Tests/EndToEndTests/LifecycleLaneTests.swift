import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Testing

/// The lifecycle lane: the real `meshgate serve` binary, clients that close first, and the
/// process's own descriptors and CLOSE-WAIT sockets counted from /proc afterwards; then SIGTERM
/// with stalled clients and a stalled upstream.
@Suite(.serialized) struct LifecycleLaneTests {
    static let connectionsPerKind = 1_000
    static let concurrency = 25
    /// The descriptor count may differ by a few between two readings (files opened lazily such as
    /// the audit log, idle pooled upstream connections, whose number depends on how requests fell
    /// on the event loops); a leak of one per connection would be a thousand. On loaded CI runners
    /// the first round has been seen to end 12 sockets above its baseline (none of them client,
    /// CLOSE-WAIT or upstream connections to the origins) and to stay there through every later
    /// round: a one-time growth, not a leak, whose cause is still open; the slack covers it.
    static let descriptorSlack = 16

    struct Server {
        let process: StreamingClient
        let proxyPort: Int
        let directory: URL
        var pid: Int32 { process.pid }
        var caPath: String { directory.appendingPathComponent("state/ca.pem").path }
    }

    static func startServer(_ pki: TestPKI, extra: String = "") async throws -> Server {
        let config = try ServeCommandTests.writeConfig(pki.directory, extra: """
            access:
              allow_destinations: [127.0.0.0/8]
            tls:
              upstream_ca: \(pki.originCAPath)
            \(extra)
            """)
        let process = try StreamingClient([ServeCommandTests.binary, "serve", "--config", config], environment: Curl.environment, captureStderr: true)
        guard try await process.waitForOutput(containing: "explicit proxy listening", timeout: 30),
              let port = ServeCommandTests.port(of: "explicit proxy listening", in: process.text) else {
            process.terminate()
            throw LaneError("serve did not start:\n\(process.text)")
        }
        return Server(process: process, proxyPort: port, directory: pki.directory)
    }

    struct LaneError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// One client connection to the proxy, reading into a buffer.
    final class Client: @unchecked Sendable {
        let channel: any Channel
        let received = NIOLockedValueBox(ByteBuffer())

        init(port: Int) async throws {
            let box = received
            channel = try await ClientBootstrap(group: TestGroup.shared)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(RawClient.Collector(box: box))
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
        }

        func send(_ text: String) async throws { try await channel.writeAndFlush(ByteBuffer(string: text)).get() }

        func wait(for needle: String, count: Int = 1) async throws {
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                let text = received.withLockedValue { String(buffer: $0) }
                if text.components(separatedBy: needle).count - 1 >= count { return }
                try await Task.sleep(for: .milliseconds(2))
            }
            throw LaneError("no \(needle) from the proxy; got: \(received.withLockedValue { String(buffer: $0) }.prefix(300))")
        }

        /// Speaks TLS inside an established CONNECT and completes the handshake.
        func handshake(trusting caPath: String, serverName: String) async throws {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(caPath)
            let context = try NIOSSLContext(configuration: tls)
            let done = channel.eventLoop.makePromise(of: Void.self)
            try await channel.eventLoop.submit {
                let ops = self.channel.pipeline.syncOperations
                try ops.addHandler(try NIOSSLClientHandler(context: context, serverHostname: serverName), position: .first)
                try ops.addHandler(HandshakeDone(promise: done))
            }.get()
            try await done.futureResult.get()
        }

        func close() async { try? await channel.close() }
    }

    final class HandshakeDone: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = NIOAny
        var promise: EventLoopPromise<Void>?
        init(promise: EventLoopPromise<Void>) { self.promise = promise }
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls { promise?.succeed(()); promise = nil }
            context.fireUserInboundEventTriggered(event)
        }
        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            promise?.fail(error)
            promise = nil
        }
        func handlerRemoved(context: ChannelHandlerContext) { promise?.fail(ChannelError.eof); promise = nil }
        func channelInactive(context: ChannelHandlerContext) {
            promise?.fail(ChannelError.eof)
            promise = nil
            context.fireChannelInactive()
        }
    }

    enum Kind: String, CaseIterable, Sendable {
        case plain, keepAlive, connectBeforeClientHello, connectAfterClientHello, webSocket
    }

    /// One connection of `kind`, closed by the client once it got what it came for.
    static func exercise(_ kind: Kind, server: Server, originPort: Int, upgradePort: Int) async throws {
        let client = try await Client(port: server.proxyPort)
        defer { Task { await client.close() } }
        switch kind {
        case .plain:
            try await client.send("GET http://127.0.0.1:\(originPort)/hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            try await client.wait(for: "hello from origin")
        case .keepAlive:
            for n in 1...3 {
                try await client.send("GET http://127.0.0.1:\(originPort)/hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                try await client.wait(for: "hello from origin", count: n)
            }
        case .connectBeforeClientHello:
            try await client.send("CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n\r\n")
            try await client.wait(for: "200 Connection Established")
        case .connectAfterClientHello:
            try await client.send("CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n\r\n")
            try await client.wait(for: "200 Connection Established")
            try await client.handshake(trusting: server.caPath, serverName: "localhost")
        case .webSocket:
            try await client.send("GET http://127.0.0.1:\(upgradePort)/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            try await client.wait(for: "101 Switching Protocols")
            try await client.send("ping")
            try await client.wait(for: "ping")
        }
        await client.close()
    }

    static func run(_ kind: Kind, count: Int, server: Server, originPort: Int, upgradePort: Int) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var started = 0
            while started < min(concurrency, count) {
                group.addTask { try await exercise(kind, server: server, originPort: originPort, upgradePort: upgradePort) }
                started += 1
            }
            while try await group.next() != nil {
                if started < count {
                    group.addTask { try await exercise(kind, server: server, originPort: originPort, upgradePort: upgradePort) }
                    started += 1
                }
            }
        }
    }

    @Test func descriptorsReturnToTheBaselineAfterClientsClose() async throws {
        let pki = try TestPKI.make()
        let origin = try await TestOrigin(group: TestGroup.shared)
        let upgrade = try await ScriptedOrigin(.switchProtocols)
        let server = try await Self.startServer(pki)
        defer { server.process.terminate() }
        let origins: Set<Int> = [origin.port, upgrade.port]
        for kind in Kind.allCases {
            // A warm-up round fills what may legitimately stay (cached leaves, lazily opened files,
            // pooled upstream connections); the baseline is taken after it.
            try await Self.run(kind, count: Self.concurrency * 2, server: server, originPort: origin.port, upgradePort: upgrade.port)
            let baseline = await ProcessSockets.settle(pid: server.pid, listenPort: server.proxyPort, originPorts: origins, timeout: .seconds(2)) {
                $0.clientConnections == 0 && $0.closeWait == 0
            }
            let started = ContinuousClock.now
            try await Self.run(kind, count: Self.connectionsPerKind, server: server, originPort: origin.port, upgradePort: upgrade.port)
            let elapsed = ContinuousClock.now - started
            let after = await ProcessSockets.settle(pid: server.pid, listenPort: server.proxyPort, originPorts: origins, timeout: .seconds(1)) {
                $0.clientConnections == 0 && $0.closeWait == 0 && $0.descriptors <= baseline.descriptors + Self.descriptorSlack
            }
            print("lifecycle lane: \(kind.rawValue): \(Self.connectionsPerKind) connections in \(elapsed); descriptors \(baseline.descriptors) -> \(after.descriptors), sockets \(baseline.sockets) -> \(after.sockets) (pooled upstream \(baseline.upstreamConnections) -> \(after.upstreamConnections)), client connections \(after.clientConnections), close-wait \(after.closeWait)")
            #expect(after.clientConnections == 0, "\(kind.rawValue): \(after.clientConnections) client connections still open 1 s after their clients closed them")
            #expect(after.descriptors <= baseline.descriptors + Self.descriptorSlack,
                    "\(kind.rawValue): \(after.descriptors) descriptors 1 s after \(Self.connectionsPerKind) client-closed connections; baseline \(baseline.descriptors)")
            #expect(after.upstreamConnections <= Self.concurrency * 2, "\(kind.rawValue): \(after.upstreamConnections) idle upstream connections for \(Self.concurrency) concurrent clients")
            #expect(after.closeWait == 0, "\(kind.rawValue): \(after.closeWait) sockets left in CLOSE-WAIT")
        }
        server.process.signal(SIGTERM)
        #expect(try await server.process.waitForExit(timeout: 15) == 0)
        await origin.close()
        await upgrade.close()
    }

    @Test func sigtermWithStalledClientsAndUpstreamsExitsWithinTheGrace() async throws {
        let pki = try TestPKI.make()
        let stalled = try await ScriptedOrigin(.stall)
        let server = try await Self.startServer(pki, extra: """
            limits:
              shutdown_grace: 2s
            """)
        defer { server.process.terminate() }
        var clients: [Client] = []
        // A request head that never completes, a tunnel that never says hello, an upload that stops
        // half-way, and requests whose origin never answers.
        let partialHead = try await Client(port: server.proxyPort)
        try await partialHead.send("GET http://127.0.0.1:\(stalled.port)/ HTTP/1.1\r\nHost: 127")
        clients.append(partialHead)
        let silentTunnel = try await Client(port: server.proxyPort)
        try await silentTunnel.send("CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n\r\n")
        try await silentTunnel.wait(for: "200")
        clients.append(silentTunnel)
        let halfUpload = try await Client(port: server.proxyPort)
        try await halfUpload.send("POST http://127.0.0.1:\(stalled.port)/up HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nsome")
        clients.append(halfUpload)
        for _ in 0..<5 {
            let waiting = try await Client(port: server.proxyPort)
            try await waiting.send("GET http://127.0.0.1:\(stalled.port)/never HTTP/1.1\r\nHost: x\r\n\r\n")
            clients.append(waiting)
        }
        try await Task.sleep(for: .milliseconds(300))
        let sent = ContinuousClock.now
        server.process.signal(SIGTERM)
        let status = try await server.process.waitForExit(timeout: 20)
        let took = ContinuousClock.now - sent
        print("lifecycle lane: SIGTERM with \(clients.count) stalled connections: exited \(status.map(String.init) ?? "not at all") after \(took)")
        #expect(status == 0, "serve must exit cleanly:\n\(server.process.text.suffix(2000))")
        #expect(took < .seconds(3), "shutdown_grace is 2 s; the process lived \(took) after SIGTERM")
        for client in clients { await client.close() }
        await stalled.close()
    }
}
