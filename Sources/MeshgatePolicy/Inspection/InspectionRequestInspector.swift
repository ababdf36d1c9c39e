import MeshgateInspection

/// The proxy's view of a body: JSON canonicalised (escapes decoded, so they cannot hide a method name)
/// and MCP recognised by structure. The body given is already de-chunked and content-decoded.
public struct InspectionRequestInspector: RequestInspector {
    /// Creates the inspector.
    public init() {}

    /// Canonical JSON and MCP facts for `body`; header-only MCP is recognised with an empty body.
    public func facts(for request: PolicyRequest, body: [UInt8]) -> BodyFacts {
        let canonical = body.isEmpty ? nil : JSONCanonicalizer.canonicalize(body)
        let finding = MCPRecognizer.recognize(request: MCPRequestInfo(
            method: request.method,
            path: request.path,
            headers: request.headers,
            body: body.isEmpty ? nil : body,
            json: canonical?.value
        ))
        let mcp = finding.map {
            MCPFacts(isMCP: true, methods: $0.methods.isEmpty ? ($0.mcpMethod.map { [$0] } ?? []) : $0.methods,
                     detections: $0.detections, serverURLs: $0.serverURLs)
        } ?? .none
        return BodyFacts(raw: body, canonical: canonical?.text, mcp: mcp)
    }
}
