import Foundation
import MeshgateCore
import Metrics
import NIOConcurrencyHelpers
import NIOCore

/// A thread-safe cache of minted leaves, keyed by normalised host, shared by all event loops.
///
/// Concurrent requests for a host that is not cached collapse onto one mint: the first caller mints
/// (synchronously, on its own thread; an ECDSA signature takes tens of microseconds) and completes
/// everyone who asked meanwhile, each on their own event loop. A cached leaf close to expiry is
/// re-minted rather than served, so a long-running proxy never presents an expired certificate.
///
/// Metrics: `meshgate_tls_leaf_cache_hits_total` (served from the cache),
/// `meshgate_tls_leaf_cache_misses_total` (not cached: minted, or joined a mint in flight) and the
/// timer `meshgate_tls_leaf_mint_seconds`. They are made from the global `MetricsSystem` factory when the
/// cache is created, so create it after bootstrapping metrics.
public final class LeafCertificateCache: Sendable {
    private struct State: Sendable {
        var leaves: LRUCache<String, MintedLeaf>
        var inFlight: [String: [EventLoopPromise<MintedLeaf>]] = [:]
        var mintCount = 0
    }

    /// What a lookup decided under the lock.
    private enum Step {
        case hit(MintedLeaf)
        case join(EventLoopFuture<MintedLeaf>)
        case mint
    }

    /// The minter that fills the cache.
    public let minter: LeafMinter
    /// The most leaves kept.
    public let capacity: Int

    private let state: NIOLockedValueBox<State>
    private let now: @Sendable () -> Date
    /// Runs on the minting thread just before a mint; tests use it to hold a mint in flight.
    private let beforeMint: (@Sendable (String) -> Void)?
    private let hits: Counter
    private let misses: Counter
    private let mintTimer: Metrics.Timer

    /// Creates an empty cache in front of `minter` holding at most `capacity` leaves (LRU eviction).
    public convenience init(minter: LeafMinter, capacity: Int = 10_000) {
        self.init(minter: minter, capacity: capacity, now: { Date() }, beforeMint: nil)
    }

    /// As above with an injected clock and a hook before each mint, for tests.
    init(
        minter: LeafMinter,
        capacity: Int,
        now: @escaping @Sendable () -> Date,
        beforeMint: (@Sendable (String) -> Void)?
    ) {
        self.minter = minter
        self.state = NIOLockedValueBox(State(leaves: LRUCache(capacity: capacity)))
        self.capacity = max(1, capacity)
        self.now = now
        self.beforeMint = beforeMint
        self.hits = Counter(label: "meshgate_tls_leaf_cache_hits_total")
        self.misses = Counter(label: "meshgate_tls_leaf_cache_misses_total")
        self.mintTimer = Metrics.Timer(label: "meshgate_tls_leaf_mint_seconds", preferredDisplayUnit: .seconds)
    }

    /// The number of cached leaves.
    public var count: Int { state.withLockedValue { $0.leaves.count } }

    /// How many leaves this cache has minted (a measure of how well concurrent misses collapse).
    public var mintCount: Int { state.withLockedValue { $0.mintCount } }

    /// How many callers are waiting on the mint in flight for `host` (for tests).
    func waiterCount(for host: String) -> Int {
        state.withLockedValue { $0.inFlight[host]?.count ?? 0 }
    }

    /// The leaf for `host`, from the cache or freshly minted; the future completes on `eventLoop`.
    /// Fails with `LeafMintError` for a name no certificate can carry.
    public func leaf(for host: String, on eventLoop: any EventLoop) -> EventLoopFuture<MintedLeaf> {
        let key: String
        do {
            key = try LeafMinter.subjectName(for: host).text
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        let now = self.now()
        let step = state.withLockedValue { state -> Step in
            if let leaf = state.leaves.get(key), !needsRenewal(leaf, now: now) {
                return .hit(leaf)
            }
            if state.inFlight[key] != nil {
                let promise = eventLoop.makePromise(of: MintedLeaf.self)
                state.inFlight[key, default: []].append(promise)
                return .join(promise.futureResult)
            }
            state.inFlight[key] = []
            state.mintCount += 1
            return .mint
        }

        switch step {
        case .hit(let leaf):
            hits.increment()
            return eventLoop.makeSucceededFuture(leaf)
        case .join(let future):
            misses.increment()
            return future
        case .mint:
            misses.increment()
            beforeMint?(key)
            let started = NIODeadline.now()
            let result = Result { try minter.mint(host: key, now: now) }
            mintTimer.recordNanoseconds((NIODeadline.now() - started).nanoseconds)
            let waiters = state.withLockedValue { state in
                if case .success(let leaf) = result { state.leaves.set(key, leaf) }
                return state.inFlight.removeValue(forKey: key) ?? []
            }
            for waiter in waiters { waiter.completeWith(result) }
            return eventLoop.makeCompletedFuture(result)
        }
    }

    /// Whether a cached leaf is too close to expiry to hand out: within a quarter of its validity,
    /// at most a day. Clients reject expired leaves, and a slightly early re-mint is cheap.
    private func needsRenewal(_ leaf: MintedLeaf, now: Date) -> Bool {
        let margin = min(minter.validity / 4, 86_400)
        return leaf.certificate.notValidAfter.timeIntervalSince(now) < margin
    }
}
