import NIOHTTP1

/// The exchange's filters (`ExchangeFilterOrder`, built at its head) and where they paused.
struct ExchangeFilterRun {
    var request: [any ExchangeFilter] = []
    var response: [any ExchangeFilter] = []
    /// A request filter waiting for work it started: the phase and the filter it resumes at.
    var pausedRequest: (body: Bool, filter: Int)?
    /// Upstream parts waiting for work a filter started, each with the filter it resumes at (nil when
    /// nothing waits); the first is the part the filter paused on.
    var heldResponse: [(part: HTTPClientResponsePart, from: Int)]?
    /// What the filters before a paused end already added to the response's tail.
    var pausedTail: ResponseTail?
    /// A filter holds the response head (a whole-body translation); it goes out with the body.
    var responseHeadHeld = false
    /// The provider closed the connection while parts, its end among them, were held.
    var upstreamClosedWhileHeld = false
}
