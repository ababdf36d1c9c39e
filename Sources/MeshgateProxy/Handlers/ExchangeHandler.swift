import NIOCore
import NIOHTTP1

/// A listener's HTTP handler, the last in its pipeline after `HTTPServerPipelineHandler`: a thin
/// shell over an `ExchangeSession`, which runs the exchanges. The shell consumes request parts and
/// emits response parts; it only decides what a request head means on its listener (its
/// `ExchangeFront` conformance). Every channel event goes to the session as it is.
protocol ExchangeHandler: ChannelDuplexHandler, RemovableChannelHandler, ExchangeFront
where InboundIn == HTTPServerRequestPart, OutboundIn == HTTPServerResponsePart, OutboundOut == HTTPServerResponsePart {
    var session: ExchangeSession { get }
}

extension ExchangeHandler {
    func handlerAdded(context: ChannelHandlerContext) {
        session.attached(to: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        session.detached()
    }

    func channelActive(context: ChannelHandlerContext) {
        session.channelActive(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        session.received(unwrapInboundIn(data), context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        session.receivedReadComplete()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        session.channelInactive()
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        session.writabilityChanged(isWritable: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if session.errorCaught(error, context: context) { context.fireErrorCaught(error) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if session.userEvent(event) { context.fireUserInboundEventTriggered(event) }
    }

    func read(context: ChannelHandlerContext) {
        if session.machine.readRequested() { context.read() }
    }
}
