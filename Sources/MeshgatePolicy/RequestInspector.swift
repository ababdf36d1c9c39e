/// Produces ``BodyFacts`` for a request body: decoding, JSON canonicalisation and MCP
/// recognition live in `MeshgateInspection`, which conforms to this; the embedded ruleset tests
/// run bodies through it so that they see what the proxy would see.
public protocol RequestInspector: Sendable {
    /// The facts for `body` (already de-chunked and decoded) sent with `request`.
    func facts(for request: PolicyRequest, body: [UInt8]) -> BodyFacts

    /// The facts for `body` under a policy whose body patterns all need one of `literals`
    /// (``PolicyEngine/canonicalLiterals``; nil: unknown). An inspector may then leave out work that
    /// no rule could observe, such as the canonical form of a body that lacks every literal.
    func facts(for request: PolicyRequest, body: [UInt8], patternLiterals literals: PatternLiterals?) -> BodyFacts
}

extension RequestInspector {
    /// Ignores the hint.
    public func facts(for request: PolicyRequest, body: [UInt8], patternLiterals literals: PatternLiterals?) -> BodyFacts {
        facts(for: request, body: body)
    }
}

/// An inspector that only offers the raw bytes: no canonical JSON form and no MCP recognition.
/// For tools that run without the inspection module; `mcp` selectors never match under it.
public struct RawBodyInspector: RequestInspector {
    /// Creates the inspector.
    public init() {}

    /// The body as raw bytes, not MCP.
    public func facts(for request: PolicyRequest, body: [UInt8]) -> BodyFacts {
        BodyFacts(raw: body)
    }
}
