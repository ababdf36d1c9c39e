import MeshgateCore

/// An absolute `http`/`https` URL split the way the engine needs it: for `redirect`/`reroute`
/// targets and for the requests of embedded ruleset tests.
struct AbsoluteURL: Sendable, Hashable {
    /// `http` or `https`.
    let scheme: String
    /// Normalised host and port (the scheme's default when none is written).
    let hostPort: HostPort
    /// The origin-form target: path plus query, `/` when the URL has none.
    let target: String
    /// The URL as written.
    let text: String

    /// Parses `scheme://host[:port][/path][?query][#fragment]`; the fragment is dropped.
    /// Nil for other schemes, user info, white space or a malformed authority.
    init?(_ text: String) {
        // Delimiters are found per Unicode scalar: a Character can hide one ("\u{600}/" is a single
        // grapheme), which kept fragments and moved the authority's end.
        guard !text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }),
              let schemeEnd = text.unicodeScalars.firstRange(of: "://".unicodeScalars) else { return nil }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        let defaultPort: Int
        switch scheme {
        case "http": defaultPort = 80
        case "https": defaultPort = 443
        default: return nil
        }
        var rest = text[schemeEnd.upperBound...]
        if let hash = rest.unicodeScalars.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.unicodeScalars.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard !authority.unicodeScalars.contains("@"), let hostPort = HostPort(authority: String(authority), defaultPort: defaultPort) else {
            return nil
        }
        var target = String(rest[authorityEnd...])
        if target.isEmpty || target.unicodeScalars.first == "?" { target = "/" + target }
        self.scheme = scheme
        self.hostPort = hostPort
        self.target = target
        self.text = text
    }
}
