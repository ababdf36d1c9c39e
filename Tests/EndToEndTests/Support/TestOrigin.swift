import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// An origin server started by a test on 127.0.0.1:0, plain or TLS.
/// Routes: GET /hello → "hello from origin"; POST /echo → the body back; GET /sse → events released one
/// at a time by `releaseNextEvent()`; GET /headers → the request headers as "name: value" lines;
/// GET /bytes?n=N → N bytes.
final class TestOrigin: Sendable {
    let channel: any Channel
    let port: Int
    private let state = NIOLockedValueBox(State())
    private let sseGate: NIOLockedValueBox<[EventLoopPromise<Void>]> = NIOLockedValueBox([])
    private let sseReleases = NIOLockedValueBox(0)

    struct State {
        var connections = 0
        var requests: [String] = []
    }

    var connectionCount: Int { state.withLockedValue { $0.connections } }
    var requests: [String] { state.withLockedValue { $0.requests } }

    let name: String

    /// Listens on `address`:`port` (port 0: any free one).
    init(group: any EventLoopGroup, tls: NIOSSLContext? = nil, name: String = "origin", address: String = "127.0.0.1", port: Int = 0) async throws {
        self.name = name
        let box = OriginBox()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                box.origin?.state.withLockedValue { $0.connections += 1 }
                return channel.eventLoop.makeCompletedFuture {
                    let ops = channel.pipeline.syncOperations
                    if let tls { try ops.addHandler(NIOSSLServerHandler(context: tls)) }
                    try ops.configureHTTPServerPipeline()
                    try ops.addHandler(OriginHandler(box: box))
                }
            }
            .bind(host: address, port: port).get()
        self.channel = channel
        self.port = channel.localAddress?.port ?? 0
        box.origin = self
    }

    func record(_ line: String) { state.withLockedValue { $0.requests.append(line) } }

    /// Lets the SSE route send its next event.
    func releaseNextEvent() {
        let waiter: EventLoopPromise<Void>? = sseGate.withLockedValue { $0.isEmpty ? nil : $0.removeFirst() }
        if let waiter { waiter.succeed(()) } else { sseReleases.withLockedValue { $0 += 1 } }
    }

    func waitForRelease(on loop: any EventLoop) -> EventLoopFuture<Void> {
        let banked = sseReleases.withLockedValue { n -> Bool in
            if n > 0 { n -= 1; return true }
            return false
        }
        if banked { return loop.makeSucceededVoidFuture() }
        let p = loop.makePromise(of: Void.self)
        sseGate.withLockedValue { $0.append(p) }
        return p.futureResult
    }

    func close() async { try? await channel.close() }
}

final class OriginBox: @unchecked Sendable {
    weak var origin: TestOrigin?
}

final class OriginHandler: ChannelInboundHandler, @unchecked Sendable {
    // Test origin: every callback runs on the channel's event loop.
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let box: OriginBox
    var head: HTTPRequestHead?
    var body = ByteBuffer()
    /// `/flaky`: the second request on a connection is dropped unanswered (a keep-alive race).
    var dropNextFlaky = false

    init(box: OriginBox) { self.box = box }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body.clear()
        case .body(var b):
            body.writeBuffer(&b)
        case .end:
            guard let head else { return }
            box.origin?.record("\(head.method.rawValue) \(head.uri)")
            respond(context: context, head: head)
        }
    }

    private func send(_ context: ChannelHandlerContext, status: HTTPResponseStatus = .ok, _ buffer: ByteBuffer, type: String = "text/plain", keepAlive: Bool) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: type)
        headers.add(name: "Content-Length", value: String(buffer.readableBytes))
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { bound.value.close(promise: nil) }
        }
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let keepAlive = head.isKeepAlive
        switch (head.method, path) {
        case (.POST, "/mcp"), (.GET, "/mcp"), (.POST, "/rpc"), (.POST, "/v2/rpc"):
            // Says who answered and what arrived, so reroutes and untouched bodies can be checked.
            var reply = ByteBuffer(string: "origin \(box.origin?.name ?? "?") got \(head.method.rawValue) \(head.uri) host=\(head.headers.first(name: "host") ?? "-") body=")
            var copy = body
            reply.writeBuffer(&copy)
            send(context, reply, keepAlive: keepAlive)
        case (.GET, "/hello"):
            send(context, ByteBuffer(string: "hello from origin\n"), keepAlive: keepAlive)
        case (.GET, "/flaky"):
            if dropNextFlaky {
                context.close(promise: nil)
            } else {
                dropNextFlaky = true
                send(context, ByteBuffer(string: "flaky ok\n"), keepAlive: keepAlive)
            }
        case (.POST, "/echo"), (.PUT, "/echo"):
            send(context, body, type: "application/octet-stream", keepAlive: keepAlive)
        case (.GET, "/headers"):
            let text = head.headers.map { "\($0.name.lowercased()): \($0.value)" }.joined(separator: "\n") + "\n"
            send(context, ByteBuffer(string: text), keepAlive: keepAlive)
        case (.GET, "/bytes"):
            let n = Int(head.uri.split(separator: "=").last ?? "0") ?? 0
            send(context, ByteBuffer(repeating: UInt8(ascii: "x"), count: n), keepAlive: keepAlive)
        case (.GET, "/events"):
            // A legacy MCP SSE handshake on a path that does not say so.
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "text/event-stream")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "event: endpoint\ndata: /messages?sessionId=abc123\n\n")))), promise: nil)
        case (.GET, "/sse"):
            streamEvents(context: context, remaining: 3, index: 1)
        default:
            send(context, status: .notFound, ByteBuffer(string: "no such route\n"), keepAlive: keepAlive)
        }
    }

    private func streamEvents(context: ChannelHandlerContext, remaining: Int, index: Int) {
        if index == 1 {
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "text/event-stream")
            headers.add(name: "Cache-Control", value: "no-cache")
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        }
        guard remaining > 0, let origin = box.origin else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        origin.waitForRelease(on: context.eventLoop).whenSuccess { [self] in
            let context = bound.value
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "data: event-\(index)\n\n")))), promise: nil)
            streamEvents(context: context, remaining: remaining - 1, index: index + 1)
        }
    }
}
