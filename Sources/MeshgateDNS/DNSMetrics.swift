import MeshgateCore
import Metrics

/// The DNS filter's metrics, created once (label lookups are not free on the hot path).
final class DNSMetrics: Sendable {
    /// `meshgate_dns_queries_total` by action.
    private let queries: [PolicyAction: Counter]
    /// `meshgate_dns_upstream_failures_total` by kind (`timeout`, `network`, `rcode`).
    private let upstreamFailures: [String: Counter]
    /// `meshgate_dns_cache_hits_total`.
    let cacheHits: Counter
    /// `meshgate_dns_cache_misses_total`.
    let cacheMisses: Counter
    /// `meshgate_dns_malformed_total`: queries answered FORMERR or dropped as unreadable.
    let malformed: Counter
    /// `meshgate_dns_servfail_total`: queries no upstream could answer.
    let servfail: Counter

    init(factory: (any MetricsFactory)? = nil) {
        let factory = factory ?? MetricsSystem.factory
        var queries: [PolicyAction: Counter] = [:]
        for action in PolicyAction.allCases where action != .limit {
            queries[action] = Counter(label: "meshgate_dns_queries_total", dimensions: [("action", action.rawValue)], factory: factory)
        }
        self.queries = queries
        var failures: [String: Counter] = [:]
        for kind in ["timeout", "network", "rcode"] {
            failures[kind] = Counter(label: "meshgate_dns_upstream_failures_total", dimensions: [("kind", kind)], factory: factory)
        }
        upstreamFailures = failures
        cacheHits = Counter(label: "meshgate_dns_cache_hits_total", factory: factory)
        cacheMisses = Counter(label: "meshgate_dns_cache_misses_total", factory: factory)
        malformed = Counter(label: "meshgate_dns_malformed_total", factory: factory)
        servfail = Counter(label: "meshgate_dns_servfail_total", factory: factory)
    }

    func countQuery(_ action: PolicyAction) { queries[action]?.increment() }

    func countUpstreamFailure(_ kind: String) { upstreamFailures[kind]?.increment() }
}
