import MeshgateInspection
import MeshgateJSON

/// Every literal some body pattern of a policy needs (one per alternative of each pattern), made
/// ready for searching once per policy rather than once per request. A body holding none of them
/// cannot match any pattern, in its raw or (when the inspector can tell the two agree on such
/// literals) its canonical form.
public struct PatternLiterals: Sendable {
    /// The literals, each once.
    public let literals: [[UInt8]]
    /// Whether every literal is one canonicalisation cannot conjure up (`JSONCanonicalizer.isPlainLiteral`).
    public let arePlain: Bool
    /// The literals, prepared for searching.
    public let needles: ByteSearch.NeedleSet

    /// The literals of `regexes`, or nil when one of them has none to rely on.
    init?(_ regexes: [any CompiledRegex]) {
        var literals: [[UInt8]] = []
        for regex in regexes {
            guard let required = regex.requiredLiterals else { return nil }
            for literal in required where !literals.contains(literal) { literals.append(literal) }
        }
        self.literals = literals
        arePlain = literals.allSatisfy(JSONCanonicalizer.isPlainLiteral)
        needles = ByteSearch.NeedleSet(literals)
    }

    /// Whether `literal` is one of them.
    public func contains(_ literal: [UInt8]) -> Bool { literals.contains(literal) }
}
