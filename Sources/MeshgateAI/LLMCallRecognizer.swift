/// Decides whether a request is a metered LLM call, from its host, method and path alone, so the
/// proxy can reserve budget before the body arrives.
///
/// The well-known hosts `api.openai.com` and `api.anthropic.com` are always recognised; configured
/// providers add their base URL's host, port and path prefix (a base URL ending in `/v1` is treated
/// like one without it, since both spellings are common in client configs). A provider speaking the
/// OpenAI format is recognised on OpenAI paths only, and an Anthropic one on `/v1/messages` only.
public struct LLMCallRecognizer: Sendable {
    /// One place LLM calls are sent to.
    public struct Site: Sendable, Hashable {
        /// The provider's name, reported in `LLMCall.provider`.
        public var provider: String
        /// Its dialect.
        public var format: LLMFormat
        /// Lowercased host name or address, without brackets.
        public var host: String
        /// The port, or nil for "any port" (the well-known hosts are matched on any port).
        public var port: Int?
        /// The path prefix before `/v1/...`, without a trailing slash ("" for none).
        public var pathPrefix: String

        /// Creates a site.
        public init(provider: String, format: LLMFormat, host: String, port: Int?, pathPrefix: String = "") {
            self.provider = provider
            self.format = format
            self.host = host.lowercased()
            self.port = port
            var prefix = pathPrefix
            while prefix.hasSuffix("/") { prefix.removeLast() }
            if prefix.hasSuffix("/v1") { prefix.removeLast(3) }
            self.pathPrefix = prefix
        }

        /// A site from a provider's base URL (`https://host[:port][/prefix]`); nil when it has no host.
        public init?(provider: String, format: LLMFormat, baseURL: String) {
            guard let parsed = Self.split(baseURL) else { return nil }
            self.init(provider: provider, format: format, host: parsed.host, port: parsed.port, pathPrefix: parsed.path)
        }

        private static func split(_ url: String) -> (host: String, port: Int, path: String)? {
            guard let schemeEnd = url.range(of: "://") else { return nil }
            let scheme = url[..<schemeEnd.lowerBound].lowercased()
            var rest = url[schemeEnd.upperBound...]
            let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
            var authority = rest[..<authorityEnd]
            rest = rest[authorityEnd...]
            if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
            var host = authority
            var port = scheme == "http" ? 80 : 443
            if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
                host = authority[authority.index(after: authority.startIndex)..<close]
                let after = authority[authority.index(after: close)...]
                if after.hasPrefix(":"), let p = Int(after.dropFirst()) { port = p }
            } else if let colon = authority.lastIndex(of: ":") {
                host = authority[..<colon]
                guard let p = Int(authority[authority.index(after: colon)...]) else { return nil }
                port = p
            }
            guard !host.isEmpty else { return nil }
            let pathEnd = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) ?? rest.endIndex
            return (String(host), port, String(rest[..<pathEnd]))
        }
    }

    /// The hosts recognised without configuration.
    public static let wellKnownSites: [Site] = [
        Site(provider: "openai", format: .openai, host: "api.openai.com", port: nil),
        Site(provider: "anthropic", format: .anthropic, host: "api.anthropic.com", port: nil),
    ]

    /// Every site checked, configured ones first (so a configured name wins on a well-known host).
    public let sites: [Site]

    /// Creates a recognizer for the well-known hosts plus `configured` sites.
    public init(configured: [Site] = []) {
        sites = configured + Self.wellKnownSites
    }

    /// The LLM call `method host:port path` makes, or nil when it is not a metered call.
    /// `host` may carry a trailing dot or be bracketed; `path` may carry a query string.
    public func recognize(method: String, host: String, port: Int, path: String) -> LLMCall? {
        // Methods are case-sensitive (RFC 9110); only POST creates completions.
        guard method == "POST" else { return nil }
        var name = Substring(host)
        if name.hasPrefix("["), name.hasSuffix("]") { name = name.dropFirst().dropLast() }
        if name.hasSuffix(".") { name = name.dropLast() }
        var plainPath = Substring(path)
        if let query = plainPath.firstIndex(where: { $0 == "?" || $0 == "#" }) { plainPath = plainPath[..<query] }
        while plainPath.count > 1, plainPath.hasSuffix("/") { plainPath = plainPath.dropLast() }
        for site in sites where site.host.count == name.count && site.host == name.lowercased() {
            if let sitePort = site.port, sitePort != port { continue }
            guard plainPath.hasPrefix(site.pathPrefix) else { continue }
            let rest = plainPath.dropFirst(site.pathPrefix.count)
            for endpoint in LLMEndpoint.allCases where endpoint.format == site.format && rest == endpoint.path {
                return LLMCall(provider: site.provider, endpoint: endpoint)
            }
        }
        return nil
    }
}
