import NIOCore
import NIOHTTP1

/// A response meshgate writes itself (errors, refusals), with a one-line human body.
struct LocalResponse {
    var status: HTTPResponseStatus
    var message: String
    var extraHeaders: [(String, String)] = []

    /// Writes head, body and end to a server pipeline.
    func write(
        to context: ChannelHandlerContext,
        version: HTTPVersion,
        close: Bool,
        wrap: (HTTPServerResponsePart) -> NIOAny
    ) -> EventLoopFuture<Void> {
        var body = context.channel.allocator.buffer(capacity: message.utf8.count + 16)
        body.writeString("meshgate: \(message)\n")
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "X-Meshgate-Error", value: status.reasonPhrase)
        for (n, v) in extraHeaders { headers.add(name: n, value: v) }
        if close { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: version, status: status, headers: headers)
        context.write(wrap(.head(head)), promise: nil)
        context.write(wrap(.body(.byteBuffer(body))), promise: nil)
        let done = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrap(.end(nil)), promise: done)
        return done.futureResult
    }

    var bodyByteCount: Int { "meshgate: \(message)\n".utf8.count }
}
