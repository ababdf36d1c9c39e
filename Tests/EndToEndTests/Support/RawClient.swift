import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Sends raw bytes to a port and collects whatever comes back until the peer closes or a timeout:
/// for requests no well-behaved client would send (smuggling attempts, garbage).
enum RawClient {
    static func exchange(port: Int, send: String, timeout: TimeAmount = .seconds(5)) async throws -> String {
        try await exchangeWithClose(port: port, send: send, timeout: timeout).text
    }

    /// Also says whether the peer closed the connection (rather than our timeout).
    static func exchangeWithClose(port: Int, send: String, timeout: TimeAmount = .seconds(5)) async throws -> (text: String, closedByPeer: Bool) {
        let collected = NIOLockedValueBox(ByteBuffer())
        let channel = try await open(port: port, collectingInto: collected)
        // A starved test task can reach this write after the proxy has already answered (a 408 for a
        // head that never came) and closed: what it answered is still collected below.
        try? await channel.writeAndFlush(ByteBuffer(string: send)).get()
        let timedOut = NIOLockedValueBox(false)
        let timer = channel.eventLoop.scheduleTask(in: timeout) {
            timedOut.withLockedValue { $0 = true }
            channel.close(promise: nil)
        }
        try? await channel.closeFuture.get()
        timer.cancel()
        return (collected.withLockedValue { String(buffer: $0) }, !timedOut.withLockedValue { $0 })
    }

    /// A connection whose incoming bytes collect in `box`, for exchanges in several steps.
    static func open(port: Int, collectingInto box: NIOLockedValueBox<ByteBuffer>) async throws -> any Channel {
        try await ClientBootstrap(group: TestGroup.shared)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(box: box))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
    }

    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let box: NIOLockedValueBox<ByteBuffer>
        init(box: NIOLockedValueBox<ByteBuffer>) { self.box = box }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var incoming = unwrapInboundIn(data)
            box.withLockedValue { _ = $0.writeBuffer(&incoming) }
        }
    }
}
