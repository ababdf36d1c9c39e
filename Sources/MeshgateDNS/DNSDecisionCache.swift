import MeshgateCore
import NIOConcurrencyHelpers

/// Answers this filter made itself (block, redirect), kept ready for replay like upstream ones.
///
/// Half of a typical query mix is blocked, and building each of those answers from scratch
/// (message, name compression, Extended DNS Error text) cost more than everything else the
/// filter does for the query. The answer depends only on the question, the action and the rule
/// that decided it (plus this listener's fixed configuration), so it is made once and replayed
/// with the query's ID and flags. The verdict itself is still evaluated for every query, so a
/// policy reload applies at once.
final class DNSDecisionCache: Sendable {
    struct Key: Hashable, Sendable {
        var question: DNSQuestion
        var action: PolicyAction
        var rule: String?
    }

    private let entries: NIOLockedValueBox<LRUCache<Key, DNSCachedAnswer>>

    init(capacity: Int) {
        entries = NIOLockedValueBox(LRUCache(capacity: max(1, capacity)))
    }

    /// The number of answers kept.
    var count: Int { entries.withLockedValue { $0.count } }

    /// The answer for `key`, made by `make` (and kept) when there is none yet.
    func answer(for key: Key, make: () throws(DNSEncodeError) -> DNSCachedAnswer) throws(DNSEncodeError) -> DNSCachedAnswer {
        if let found = entries.withLockedValue({ $0.get(key) }) { return found }
        let made = try make()
        entries.withLockedValue { _ = $0.set(key, made) }
        return made
    }
}
