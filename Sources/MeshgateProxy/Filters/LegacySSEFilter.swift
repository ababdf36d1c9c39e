import Logging
import MeshgateCore
import MeshgateInspection
import MeshgatePolicy
import NIOCore
import NIOHTTP1

/// Legacy MCP over SSE announces itself in the response (`event: endpoint`), whatever the request
/// looked like. Seeing it adds the `MCP SSE` detection; if the policy would not let MCP through to
/// this host, the stream is cut before the client reads the endpoint.
final class LegacySSEFilter: ExchangeFilter {
    /// The start of the stream, kept until it shows whether it is the handshake (nil: decided).
    private var prefix: [UInt8]? = []
    private let identity: Identity?
    private let logger: Logger
    static let maxPrefixBytes = 4096

    init(identity: Identity?, logger: Logger) {
        self.identity = identity
        self.logger = logger
    }

    /// Only event streams are watched.
    static func applies(to head: HTTPResponseHead) -> Bool {
        head.headers.first(name: "content-type").map { $0.containsASCIICaseInsensitive("text/event-stream") } ?? false
    }

    func responseBody(_ body: inout ByteBuffer, exchange tx: HTTPTransaction) -> FilterStatus {
        guard var seen = prefix else { return .continue }
        seen.append(contentsOf: body.readableBytesView.prefix(Self.maxPrefixBytes - seen.count))
        switch MCPLegacySSE.inspect(streamPrefix: seen, maxBytes: Self.maxPrefixBytes) {
        case .incomplete where seen.count < Self.maxPrefixBytes:
            prefix = seen
            return .continue
        case .incomplete, .notHandshake:
            prefix = nil
            return .continue
        case .endpoint:
            prefix = nil
        }
        let detection = MCPDetection.sse.rawValue
        if !tx.verdict.detections.contains(detection) { tx.verdict.detections.append(detection) }
        guard tx.verdict.action == .allow || tx.verdict.action == .log, let policy = tx.verdict.policy else { return .continue }
        var request = tx.policyRequest(identity: identity)
        request.bodyFacts = { BodyFacts(raw: [], mcp: MCPFacts(isMCP: true, detections: [detection])) }
        let verdict = policy.evaluate(request)
        guard verdict.action == .block || verdict.action == .reroute || verdict.action == .redirect else { return .continue }
        tx.verdict.action = .block
        tx.verdict.rule = verdict.rule
        tx.verdict.ruleset = verdict.ruleset
        tx.audit.error = "legacy MCP SSE stream cut by rule \(verdict.rule ?? "-")"
        logger.info("cut a legacy MCP SSE stream", metadata: ["host": "\(tx.route.host)", "rule_id": "\(verdict.rule ?? "-")"])
        return .cut
    }
}
