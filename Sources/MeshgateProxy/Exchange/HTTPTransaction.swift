import Foundation
import MeshgateAI
import MeshgateCore
import MeshgatePolicy
import NIOCore
import NIOHTTP1

/// One request/response exchange through the proxy, accumulated for its audit line.
final class HTTPTransaction {
    /// The client's request head (the `ai` listener swaps its credentials for the provider's).
    var head: HTTPRequestHead
    let startedAt = NIODeadline.now()
    let startedWallMillis = Int64(Date().timeIntervalSince1970 * 1000)
    var target: ForwardTarget?
    var scheme: String
    var host: String
    var port: Int
    var path: String
    var intercepted: Bool
    var status: Int?
    var action: PolicyAction = .allow
    /// The deciding rule and its ruleset (nil when no rule matched).
    var rule: String?
    var ruleset: String?
    /// DLP pattern names and recognizer findings.
    var detections: [String] = []
    /// The JSON-RPC method when the body is JSON-RPC (MCP or not).
    var mcpMethod: String?
    /// Where a redirect or reroute sent the request.
    var redirectTarget: String?
    var bytesIn = 0
    var bytesOut = 0
    var requestEnded = false
    var responseHeadSent = false
    var responseEnded = false
    /// Body bytes the client has still to receive, when the response announced its length and is
    /// passed on unchanged: the audit line is written before the last of them goes out.
    var responseBodyRemaining: Int?
    /// Whether the client's response announced a Content-Length (nothing may follow its last byte).
    var responseFramedByLength = false
    /// Request parts that arrived while the upstream connection was being opened.
    var buffered: [HTTPClientRequestPart] = []
    var bufferedBytes = 0
    var upgradeRequested: Bool
    /// The origin answered 101; the connections turn into a byte tunnel at the response's end.
    var switchingProtocols = false
    /// Whether the current upstream connection came from the pool (it may have gone stale).
    var usedPooledConnection = false
    /// Whether any request body bytes went upstream (a retry could not replay them).
    var bodyForwarded = false
    var retried = false
    /// Set once the audit line is recorded, so each transaction has exactly one.
    var audited = false
    /// The policy snapshot this request is decided and finished on.
    var policy: PolicyEngine?
    /// The held request body while a rule needs it (nil once decided).
    var inspection: ByteBuffer?
    /// Set when the policy saw only a prefix of the body (`inspection.over_limit: inspect_prefix`):
    /// how many bytes (after decoding) it saw. The audit line says so.
    var inspectedPrefixBytes: Int?
    var error: String?
    /// For redirected connections: the original destination (`ip:port`) and the local process behind it.
    var transparentDestination: String?
    var workload: LocalWorkload?
    /// The LLM call this request makes, once recognised (its provider is filled in by routing on
    /// the `ai` listener).
    var llmCall: LLMCall?
    /// What the held request body says about the call (model, stream, max tokens, input size).
    var llmFacts: LLMRequestFacts?
    /// The call's metering, from admission to charge.
    var metered: MeteredCall?
    /// The filters this exchange's request runs through (`ExchangeFilterOrder`), built at its head.
    var requestFilters: [any ExchangeFilter] = []
    /// The body is held until a filter decides on it (`.holdBody`).
    var holdingBody = false
    /// The held body, its Content-Encoding undone, once inspection ran.
    var inspectedBody: [UInt8]?
    /// A request filter waiting for work it started: the phase and the filter it resumes at.
    var pausedRequest: (body: Bool, filter: Int)?
    /// What the policy decided (for an allowed request: the MCP servers an LLM call names).
    var decision: PolicyDecision?
    /// The filters this exchange's response runs through (`ExchangeFilterOrder`), built at its head.
    var responseFilters: [any ExchangeFilter] = []
    /// Upstream parts waiting for work a filter started, each with the filter it resumes at (nil when
    /// nothing waits); the first is the part the filter paused on.
    var heldResponse: [(part: HTTPClientResponsePart, from: Int)]?
    /// What the filters before a paused end already added to the response's tail.
    var pausedTail: ResponseTail?
    /// A filter holds the response head (a whole-body translation); it goes out with the body.
    var responseHeadHeld = false
    /// The provider closed the connection while parts, its end among them, were held.
    var upstreamClosedWhileHeld = false
    /// The `ai` listener's candidates and attempts (nil elsewhere).
    var aiAttempts: AIAttempts?
    /// Gives up on an attempt whose provider sends no response head in time.
    var attemptTimer: Scheduled<Void>?
    /// The caller gets its stream without the usage chunk that meshgate asked for on its behalf, or
    /// that a translated OpenAI stream ends with (`UsageChunkStripFilter`).
    var stripUsageChunk = false
    /// What the call was charged (for the audit line), once it ended.
    var chargedUsage: TokenUsage?

