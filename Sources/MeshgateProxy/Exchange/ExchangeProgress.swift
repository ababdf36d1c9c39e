import NIOCore
import NIOHTTP1

/// How far the exchange has come on each side, as the session moves it along.
struct ExchangeProgress {
    var requestEnded = false
    var responseHeadSent = false
    var responseEnded = false
    /// Body bytes the client has still to receive, when the response announced its length and is
    /// passed on unchanged: the audit line is written before the last of them goes out.
    var responseBodyRemaining: Int?
    /// Whether the client's response announced a Content-Length (nothing may follow its last byte).
    var responseFramedByLength = false
    /// The origin answered 101; the connections turn into a byte tunnel at the response's end.
    var switchingProtocols = false
    /// Whether the current upstream connection came from the pool (it may have gone stale).
    var usedPooledConnection = false
    /// Whether any request body bytes went upstream (a retry could not replay them).
    var bodyForwarded = false
    var retried = false
}

/// The request body on its way: parts held while the upstream connects or a filter decides.
struct ExchangeRequestBody {
    /// Request parts that arrived while the upstream connection was being opened.
    var buffered: [HTTPClientRequestPart] = []
    var bufferedBytes = 0
    /// The body is held until a filter decides on it (`.holdBody`).
    var holding = false
    /// The held request body while a rule needs it (nil once decided).
    var inspection: ByteBuffer?
    /// The held body, its Content-Encoding undone, once inspection ran.
    var inspected: [UInt8]?
}
