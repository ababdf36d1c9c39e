/// A hostname pattern as written in config and rulesets:
/// `example.com` (exact), `*.example.com` (any depth below example.com, not example.com itself),
/// `mcp.*` (first label `mcp`, any parent), or `*` (everything). Case-insensitive; a trailing dot is ignored.
public struct HostPattern: Sendable, Hashable, CustomStringConvertible {
    enum Kind: Hashable {
        case any
        case exact(String)
        case suffix(String)      // ".example.com"
        case firstLabel(String)  // "mcp"
    }

    let kind: Kind
    /// The pattern as written.
    public let description: String

    /// Parses a pattern; nil when it uses `*` anywhere but as a whole first or last label.
    public init?(_ text: String) {
        description = text
        let p = HostPort.normalise(text)
        if p == "*" {
            kind = .any
        } else if p.hasPrefix("*."), !p.dropFirst(2).contains("*"), p.count > 2 {
            kind = .suffix(String(p.dropFirst(1)))
        } else if p.hasSuffix(".*"), !p.dropLast(2).contains("*"), !p.dropLast(2).contains("."), p.count > 2 {
            kind = .firstLabel(String(p.dropLast(2)))
        } else if !p.contains("*"), !p.isEmpty {
            kind = .exact(p)
        } else {
            return nil
        }
    }

    /// Whether `host` (any case, optional trailing dot) matches.
    public func matches(_ host: String) -> Bool {
        let h = HostPort.normalise(host)
        switch kind {
        case .any:
            return true
        case .exact(let e):
            return h == e
        case .suffix(let s):
            return h.hasSuffix(s) && h.count > s.count
        case .firstLabel(let l):
            guard let dot = h.firstIndex(of: ".") else { return false }
            return h[..<dot] == l && h.index(after: dot) < h.endIndex
        }
    }
}

/// A small list of host patterns matched in order (for short lists such as `tls.do_not_inspect`;
/// rulesets use the policy engine's indexed matcher).
public struct HostPatternList: Sendable {
    /// The patterns.
    public let patterns: [HostPattern]

    /// Creates a list from already-parsed patterns.
    public init(_ patterns: [HostPattern]) { self.patterns = patterns }

    /// Whether any pattern matches `host`.
    public func matches(_ host: String) -> Bool { patterns.contains { $0.matches(host) } }
}
