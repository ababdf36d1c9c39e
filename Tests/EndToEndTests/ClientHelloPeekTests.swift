import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOPosix
import NIOTLS
import Testing

/// ClientHellos captured from real clients (curl, openssl) at test time, then drip-fed one byte at a
/// time into the SNI peek that decides between interception and splicing.
@Suite(.serialized) struct ClientHelloPeekTests {
    static func capture(_ command: (Int) -> [String]) async throws -> ByteBuffer {
        let captured = NIOLockedValueBox(ByteBuffer())
        let done = TestGroup.shared.next().makePromise(of: Void.self)
        let server = try await ServerBootstrap(group: TestGroup.shared)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(HelloRecorder(box: captured, done: done))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = server.localAddress?.port ?? 0
        let args = command(port)
        async let client = ProcessRunner.run(args[0], Array(args.dropFirst()), stdin: Data(), timeout: 10, environment: Curl.environment)
        try await done.futureResult.get()
        _ = try await client
        try await server.close()
        return captured.withLockedValue { $0 }
    }

    static func peek(_ hello: ByteBuffer) throws -> SNIResult? {
        let result = NIOLockedValueBox<SNIResult?>(nil)
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SNIHandler { sni in
            result.withLockedValue { $0 = sni }
            return channel.eventLoop.makeSucceededVoidFuture()
        }))
        var remaining = hello
        while let byte = remaining.readSlice(length: 1) {
            try channel.writeInbound(byte)
            if result.withLockedValue({ $0 }) != nil { break }
        }
        _ = try? channel.finish()
        return result.withLockedValue { $0 }
    }

    @Test func curlClientHelloDripFed() async throws {
        let hello = try await Self.capture { port in
            ["curl", "-sS", "--max-time", "3", "--resolve", "agent.example.test:\(port):127.0.0.1", "https://agent.example.test:\(port)/"]
        }
        #expect(hello.readableBytes > 100)
        #expect(try Self.peek(hello) == .hostname("agent.example.test"))
    }

    @Test func opensslClientHelloDripFed() async throws {
        let hello = try await Self.capture { port in
            ["openssl", "s_client", "-connect", "127.0.0.1:\(port)", "-servername", "mcp.example.test"]
        }
        #expect(try Self.peek(hello) == .hostname("mcp.example.test"))
    }

    @Test func noSNIFallsBack() async throws {
        let hello = try await Self.capture { port in
            ["openssl", "s_client", "-connect", "127.0.0.1:\(port)", "-noservername"]
        }
        #expect(try Self.peek(hello) == .fallback)
    }
}

/// Records bytes until a complete TLS record has arrived, then hangs up.
final class HelloRecorder: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let box: NIOLockedValueBox<ByteBuffer>
    var done: EventLoopPromise<Void>?

    init(box: NIOLockedValueBox<ByteBuffer>, done: EventLoopPromise<Void>) {
        self.box = box
        self.done = done
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        let complete = box.withLockedValue { buffer -> Bool in
            buffer.writeBuffer(&incoming)
            guard buffer.readableBytes >= 5, let length = buffer.getInteger(at: buffer.readerIndex + 3, as: UInt16.self) else { return false }
            return buffer.readableBytes >= 5 + Int(length)
        }
        if complete, let done {
            self.done = nil
            done.succeed(())
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        done?.succeed(())
        done = nil
    }
}
