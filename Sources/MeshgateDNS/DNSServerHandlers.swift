import Synchronization
import NIOCore

/// The only handler of a listening UDP socket: each datagram is one query. Answers made at once
/// are flushed together when the read burst ends (one sendmmsg for many); forwarded ones, which
/// arrive in bursts from the upstream socket, are flushed together once the loop has handled
/// that burst.
final class DNSUDPHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let processor: DNSQueryProcessor
    private var needsFlush = false
    private var laterFlushScheduled = false
    private let counter: DatagramCounter
    /// Audit text of the last few peers: a forwarding resolver or a load generator asks from a
    /// handful of ports, so most queries find theirs here.
    private var peerTexts: [(address: SocketAddress, text: String)] = []
    private var nextPeerSlot = 0

    init(processor: DNSQueryProcessor, counter: DatagramCounter) {
        self.processor = processor
        self.counter = counter
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        counter.count.add(1, ordering: .relaxed)
        let envelope = unwrapInboundIn(data)
        let client = envelope.remoteAddress
        switch processor.process(Array(envelope.data.readableBytesView), client: client, clientText: text(of: client),
                                 transport: .udp, on: context.eventLoop) {
        case .none:
            break
        case .now(let reply):
            context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: client, data: context.channel.allocator.buffer(bytes: reply))), promise: nil)
            needsFlush = true
        case .later(let future):
            let channel = context.channel
            let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
            future.hop(to: context.eventLoop).whenSuccess { reply in
                channel.write(AddressedEnvelope(remoteAddress: client, data: channel.allocator.buffer(bytes: reply)), promise: nil)
                handler.value.scheduleLaterFlush(channel)
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    private func text(of peer: SocketAddress) -> String {
        if let known = peerTexts.first(where: { $0.address == peer }) { return known.text }
        let text = peer.auditDescription
        if peerTexts.count < 8 {
            peerTexts.append((peer, text))
        } else {
            peerTexts[nextPeerSlot] = (peer, text)
            nextPeerSlot = (nextPeerSlot + 1) % peerTexts.count
        }
        return text
    }

    private func scheduleLaterFlush(_ channel: any Channel) {
        guard !laterFlushScheduled else { return }
        laterFlushScheduled = true
        let handler = NIOLoopBound(self, eventLoop: channel.eventLoop)
        channel.eventLoop.execute {
            handler.value.laterFlushScheduled = false
            channel.flush()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // An ICMP port-unreachable from a client that went away surfaces here; the socket stays up.
    }
}

/// Datagrams one UDP socket received.
final class DatagramCounter: Sendable {
    let count = Atomic<Int>(0)
}

/// Serves DNS over one TCP connection (RFC 7766): length-prefixed queries, several per
/// connection, answered as each is ready (not necessarily in order). Sits after a
/// `LengthFieldBasedFrameDecoder`; closes the connection when it has been idle.
final class DNSTCPHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let processor: DNSQueryProcessor
    private var needsFlush = false
    private var peer: (address: SocketAddress, text: String)?

    init(processor: DNSQueryProcessor) { self.processor = processor }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if peer == nil, let address = context.remoteAddress { peer = (address, address.auditDescription) }
        guard let peer else { return }
        switch processor.process(Array(frame.readableBytesView), client: peer.address, clientText: peer.text, transport: .tcp, on: context.eventLoop) {
        case .none:
            break
        case .now(let reply):
            context.write(wrapOutboundOut(Self.frame(reply, allocator: context.channel.allocator)), promise: nil)
            needsFlush = true
        case .later(let future):
            let channel = context.channel
            future.whenSuccess { reply in
                channel.writeAndFlush(Self.frame(reply, allocator: channel.allocator), promise: nil)
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    static func frame(_ reply: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: reply.count + 2)
        buffer.writeInteger(UInt16(truncatingIfNeeded: reply.count))
        buffer.writeBytes(reply)
        return buffer
    }
}
