import MeshgateDashboard
import NIOConcurrencyHelpers

/// The Live page's event stream: each poll sends the decisions that arrived since the last one
/// (that pass the filter) as server-sent events, `id` being the decision's sequence number so a
/// reconnecting browser resumes with `Last-Event-ID`.
final class DecisionStream: AdminEventSource {
    /// Decisions per poll at most: 1,000/s at four polls a second, more than anyone reads and
    /// twice the rows the Live page keeps. Of a larger burst the newest are sent and the rest
    /// skipped: the page is a view, the audit log has every line.
    static let perPoll = 250

    private let feed: DashboardFeed
    private let filter: DecisionFilter
    private let cursor: NIOLockedValueBox<UInt64>

    init(feed: DashboardFeed, filter: DecisionFilter, after sequence: UInt64) {
        self.feed = feed
        self.filter = filter
        cursor = NIOLockedValueBox(sequence)
    }

    func nextChunk() -> [UInt8] {
        let after = cursor.withLockedValue { $0 }
        let (events, next) = feed.decisions(after: after, limit: Self.perPoll, filter: filter)
        cursor.withLockedValue { $0 = next }
        guard !events.isEmpty else { return [] }
        var out: [UInt8] = []
        out.reserveCapacity(events.count * 420)
        for (sequence, event) in events {
            out.append(contentsOf: "id: ".utf8)
            out.append(contentsOf: String(sequence).utf8)
            out.append(contentsOf: "\nevent: decision\ndata: ".utf8)
            DashboardJSON.appendDecision(sequence, event, to: &out)
            out.append(contentsOf: "\n\n".utf8)
        }
        return out
    }
}
