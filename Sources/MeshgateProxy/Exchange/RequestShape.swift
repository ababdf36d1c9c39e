import MeshgateAI
import MeshgateCore
import MeshgateInspection
import MeshgateJSON
import MeshgatePolicy
import NIOCore
import NIOHTTP1

/// What a request head says about its body and its target, as the request filters read it.
enum RequestShape {
    /// An empty buffer for a held body, sized up front when the length is announced so a 64 KiB
    /// body is not copied through every power of two on its way in.
    static func inspectionBuffer(for head: HTTPRequestHead, cap: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        if let length = head.headers.first(name: "content-length").flatMap({ Int($0) }), length > 0 {
            buffer.reserveCapacity(min(length, cap + 16 * 1024))
        }
        return buffer
    }

    /// The most the `ai` listener holds of one request.
    static let maxAIRequestBytes = 32 * 1_048_576

    /// Whether a JSON body is held for the audit's mcp_method when no rule needs it: when it is
    /// small (MCP messages nearly always are) or announces MCP (Streamable HTTP clients send
    /// `Accept: text/event-stream` or `Mcp-*` headers), up to 64 KiB. Other large JSON (LLM
    /// prompts, uploads) streams through without being held and scanned.
    static func isSmallJSON(_ head: HTTPRequestHead) -> Bool {
        guard let type = head.headers.first(name: "content-type"), type.containsASCIICaseInsensitive("json"),
              let length = head.headers.first(name: "content-length").flatMap({ Int($0) }) else { return false }
        if length <= 8 * 1024 { return true }
        return length <= 64 * 1024 && looksLikeMCP(head)
    }

    static func looksLikeMCP(_ head: HTTPRequestHead) -> Bool {
        head.headers.contains(name: "mcp-protocol-version") || head.headers.contains(name: "mcp-session-id")
            || head.headers[canonicalForm: "accept"].contains { $0.hasASCIICaseInsensitivePrefix("text/event-stream") }
    }

    static func hasBody(_ head: HTTPRequestHead) -> Bool {
        if head.headers.contains(name: "transfer-encoding") { return true }
        if let length = head.headers.first(name: "content-length"), let n = Int(length) { return n > 0 }
        return false
    }

    /// The target's scheme, host, port and path replace the original's; the original query is kept
    /// when the target has none (legacy MCP `/messages?sessionId=` keeps its session).
    static func reroute(_ original: ForwardTarget?, to url: String) -> ForwardTarget? {
        guard let parsed = AbsoluteURL(url), parsed.scheme == "http" || parsed.scheme == "https",
              let origin = HostPort(authority: parsed.authority, defaultPort: parsed.scheme == "https" ? 443 : 80) else { return nil }
        var path = parsed.pathAndQuery
        if !path.contains("?"), let query = original?.path.split(separator: "?", maxSplits: 1).dropFirst().first {
            path += "?" + query
        }
        return ForwardTarget(scheme: parsed.scheme, origin: origin, path: path, serverName: origin.isIPLiteral ? nil : origin.host, configured: true)
    }

    static func jsonRPCShape(_ value: JSONValue?) -> JSONRPCShape? {
        guard let value else { return nil }
        func isRequest(_ v: JSONValue) -> Bool { v["jsonrpc"]?.stringValue == "2.0" && v["method"]?.stringValue != nil }
        func tool(_ v: JSONValue) -> String? { v["method"]?.stringValue == "tools/call" ? v["params"]?["name"]?.stringValue : nil }
        if let items = value.arrayValue {
            let requests = items.filter(isRequest)
            guard !requests.isEmpty else { return nil }
            return .batch(requests.compactMap { request in request["id"].map { JSONRPCCall(id: $0.description, tool: tool(request)) } })
        }
        guard isRequest(value) else { return nil }
        return .single(id: value["id"].map(\.description), tool: tool(value))
    }

    static func jsonRPCMethod(_ value: JSONValue?) -> String? {
        guard let value else { return nil }
        let first = value.arrayValue?.first ?? value
        guard first["jsonrpc"]?.stringValue == "2.0" else { return nil }
        return first["method"]?.stringValue
    }
}

extension BodyFacts {
    /// The parsed body when it is JSON-RPC (re-parsed from the canonical text). Bodies whose canonical
    /// form never says `"jsonrpc"` are not parsed again: escapes are decoded there, so the check is exact.
    var canonicalValue: JSONValue? {
        guard let canonical, ByteSearch.contains(canonical, Self.jsonrpcKey) else { return nil }
        return try? JSONParser.parse(canonical)
    }

    private static let jsonrpcKey = Array(#""jsonrpc""#.utf8)
}
