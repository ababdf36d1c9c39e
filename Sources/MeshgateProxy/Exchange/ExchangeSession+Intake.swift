import Logging
import MeshgateCore
import NIOCore
import NIOHTTP1

/// A request head's way in, on every listener: the exchange begins, and access and header limits
/// are checked before the listener's front (`ExchangeFront`) says what the request means.
extension ExchangeSession {
    /// Begins an exchange for `head`; nil when it was answered (refused) or the connection closed.
    func beginExchange(_ head: HTTPRequestHead, context: ChannelHandlerContext) -> HTTPTransaction? {
        // llhttp also stops after a CONNECT: a refused one (403, 407) must not wedge the connection.
        guard machine.beginExchange(decoderStops: head.method == .CONNECT || HeaderRewriter.decoderStopsAfter(head.headers)) else {
            // HTTPServerPipelineHandler hands over one request at a time, and one it delivers while the
            // previous exchange settles is deferred in channelRead; anything else is a bug or abuse.
            context.close(promise: nil)
            return nil
        }
        let intercepted: Bool
        if case .intercepted = mode { intercepted = true } else { intercepted = false }
        let tx = HTTPTransaction(
            head: head,
            scheme: intercepted ? "https" : "http",
            host: "",
            port: 0,
            path: head.uri,
            intercepted: intercepted,
            transparent: transparent
        )
        if case .intercepted(let authority, _, _) = mode {
            tx.route.host = authority.host
            tx.route.port = authority.port
        }

        guard configuration.allows(clientAddress) else {
            let who = clientAddress?.ipAddress ?? "unknown"
            respondLocally(tx, LocalResponse(status: .forbidden, message: "client \(who) is not allowed (access.allow_clients)"), close: true)
            return nil
        }
        guard head.headers.count <= configuration.maxHeaderCount else {
            let message = "request has \(head.headers.count) header fields, more than \(configuration.maxHeaderCount) (limits.max_header_count)"
            respondLocally(tx, LocalResponse(status: .requestHeaderFieldsTooLarge, message: message), close: true)
            return nil
        }
        return tx
    }
}
