import MeshgateCore
import NIOConcurrencyHelpers

/// The tool names of a paginated `tools/list` gathered across its pages (each page may come on
/// another connection), so that a pinned tool missing from the whole list is reported as `removed`
/// once the last page arrives. Bounded (256 listings of at most 2,000 names, a few MiB at worst): the
/// oldest listings are forgotten first.
final class MCPToolListPages: Sendable {
    private let listings = NIOLockedValueBox(LRUCache<String, [String]>(capacity: 256))
    /// A listing larger than this is not gathered (no `removed` is reported for it).
    static let maxNames = 2_000

    /// Adds one page's names to the listing `key`; on the last page returns the whole listing and
    /// forgets it.
    func add(_ names: [String], key: String, last: Bool) -> [String]? {
        listings.withLockedValue { cache in
            var all = cache.get(key) ?? []
            all += names
            if last {
                _ = cache.set(key, [])
                return all
            }
            // An over-long listing is dropped (emptied): no `removed` is better than a wrong one.
            _ = cache.set(key, all.count <= Self.maxNames ? all : [])
            return nil
        }
    }
}
