import Logging
import MeshgateCore
import NIOCore
import NIOHTTP1

/// The last handler of an admin connection, after NIO's HTTP/1.1 server codec and an
/// `IdleStateHandler`: consumes `HTTPServerRequestPart`s, asks the `AdminRouter` for a
/// response, writes it as `HTTPServerResponsePart`s with `Content-Length` and
/// `Connection: close`, and closes the connection once it is on the wire.
final class AdminHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var machine: StateMachine
    private let router: AdminRouter
    private let logger: Logger
    /// False once the channel went away: a slow route must not write through a dead context.
    private var isLive = true
    /// The request body as it arrives (the state machine bounds it).
    private var body: [UInt8] = []
    /// The next poll of a streamed response, cancelled when the channel goes.
    private var nextPoll: Scheduled<Void>?
    /// Polls of a streamed response since something was last sent (for the keep-alive comment).
    private var quietPolls = 0
    /// How often a streamed response asks its source for news.
    static let pollInterval = TimeAmount.milliseconds(250)
    /// A comment line every this many quiet polls (15 s), so proxies and browsers keep the stream.
    static let keepAlivePolls = 60

    /// Told when a streamed response starts, so that a shutdown closes it instead of waiting for it.
    private let streamStarted: @Sendable (any Channel) -> Void

    init(router: AdminRouter, maxBodyBytes: Int, logger: Logger, streamStarted: @escaping @Sendable (any Channel) -> Void = { _ in }) {
        self.streamStarted = streamStarted
        self.router = router
        self.machine = StateMachine(maxBodyBytes: maxBodyBytes)
        self.logger = logger
    }
}

extension AdminHTTPHandler {
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let action: StateMachine.Action
        switch unwrapInboundIn(data) {
        case .head(let head): action = machine.receivedHead(head)
        case .body(let part):
            action = machine.receivedBody(byteCount: part.readableBytes)
            if action == .none, case .receivingBody = machine.state { body.append(contentsOf: part.readableBytesView) }
        case .end: action = machine.receivedEnd()
        }
        perform(action, context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            perform(machine.readTimedOut(), context: context)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        isLive = false
        nextPoll?.cancel()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        isLive = false
        nextPoll?.cancel()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("admin connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}

extension AdminHTTPHandler {
    private func perform(_ action: StateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .close:
            context.close(promise: nil)
        case .rejectTooLarge(let head):
            let limit = machine.maxBodyBytes
            write(.error(.payloadTooLarge, "request bodies are limited to \(limit) bytes"), for: head, context: context)
        case .respond(let head):
            let remote = context.channel.remoteAddress
            var parsed = AdminRequest(
                head: head,
                clientAddress: remote.flatMap(IPAddress.bytes(of:)),
                clientDescription: remote?.ipAddress ?? "unknown"
            )
            parsed.body = body
            body = []
            let request = parsed
            let router = self.router
            let promise = context.eventLoop.makePromise(of: AdminResponse.self)
            promise.completeWithTask { await router.respond(to: request) }
            promise.futureResult.assumeIsolated().whenSuccess { response in
                self.write(response, for: head, context: context)
            }
        }
    }

    private func write(_ response: AdminResponse, for head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard isLive else { return }
        if let stream = response.stream, head.method != .HEAD {
            startStream(stream, response: response, for: head, context: context)
            return
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        headers.add(name: "Cache-Control", value: "no-store")
        headers.add(name: "Connection", value: "close")
        for (name, value) in response.extraHeaders { headers.add(name: name, value: value) }
        let version = head.version.major == 1 ? head.version : .http1_1
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: response.status, headers: headers))),
                      promise: nil)
        if head.method != .HEAD, !response.body.isEmpty {
            let buffer = context.channel.allocator.buffer(bytes: response.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        logger.debug(
            "admin request",
            metadata: [
                "method": "\(head.method.rawValue)",
                "path": "\(head.uri)",
                "status": "\(response.status.code)",
                "client_ip": "\(context.channel.remoteAddress?.ipAddress ?? "unknown")",
            ]
        )
        // Close only once the response is written: closing earlier would discard unsent bytes.
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}

extension AdminHTTPHandler {
    /// A response whose body runs until the client leaves (or the listener shuts down): the head
    /// now, then whatever the source has at each poll. No Content-Length; the connection's close
    /// ends the body.
    private func startStream(_ source: any AdminEventSource, response: AdminResponse, for head: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Cache-Control", value: "no-store")
        headers.add(name: "Connection", value: "close")
        for (name, value) in response.extraHeaders { headers.add(name: name, value: value) }
        let version = head.version.major == 1 ? head.version : .http1_1
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: response.status, headers: headers))), promise: nil)
        // A first line at once, so a client sees the stream is open before the first event (and
        // tells EventSource how soon to reconnect).
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: ": stream open\nretry: 2000\n\n")))),
                              promise: nil)
        streamStarted(context.channel)
        logger.debug("admin stream opened", metadata: ["path": "\(head.uri)", "client_ip": "\(context.channel.remoteAddress?.ipAddress ?? "unknown")"])
        poll(source, context: context)
    }

    private func poll(_ source: any AdminEventSource, context: ChannelHandlerContext) {
        guard isLive else { return }
        // A reader that does not keep up is not polled: its cursor stays, and it catches up from
        // the ring (or skips what the ring no longer holds) when it drains.
        if context.channel.isWritable {
            var chunk = source.nextChunk()
            if chunk.isEmpty {
                quietPolls += 1
                if quietPolls >= Self.keepAlivePolls { chunk = Array(": keep-alive\n\n".utf8) }
            }
            if !chunk.isEmpty {
                quietPolls = 0
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: chunk)))), promise: nil)
            }
        }
        nextPoll = context.eventLoop.assumeIsolated().scheduleTask(in: Self.pollInterval) {
            self.poll(source, context: context)
        }
    }
}
