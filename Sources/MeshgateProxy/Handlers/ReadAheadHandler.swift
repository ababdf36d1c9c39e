import NIOCore
import NIOHTTP1

/// Keeps the client socket's read interest while a request waits for its response.
///
/// `HTTPServerPipelineHandler` withholds `read()` from the moment a request has ended until its
/// response has, so NIO takes the socket out of the epoll read set after every request and puts it
/// back after every response: two `epoll_ctl` calls per exchange. This handler sits between the
/// decoder and that handler and asks for the next read itself in exactly that window, once per
/// request. A client that pipelines gets at most one read burst buffered before the serialising
/// handler's back-pressure applies again: a second request seen in the window stops the read-ahead.
/// It leaves request bodies alone, so the proxy's upload back-pressure is untouched.
final class ReadAheadHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private var window = ReadAheadWindow()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: window.requestHead()
        case .body: break
        case .end: window.requestEnd()
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
        // After the pipeline has seen the burst: a response written synchronously has closed the window.
        if window.takeReadAhead() { context.read() }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { window.responseEnd() }
        context.write(data, promise: promise)
    }
}

/// Whether a read may be asked for on the serialising handler's behalf: exactly one request has
/// fully arrived, it has not been answered, nothing after it has arrived, and no read was asked for
/// in this window yet.
struct ReadAheadWindow {
    private var headsSeen = 0
    private var endsSeen = 0
    private var responsesEnded = 0
    private var readAsked = false

    mutating func requestHead() { headsSeen += 1 }

    mutating func requestEnd() {
        endsSeen += 1
        readAsked = false
    }

    mutating func responseEnd() {
        responsesEnded += 1
        readAsked = false
    }

    /// True once per window, when a read should be asked for now.
    mutating func takeReadAhead() -> Bool {
        guard headsSeen == endsSeen, endsSeen == responsesEnded + 1, !readAsked else { return false }
        readAsked = true
        return true
    }
}