    init(head: HTTPRequestHead, scheme: String, host: String, port: Int, path: String, intercepted: Bool) {
        self.head = head
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
        self.intercepted = intercepted
        self.upgradeRequested = HeaderRewriter.upgradeProtocol(head.headers) != nil
        self.bytesIn = HTTPTransaction.estimatedSize(of: head)
    }

    var clientKeepAlive: Bool { head.isKeepAlive }

    /// The request as the policy sees it.
    func policyRequest(identity: Identity?) -> PolicyRequest {
        PolicyRequest(
            scheme: scheme,
            host: host,
            port: port,
            method: head.method.rawValue,
            path: path,
            headers: head.headers.map { ($0.name, $0.value) },
            identity: identity
        )
    }

    /// The held request body, its parts joined (nil if a part is not in memory).
    var heldBody: ByteBuffer? {
        var body = ByteBuffer()
        for part in buffered {
            switch part {
            case .body(.byteBuffer(var chunk)): body.writeBuffer(&chunk)
            case .end: continue
            default: return nil
            }
        }
        return body
    }

    /// Replaces the held request body with `body` (an edit, a translation): it goes upstream with
    /// a `Content-Length`, followed by its end once the client's request has ended.
    func replaceHeldBody(_ body: ByteBuffer) {
        buffered = [.body(.byteBuffer(body))] + (requestEnded ? [.end(nil)] : [])
        bufferedBytes = body.readableBytes
        head.headers.remove(name: "transfer-encoding")
        head.headers.replaceOrAdd(name: "Content-Length", value: String(body.readableBytes))
    }

    /// The request line and headers as they crossed the wire (for byte counts).
    static func estimatedSize(of head: HTTPRequestHead) -> Int {
        var n = head.method.rawValue.utf8.count + head.uri.utf8.count + 12
        for (name, value) in head.headers { n += name.utf8.count + value.utf8.count + 4 }
        return n + 2
    }

    static func estimatedSize(of head: HTTPResponseHead) -> Int {
        var n = 15 + head.status.reasonPhrase.utf8.count
        for (name, value) in head.headers { n += name.utf8.count + value.utf8.count + 4 }
        return n + 2
    }

    func auditEvent(client: String?, identity: Identity?) -> AuditEvent {
        let elapsed = NIODeadline.now() - startedAt
        var fields: [(String, AuditValue)] = [
            ("method", .string(head.method.rawValue)),
            ("scheme", .string(scheme)),
            ("host", .string(host)),
            ("port", .int(Int64(port))),
            ("path", .string(path)),
            // 499 (client closed before a response) follows nginx's convention.
            ("status", .int(Int64(status ?? 499))),
            ("intercepted", .bool(intercepted)),
            ("bytes_in", .int(Int64(bytesIn))),
            ("bytes_out", .int(Int64(bytesOut))),
            ("duration_ms", .int(elapsed.nanoseconds / 1_000_000)),
        ]
        if let mcpMethod { fields.append(("mcp_method", .string(mcpMethod))) }
        if let redirectTarget { fields.append(("target", .string(redirectTarget))) }
        if let error { fields.append(("error", .string(error))) }
        if let inspectedPrefixBytes {
            fields.append(("body_truncated", .bool(true)))
            fields.append(("inspected_bytes", .int(Int64(inspectedPrefixBytes))))
        }
        if let transparentDestination { fields.append(("destination", .string(transparentDestination))) }
        if let workload {
            fields.append(("uid", .int(Int64(workload.uid))))
            fields.append(("cgroup", .optional(workload.cgroup)))
        }
        var kind = AuditEvent.Kind.http
        if let llmCall, metered != nil {
            kind = .ai
            let usage = chargedUsage
            fields.append(("provider", .string(llmCall.provider.isEmpty ? "unknown" : llmCall.provider)))
            fields.append(("model", .string(metered?.model ?? "unknown")))
            fields.append(("input_tokens", .int(Int64(usage?.totalInput ?? 0))))
            fields.append(("output_tokens", .int(Int64(usage?.output ?? 0))))
            if let usage, usage.cacheRead > 0 || usage.cacheCreation > 0 {
                fields.append(("cache_read_tokens", .int(Int64(usage.cacheRead))))
                fields.append(("cache_creation_tokens", .int(Int64(usage.cacheCreation))))
            }
            fields.append(("budget_remaining", metered?.remaining(after: usage).map { .int(Int64($0)) } ?? .null))
            if usage?.estimated == true { fields.append(("estimated", .bool(true))) }
            if metered?.cut == true { fields.append(("cut", .bool(true))) }
            if let aiAttempts, !aiAttempts.outcomes.isEmpty { fields.append(("attempts", .strings(aiAttempts.outcomes))) }
        }
        return AuditEvent(
            timestampMillis: startedWallMillis,
            kind: kind,
            client: client,
            identity: identity,
            action: action,
            rule: rule,
            ruleset: ruleset,
            detections: detections,
            fields: fields
        )
    }
}

// Confined to the client channel's event loop; callbacks that capture it run there.
extension HTTPTransaction: @unchecked Sendable {}
