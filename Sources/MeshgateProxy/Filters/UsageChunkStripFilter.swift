import MeshgateAI
import NIOCore
import NIOHTTP1

/// Drops the usage chunk meshgate asked for on the caller's behalf from an OpenAI stream (or that a
/// translated stream ends with), so the caller gets the stream it asked for.
final class UsageChunkStripFilter: ExchangeFilter {
    private var filter: UsageChunkFilter?

    func responseHead(_ head: inout HTTPResponseHead, exchange tx: HTTPTransaction) -> FilterStatus {
        // Only a stream has the chunk; a metered call knows by now whether it streams.
        if tx.llm.stripUsageChunk, tx.llm.metered.map(\.streaming) ?? true { filter = UsageChunkFilter() }
        return .continue
    }

    func responseBody(_ body: inout ByteBuffer, exchange: HTTPTransaction) -> FilterStatus {
        if filter != nil { body = filter?.filter(body) ?? body }
        return .continue
    }

    func responseEnd(_ tail: inout ResponseTail, exchange: HTTPTransaction) -> FilterStatus {
        if let rest = filter?.flush() { tail.append(rest) }
        return .continue
    }

    var passesBodyThrough: Bool { filter == nil }
}
