import NIOCore
import NIOHTTP1

/// A response meshgate writes itself: errors and refusals (a one-line human body) and policy
/// decisions (JSON-RPC errors, HTML, redirects).
struct LocalResponse {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: String
    /// The reason for the audit line's `error` field (errors only, not policy decisions).
    var errorMessage: String?

    /// An error or refusal with a one-line body naming the cause.
    init(status: HTTPResponseStatus, message: String, extraHeaders: [(String, String)] = []) {
        self.status = status
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "X-Meshgate-Error", value: status.reasonPhrase)
        for (n, v) in extraHeaders { headers.add(name: n, value: v) }
        self.headers = headers
        self.body = "meshgate: \(message)\n"
        self.errorMessage = message
    }

    /// A prepared response (policy decisions).
    init(status: HTTPResponseStatus, headers: HTTPHeaders, body: String) {
        self.status = status
        self.headers = headers
        self.body = body
        self.errorMessage = nil
    }

    /// Writes head, body and end to a server pipeline.
    func write(
        to context: ChannelHandlerContext,
        version: HTTPVersion,
        close: Bool,
        wrap: (HTTPServerResponsePart) -> NIOAny
    ) -> EventLoopFuture<Void> {
        var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
        buffer.writeString(body)
        var headers = self.headers
        headers.replaceOrAdd(name: "Content-Length", value: String(buffer.readableBytes))
        if close { headers.replaceOrAdd(name: "Connection", value: "close") }
        context.write(wrap(.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
        context.write(wrap(.body(.byteBuffer(buffer))), promise: nil)
        let done = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrap(.end(nil)), promise: done)
        return done.futureResult
    }

    var bodyByteCount: Int { body.utf8.count }
}
