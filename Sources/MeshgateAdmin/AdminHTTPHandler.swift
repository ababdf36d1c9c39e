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

    init(router: AdminRouter, maxBodyBytes: Int, logger: Logger) {
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
        case .body(let body): action = machine.receivedBody(byteCount: body.readableBytes)
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
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        isLive = false
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
            let request = AdminRequest(
                head: head,
                clientAddress: remote.flatMap(IPAddress.bytes(of:)),
                clientDescription: remote?.ipAddress ?? "unknown"
            )
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
