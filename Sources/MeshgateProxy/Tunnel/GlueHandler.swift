import NIOCore

/// Joins two channels byte for byte (spliced TLS, upgraded WebSockets): what one reads the other
/// writes, and a side stops reading while its partner cannot write (back-pressure). Both channels
/// must be on the same event loop.
final class GlueHandler {
    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false
    private var flushScheduled = false
    private var sawReadComplete = false
    /// Bytes read from this handler's channel (for the audit line).
    private(set) var bytesRead = 0
    /// Called once when the glued pair has fully closed, with (bytes read on A, bytes read on B).
    var onClose: ((Int) -> Void)?

    private init() {}

    /// Two handlers glued to each other; add one to each channel.
    static func matchedPair() -> (GlueHandler, GlueHandler) {
        let a = GlueHandler()
        let b = GlueHandler()
        a.partner = b
        b.partner = a
        return (a, b)
    }

    private func partnerWrite(_ data: NIOAny) { context?.write(data, promise: nil) }
    private func partnerFlush() { context?.flush() }

    private func partnerWriteEOF() {
        // Half-close when the channel supports it, so request/response protocols over the tunnel finish.
        guard let context else { return }
        context.close(mode: .output, promise: nil)
    }

    private func partnerCloseFull() { context?.close(promise: nil) }

    private func partnerBecameWritable() {
        if pendingRead {
            pendingRead = false
            context?.read()
        }
    }

    private var partnerWritable: Bool { context?.channel.isWritable ?? false }
}

extension GlueHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        bytesRead += unwrapInboundIn(data).readableBytes
        partner?.partnerWrite(data)
        // Bytes replayed by a decoder leaving the pipeline (the peeked ClientHello, data after a 101)
        // arrive right after the glue is added and without a channelReadComplete, so until the first
        // read burst completes a flush is also queued for the end of this tick. After that
        // channelReadComplete flushes once per burst: a task per read costs more than the write.
        if !sawReadComplete, !flushScheduled {
            flushScheduled = true
            context.eventLoop.assumeIsolated().execute { [self] in
                flushScheduled = false
                partner?.partnerFlush()
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        sawReadComplete = true
        partner?.partnerFlush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        onClose?(bytesRead)
        onClose = nil
        partner?.partnerCloseFull()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            partner?.partnerWriteEOF()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.partnerBecameWritable() }
    }

    func read(context: ChannelHandlerContext) {
        if let partner, partner.partnerWritable {
            context.read()
        } else {
            pendingRead = true
        }
    }
}

// Not Sendable: confined to its channel's event loop (callbacks go through assumeIsolated()).
@available(*, unavailable)
extension GlueHandler: Sendable {}
