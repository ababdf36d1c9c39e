import NIOCore
import NIOHTTP1

/// One feature's view of an exchange: its request on the way upstream (inspection, policy, MCP
/// servers in LLM calls, AI routing, token admission) and its response on the way back (legacy SSE
/// cut, LLM metering, translation, usage-chunk removal, AI fallback). Filters run in the orders that
/// `ExchangeFilterOrder` fixes; each keeps its own state, reads and annotates the exchange, and
/// never touches a channel: what it wants done it returns as a `FilterStatus` (after Envoy's filter
/// statuses), which the handler carries out.
protocol ExchangeFilter: AnyObject {
    /// The request head, before anything goes upstream. `.holdBody` asks for the body first.
    func requestHead(exchange: HTTPTransaction) -> FilterStatus
    /// The request body, held whole (or its first `inspection.max_body_bytes` under `inspect_prefix`):
    /// raw in `exchange.heldBody`, decoded in `exchange.requestBody.inspected` once inspection ran.
    func requestBody(exchange: HTTPTransaction) -> FilterStatus
    /// The response head as the client will get it (already rewritten for the client).
    func responseHead(_ head: inout HTTPResponseHead, exchange: HTTPTransaction) -> FilterStatus
    /// A response body part; the filter may change it (an emptied part is not written).
    func responseBody(_ body: inout ByteBuffer, exchange: HTTPTransaction) -> FilterStatus
    /// The upstream response ended; the filter may add what it still owes the client.
    func responseEnd(_ tail: inout ResponseTail, exchange: HTTPTransaction) -> FilterStatus
    /// Whether the body reaches the client byte for byte and the exchange may be recorded as soon as
    /// its announced length went out (false for filters that change the body or charge at the end).
    var passesBodyThrough: Bool { get }
}

extension ExchangeFilter {
    func requestHead(exchange: HTTPTransaction) -> FilterStatus { .continue }
    func requestBody(exchange: HTTPTransaction) -> FilterStatus { .continue }
    func responseHead(_ head: inout HTTPResponseHead, exchange: HTTPTransaction) -> FilterStatus { .continue }
    func responseBody(_ body: inout ByteBuffer, exchange: HTTPTransaction) -> FilterStatus { .continue }
    func responseEnd(_ tail: inout ResponseTail, exchange: HTTPTransaction) -> FilterStatus { .continue }
    var passesBodyThrough: Bool { true }
}

/// What a filter hook tells the handler.
enum FilterStatus {
    /// The (possibly changed) part goes on to the next filter, then to the client.
    case `continue`
    /// The filter keeps the part (a head or body held for a whole-body translation): nothing more
    /// happens with it now.
    case consumed
    /// This upstream part and every later one wait until work the filter started (`start`) is back;
    /// then the part is offered to this filter again.
    case pause
    /// The response ends here: these bytes, then the end of the response; the upstream call is
    /// cancelled and the connection closes once they are out.
    case end(ByteBuffer)
    /// The connection is cut at once; nothing more is written.
    case cut
    /// meshgate answers instead, in the caller's format where it has one (too late after the head
    /// went out: then the connection is cut). The upstream call is cancelled.
    case respond(HTTPResponseStatus, message: String)
    /// Head only: the provider failed in a way another candidate may not; the call moves on to it.
    case retry(outcome: String, retryAfter: String?)
    /// Request head only: the filter decides once the body is held.
    case holdBody
    /// meshgate answers with this response; `close`: the connection closes after it.
    case reply(LocalResponse, close: Bool)
}

/// What goes to the client after the upstream response ended: a head that was held back (whole-body
/// translation) and bytes still owed.
struct ResponseTail {
    var head: HTTPResponseHead?
    var body: ByteBuffer?

    mutating func append(_ bytes: ByteBuffer) {
        guard bytes.readableBytes > 0 else { return }
        if body == nil { body = bytes } else { var more = bytes; body?.writeBuffer(&more) }
    }
}

/// What a filter may ask of the exchange besides its status: work off the event loop, and back-pressure.
protocol ExchangeFilterCallbacks: AnyObject {
    /// Runs `work` off the event loop; `then` runs back on it (whether or not the exchange is still
    /// current: a filter may have something to give back), and while the exchange is current its
    /// status is carried out as the paused hook's would be (`.continue` offers the paused request,
    /// or the held response parts, to the filter that paused again).
    func start<T: Sendable>(_ work: @escaping @Sendable () async -> T, then: @escaping (T) -> FilterStatus)
    /// Stops reading from the upstream until a `then` returns `.continue` (and the client can take more).
    func holdUpstreamReads()
}
