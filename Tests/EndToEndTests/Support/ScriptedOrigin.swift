import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A raw TCP origin on 127.0.0.1:0 that behaves badly or unusually on purpose: it switches every
/// connection to an echoing WebSocket-like protocol after the request head, or it reads and never
/// answers (a stalled upstream).
final class ScriptedOrigin: Sendable {
    enum Behaviour: Sendable {
        /// Answers the first request head with `101 Switching Protocols`, then echoes bytes.
        case switchProtocols
        /// Reads everything and never writes.
        case stall
    }

    let channel: any Channel
    var port: Int { channel.localAddress?.port ?? 0 }

    init(_ behaviour: Behaviour, group: any EventLoopGroup = TestGroup.shared) async throws {
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(Handler(behaviour: behaviour))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func close() async { try? await channel.close() }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let behaviour: Behaviour
        var head = ""
        var switched = false

        init(behaviour: Behaviour) { self.behaviour = behaviour }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            switch behaviour {
            case .stall:
                return
            case .switchProtocols where switched:
                context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
            case .switchProtocols:
                head += buffer.readString(length: buffer.readableBytes) ?? ""
                guard head.contains("\r\n\r\n") else { return }
                switched = true
                let reply = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: reply)), promise: nil)
            }
        }
    }
}
