import Metrics
import MeshgateCore

/// The proxy's metrics, created once (label lookups are not free on the hot path).
final class ProxyMetrics: Sendable {
    /// Indexed by `PolicyAction.allCases` position × status class (1xx…5xx).
    private let requests: [Counter]
    private static let actionIndex: [PolicyAction: Int] = Dictionary(uniqueKeysWithValues: PolicyAction.allCases.enumerated().map { ($1, $0) })
    /// `meshgate_proxy_active_connections`.
    let activeConnections: Meter
    private let upstreamErrors: [String: Counter]
    /// `meshgate_proxy_connects_total` by outcome.
    let tunnelsIntercepted: Counter
    let tunnelsSpliced: Counter
    /// `meshgate_proxy_client_tls_failures_total`: clients that refused our certificate (CA not installed).
    let clientTLSFailures: Counter
    /// `meshgate_proxy_bad_requests_total`: malformed or oversized requests refused.
    let badRequests: Counter

    init() {
        var requests: [Counter] = []
        for action in PolicyAction.allCases {
            for cls in ["1xx", "2xx", "3xx", "4xx", "5xx"] {
                requests.append(Counter(
                    label: "meshgate_proxy_requests_total",
                    dimensions: [("action", action.rawValue), ("status_class", cls)]
                ))
            }
        }
        self.requests = requests
        activeConnections = Meter(label: "meshgate_proxy_active_connections")
        var upstreamErrors: [String: Counter] = [:]
        for kind in ["dns", "connect", "timeout", "tls", "closed"] {
            upstreamErrors[kind] = Counter(label: "meshgate_proxy_upstream_errors_total", dimensions: [("kind", kind)])
        }
        self.upstreamErrors = upstreamErrors
        tunnelsIntercepted = Counter(label: "meshgate_proxy_connects_total", dimensions: [("mode", "intercept")])
        tunnelsSpliced = Counter(label: "meshgate_proxy_connects_total", dimensions: [("mode", "splice")])
        clientTLSFailures = Counter(label: "meshgate_proxy_client_tls_failures_total")
        badRequests = Counter(label: "meshgate_proxy_bad_requests_total")
    }

    func countRequest(action: PolicyAction, status: Int) {
        guard let row = Self.actionIndex[action] else { return }
        requests[row * 5 + min(max(status / 100, 1), 5) - 1].increment()
    }

    func countUpstreamError(_ kind: String) {
        upstreamErrors[kind]?.increment()
    }
}
