import MeshgateCore

/// Matches a host against many host patterns at once, in time independent of the number of
/// patterns: exact names sit in a hash set, `*.x.com` patterns in a set of suffixes looked up once
/// per label boundary of the host, `mcp.*` patterns in a set of first labels.
///
/// Semantics are those of `MeshgateCore.HostPattern`: case-insensitive, a trailing dot ignored,
/// `*.x.com` any depth below `x.com` (not `x.com` itself), `mcp.*` first label `mcp` with any
/// parent, `*` every host. Internationalised names match in the form given (punycode to punycode).
public struct HostMatcher: Sendable {
    /// Written in a ruleset's host list, stands for the configured portal's host.
    public static let portalPlaceholder = "$portal"

    private var exact: Set<String> = []
    // Substring sets, so a lookup hashes a slice of the host without copying it.
    /// `x.com` for the pattern `*.x.com`.
    private var suffixes: Set<Substring> = []
    /// `mcp` for the pattern `mcp.*`.
    private var firstLabels: Set<Substring> = []
    private var matchesEverything = false

    /// The number of distinct patterns.
    public private(set) var count = 0

    /// Compiles `patterns`; the first invalid one is thrown.
    public init(_ patterns: some Sequence<String>) throws(InvalidHostPattern) {
        for text in patterns {
            switch try HostMatcher.parse(text) {
            case .any:
                if !matchesEverything { count += 1 }
                matchesEverything = true
            case .exact(let name):
                if exact.insert(name).inserted { count += 1 }
            case .suffix(let parent):
                if suffixes.insert(Substring(parent)).inserted { count += 1 }
            case .firstLabel(let label):
                if firstLabels.insert(Substring(label)).inserted { count += 1 }
            }
        }
    }

    /// Whether any pattern matches `host` (any case, optional trailing dot, IPv6 with or without
    /// brackets).
    public func matches(_ host: String) -> Bool {
        matches(normalisedHost: HostMatcher.normalise(host))
    }

    /// `matches` for a host already passed through ``normalise(_:)``, so that the engine
    /// normalises once per request rather than once per rule.
    func matches(normalisedHost host: String) -> Bool {
        if matchesEverything { return true }
        if !exact.isEmpty, exact.contains(host) { return true }
        let utf8 = host.utf8
        guard let firstDot = utf8.firstIndex(of: UInt8(ascii: ".")) else { return false }
        if !firstLabels.isEmpty, utf8.index(after: firstDot) < utf8.endIndex,
           firstLabels.contains(host[..<firstDot]) {
            return true
        }
        guard !suffixes.isEmpty else { return false }
        // Every proper suffix that starts right after a dot is a parent domain at some depth;
        // a dot in first place would leave an empty label in front, which `*.` does not match.
        var index = firstDot
        while index < utf8.endIndex {
            if utf8[index] == UInt8(ascii: "."), index > utf8.startIndex {
                let start = utf8.index(after: index)
                if start < utf8.endIndex, suffixes.contains(host[start...]) { return true }
            }
            index = utf8.index(after: index)
        }
        return false
    }

    /// Lowercases, removes IPv6 brackets and trailing dots — the same normalisation as
    /// `MeshgateCore.HostPort` — and writes IPv6 literals in their RFC 5952 form, so that
    /// `0:0::1` and `::1` are one host.
    public static func normalise(_ host: String) -> String {
        var h = host.lowercased()
        if h.hasPrefix("["), h.hasSuffix("]"), h.utf8.count >= 2 { h = String(h.dropFirst().dropLast()) }
        while h.hasSuffix("."), h.utf8.count > 1 { h.removeLast() }
        if h.utf8.contains(UInt8(ascii: ":")), let bytes = IPAddress.parse(h), bytes.count == 16 {
            h = IPAddress.format(bytes)
        }
        return h
    }

    enum Kind: Hashable {
        case any
        case exact(String)
        case suffix(String)
        case firstLabel(String)
    }

    /// Checks one pattern's syntax and says what kind it is. Stricter than `HostPattern.init`,
    /// because a ruleset author who writes a URL or a port should hear about it rather than
    /// get a pattern that never matches.
    static func parse(_ text: String) throws(InvalidHostPattern) -> Kind {
        let fix = "write a host name, '*.example.com' for every host below it, or 'mcp.*' for a first label"
        func invalid(_ reason: String, _ hint: String = fix) -> InvalidHostPattern {
            InvalidHostPattern(pattern: text, reason: reason, fix: hint)
        }
        if text.contains(where: \.isWhitespace) { throw invalid("it contains white space") }
        let pattern = normalise(text)
        if pattern.isEmpty { throw invalid("it is empty") }
        if pattern == "*" { return .any }
        if IPAddress.parse(pattern) != nil { return .exact(pattern) }
        if pattern.contains("://") {
            throw invalid("it is a URL", "write only the host name, e.g. 'mcp.example.com', and put a path under 'path:'")
        }
        if pattern.contains("/") {
            throw invalid("it contains a path", "write only the host name and put the path under 'path:'")
        }
        if pattern.contains(":") {
            throw invalid("it contains a port", "host patterns match every port; write the host name alone")
        }
        guard pattern.utf8.count <= 253 else { throw invalid("it is longer than 253 characters") }
        guard pattern.unicodeScalars.allSatisfy(\.isASCII) else {
            throw invalid("it is not ASCII", "write internationalised names in punycode (xn--…), as they appear on the wire")
        }
        let labels = pattern.split(separator: ".", omittingEmptySubsequences: false)
        for (index, label) in labels.enumerated() {
            if label == "*" {
                // A wildcard is only meaningful as the whole first or the whole last label.
                guard labels.count > 1, index == 0 || index == labels.count - 1 else {
                    throw invalid("'*' may only be the whole first label ('*.x.com') or the whole last label ('mcp.*')")
                }
                continue
            }
            if label.isEmpty { throw invalid("it has an empty label") }
            if label.contains("*") {
                throw invalid("'*' may only be the whole first label ('*.x.com') or the whole last label ('mcp.*')")
            }
            let valid = label.utf8.allSatisfy { c in
                (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x5F
            }
            guard valid else { throw invalid("label '\(label)' has characters other than letters, digits, '-' and '_'") }
        }
        if labels.first == "*" {
            guard labels.last != "*" else { throw invalid("'*.*' would match every host with a dot", "write '*' to match every host") }
            return .suffix(labels.dropFirst().joined(separator: "."))
        }
        if labels.last == "*" {
            guard labels.count == 2 else {
                throw invalid("a trailing '*' matches the first label only, as in 'mcp.*'", "write 'mcp.*', or '*.example.com' for a parent domain")
            }
            return .firstLabel(String(labels[0]))
        }
        return .exact(pattern)
    }
}

/// A host pattern the matcher cannot use, with the reason and a fix.
public struct InvalidHostPattern: Error, Sendable, Hashable, CustomStringConvertible {
    /// The pattern as written.
    public var pattern: String
    /// Why it is invalid.
    public var reason: String
    /// How to write it instead.
    public var fix: String

    /// `invalid host pattern 'P': REASON`.
    public var description: String { "invalid host pattern '\(pattern)': \(reason)" }
}
