import MeshgateInspection
import MeshgateJSON

/// The proxy's view of a body: JSON canonicalised (escapes decoded, so they cannot hide a method name)
/// and MCP recognised by structure. The body given is already de-chunked and content-decoded.
public struct InspectionRequestInspector: RequestInspector {
    /// Creates the inspector.
    public init() {}

    /// Canonical JSON and MCP facts for `body`; header-only MCP is recognised with an empty body.
    public func facts(for request: PolicyRequest, body: [UInt8]) -> BodyFacts {
        let canonical = body.isEmpty ? nil : JSONCanonicalizer.canonicalText(body)
        // The recognizer reads the tree only for JSON-RPC messages and LLM requests naming MCP
        // servers; a JSON body whose canonical text (escapes decoded, so nothing hides) has neither
        // `"jsonrpc"` nor `"mcp…` is not parsed into one (a 64 KiB prompt: ~17 µs instead of ~128).
        let needsTree = canonical.map { Self.treeMarkers.occurs(in: $0) } ?? true
        let mcp = Self.mcpFacts(request, body: body.isEmpty ? nil : body, needsTree: needsTree)
        return BodyFacts(raw: body, canonical: canonical, mcp: mcp)
    }

    /// The MCP recognizer's findings; the body is parsed only when `needsTree`.
    private static func mcpFacts(_ request: PolicyRequest, body: [UInt8]?, needsTree: Bool) -> MCPFacts {
        let finding = MCPRecognizer.recognize(request: MCPRequestInfo(
            method: request.method,
            path: request.path,
            headers: request.headers,
            body: needsTree ? body : nil,
            json: nil
        ))
        return finding.map {
            MCPFacts(isMCP: true, methods: $0.methods.isEmpty ? ($0.mcpMethod.map { [$0] } ?? []) : $0.methods,
                     detections: $0.detections, serverURLs: $0.serverURLs, connectors: $0.connectors, toolNames: $0.toolNames)
        } ?? .none
    }

    /// As `facts(for:body:)`, but a body that holds none of `literals` nor the MCP markers, and
    /// whose canonical form could not hold them either (`JSONCanonicalizer.addsNoPlainLiteral`),
    /// is not canonicalised: no pattern can match it and it is not MCP by its body. For a 64 KiB
    /// prompt that is most of the cost of inspecting it.
    public func facts(for request: PolicyRequest, body: [UInt8], patternLiterals literals: PatternLiterals?) -> BodyFacts {
        guard let literals, literals.arePlain, !body.isEmpty, JSONCanonicalizer.addsNoPlainLiteral(to: body),
              !Self.treeMarkers.occurs(in: body), !literals.needles.occurs(in: body) else {
            return facts(for: request, body: body)
        }
        return BodyFacts(raw: body, canonical: nil, mcp: Self.mcpFacts(request, body: nil, needsTree: false), lacksPatternLiterals: true)
    }

    /// Canonical-text fragments without which the MCP recognizer finds nothing in a JSON body:
    /// the `jsonrpc` member, and `mcp_servers` / tool types `mcp` and `mcp_toolset`.
    static let treeMarkers = ByteSearch.NeedleSet([Array(#""jsonrpc""#.utf8), Array(#""mcp"#.utf8)])
}
