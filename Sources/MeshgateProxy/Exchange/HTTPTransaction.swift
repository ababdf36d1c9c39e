import Foundation
import MeshgateAI
import MeshgateCore
import MeshgatePolicy
import NIOCore
import NIOHTTP1

/// One request/response exchange through the proxy, its data split by owner: the request's fixed
/// facts, its route, the verdict, the audit accumulator, the session's progress and held body, the
/// LLM filters' state and the filter run. Lives on the client channel's event loop.
final class HTTPTransaction {
    let request: ExchangeRequest
    /// The client's request head as it goes upstream (the `ai` listener swaps its credentials).
    var head: HTTPRequestHead
    var route: ExchangeRoute
    var verdict = ExchangeVerdict()
    var audit = ExchangeAudit()
    var progress = ExchangeProgress()
    var requestBody = ExchangeRequestBody()
    var llm = LLMExchange()
    var filters = ExchangeFilterRun()

    init(head: HTTPRequestHead, scheme: String, host: String, port: Int, path: String, intercepted: Bool,
         transparent: TransparentFacts? = nil) {
        var head = head
        let trace = TraceContext.hop(incoming: head.headers["traceparent"])
        head.headers.replaceOrAdd(name: "traceparent", value: trace.traceparent)
        self.head = head
        self.request = ExchangeRequest(
            intercepted: intercepted,
            upgradeRequested: HeaderRewriter.upgradeProtocol(head.headers) != nil,
            keepAlive: head.isKeepAlive,
            transparentDestination: transparent?.destination,
            workload: transparent?.workload,
            trace: trace
        )
        self.route = ExchangeRoute(scheme: scheme, host: host, port: port, path: path)
        self.audit.bytesIn = HTTPTransaction.estimatedSize(of: head)
    }

    /// The request as the policy sees it.
    func policyRequest(identity: Identity?) -> PolicyRequest {
        PolicyRequest(
            scheme: route.scheme,
            host: route.host,
            port: route.port,
            method: head.method.rawValue,
            path: route.path,
            headers: head.headers.map { ($0.name, $0.value) },
            identity: identity
        )
    }

    /// The held request body, its parts joined (nil if a part is not in memory).
    var heldBody: ByteBuffer? {
        var body = ByteBuffer()
        for part in requestBody.buffered {
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
        requestBody.buffered = [.body(.byteBuffer(body))] + (progress.requestEnded ? [.end(nil)] : [])
        requestBody.bufferedBytes = body.readableBytes
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
        let elapsed = NIODeadline.now() - request.startedAt
        var fields: [(String, AuditValue)] = [
            ("method", .string(head.method.rawValue)),
            ("scheme", .string(route.scheme)),
            ("host", .string(route.host)),
            ("port", .int(Int64(route.port))),
            ("path", .string(route.path)),
            // 499 (client closed before a response) follows nginx's convention.
            ("status", .int(Int64(audit.status ?? 499))),
            ("intercepted", .bool(request.intercepted)),
            ("bytes_in", .int(Int64(audit.bytesIn))),
            ("bytes_out", .int(Int64(audit.bytesOut))),
            ("duration_ms", .int(elapsed.nanoseconds / 1_000_000)),
        ]
        if let mcpMethod = verdict.mcpMethod { fields.append(("mcp_method", .string(mcpMethod))) }
        if let mcp = verdict.mcp {
            fields.append(("mcp_server", .optional(mcp.server)))
            if let tool = mcp.tool { fields.append(("mcp_tool", .string(tool))) }
            if mcp.tools.count > 1 { fields.append(("mcp_tools", .strings(mcp.tools))) }
            fields.append(("mcp_session", .optional(head.headers.first(name: "mcp-session-id"))))
            fields.append(("mcp_transport", .string(mcp.transport)))
            if let version = head.headers.first(name: "mcp-protocol-version") { fields.append(("mcp_protocol", .string(version))) }
            if let llmRequestID = mcp.llmRequestID {
                fields.append(("llm_request_id", .string(llmRequestID)))
                if let callID = mcp.llmCallID { fields.append(("llm_tool_call_id", .string(callID))) }
            }
        }
        if let redirectTarget = verdict.redirectTarget { fields.append(("target", .string(redirectTarget))) }
        if let error = audit.error { fields.append(("error", .string(error))) }
        if let inspectedPrefixBytes = verdict.inspectedPrefixBytes {
            fields.append(("body_truncated", .bool(true)))
            fields.append(("inspected_bytes", .int(Int64(inspectedPrefixBytes))))
        }
        if let transparentDestination = request.transparentDestination { fields.append(("destination", .string(transparentDestination))) }
        if let workload = request.workload {
            fields.append(("uid", .int(Int64(workload.uid))))
            fields.append(("cgroup", .optional(workload.cgroup)))
        }
        var kind = AuditEvent.Kind.http
        if let call = llm.call, llm.metered != nil {
            kind = .ai
            let usage = llm.charged
            fields.append(("provider", .string(call.provider.isEmpty ? "unknown" : call.provider)))
            fields.append(("model", .string(llm.metered?.model ?? "unknown")))
            fields.append(("input_tokens", .int(Int64(usage?.totalInput ?? 0))))
            fields.append(("output_tokens", .int(Int64(usage?.output ?? 0))))
            if let usage, usage.cacheRead > 0 || usage.cacheCreation > 0 {
                fields.append(("cache_read_tokens", .int(Int64(usage.cacheRead))))
                fields.append(("cache_creation_tokens", .int(Int64(usage.cacheCreation))))
            }
            fields.append(("budget_remaining", llm.metered?.remaining(after: usage).map { .int(Int64($0)) } ?? .null))
            if usage?.estimated == true { fields.append(("estimated", .bool(true))) }
            if llm.metered?.cut == true { fields.append(("cut", .bool(true))) }
            if let attempts = llm.attempts, !attempts.outcomes.isEmpty { fields.append(("attempts", .strings(attempts.outcomes))) }
            if let calls = llm.metered?.toolCalls, !calls.isEmpty {
                fields.append(("tool_calls", .objects(calls.map { [AuditMember("id", .optional($0.id)), AuditMember("name", .optional($0.name))] })))
            }
        }
        return AuditEvent(
            timestampMillis: request.startedWallMillis,
            kind: kind,
            client: client,
            identity: identity,
            action: verdict.action,
            rule: verdict.rule,
            ruleset: verdict.ruleset,
            detections: verdict.detections,
            fields: fields,
            requestID: request.trace.spanID,
            traceparent: request.trace.traceparent
        )
    }
}
