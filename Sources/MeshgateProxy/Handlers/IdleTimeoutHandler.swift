import NIOCore

/// Closes a client connection after `limits.idle_timeout` without traffic either way, whatever it
/// carries by then: HTTP, an intercepted tunnel, a spliced one or an upgraded WebSocket.
///
/// NIO's `IdleStateHandler` tracks write completions with a promise per write and only announces
/// idleness, which nothing in a spliced tunnel acted on. This one notes the time once per read burst
/// and per flush, re-arms a single timer lazily, announces `IdleStateEvent.all` (so the HTTP handler
/// can settle its exchange) and then closes.
final class IdleTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias InboundOut = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private let timeout: TimeAmount
    private var lastActivity = NIODeadline.now()
    private var check: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
        context.fireChannelInactive()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        lastActivity = .now()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // The peer took some of what was queued for it.
        lastActivity = .now()
        context.fireChannelWritabilityChanged()
    }

    func flush(context: ChannelHandlerContext) {
        lastActivity = .now()
        context.flush()
    }

    private func start(context: ChannelHandlerContext) {
        guard check == nil else { return }
        lastActivity = .now()
        schedule(context: context, at: lastActivity + timeout)
    }

    private func schedule(context: ChannelHandlerContext, at deadline: NIODeadline) {
        check = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            check = nil
            let due = lastActivity + timeout
            if due > .now() {
                schedule(context: context, at: due)
                return
            }
            context.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.all)
            context.close(promise: nil)
        }
    }
}

// Not Sendable: confined to its channel's event loop (its timer runs through assumeIsolated()).
@available(*, unavailable)
extension IdleTimeoutHandler: Sendable {}
