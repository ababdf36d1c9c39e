import Foundation
import MeshgateCore
import NIOCore
import NIOHTTP1

/// What the client sent and where it came from: fixed when the exchange begins.
struct ExchangeRequest {
    let startedAt = NIODeadline.now()
    let startedWallMillis = Int64(Date().timeIntervalSince1970 * 1000)
    /// Whether the request arrived inside an intercepted TLS tunnel.
    let intercepted: Bool
    /// The client asked for a protocol upgrade (WebSocket, h2c).
    let upgradeRequested: Bool
    /// The client's own keep-alive wish (the forwarded head may be rewritten).
    let keepAlive: Bool
    /// For redirected connections: the original destination (`ip:port`) and the local process behind it.
    let transparentDestination: String?
    let workload: LocalWorkload?
    /// This hop's trace context: the audit line's `request_id` and the `traceparent` sent upstream.
    let trace: TraceContext
}

/// Where the exchange goes, as the listener's front and then the filters (a reroute, an `ai`
/// attempt's provider) decide it. The audit line names the last.
struct ExchangeRoute {
    var scheme: String
    var host: String
    var port: Int
    var path: String
    /// The upstream, once the request is one to forward.
    var target: ForwardTarget?
}
