import NIOCore
import NIOHTTP1

/// One feature's view of an exchange's response on its way to the client (legacy SSE cut, LLM
/// metering, translation, usage-chunk removal, AI fallback). Filters run in the order that
/// `ExchangeFilterOrder` fixes; each keeps its own state, reads and annotates the exchange, and
/// never touches a channel: what it wants done it returns as a `FilterStatus` (after Envoy's filter
/// statuses), which the handler carries out.
protocol ExchangeFilter: AnyObject {
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
    /// Runs `work` off the event loop; `then` runs back on it while the exchange is still the one
    /// forwarding, and its status is carried out as the paused hook's would be (`.continue` offers
    /// the held parts again, from the filter that paused).
    func start<T: Sendable>(_ work: @escaping @Sendable () async -> T, then: @escaping (T) -> FilterStatus)
    /// Stops reading from the upstream until a `then` returns `.continue` (and the client can take more).
    func holdUpstreamReads()
}
