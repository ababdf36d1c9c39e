import MeshgateCore

/// One parsed ruleset file: its rules in order, its DLP profiles and its embedded tests.
/// Parsing checks everything a single file can check; ``PolicyEngine`` then compiles regexes,
/// resolves `portal` and checks across files.
public struct Ruleset: Sendable {
    /// `ruleset:` — the name `rules update` replaces by.
    public var name: String
    /// `version:` as written, e.g. `2026.11.24`.
    public var version: String
    /// The file as the user named it.
    public var file: String
    /// `rules:`, in evaluation order.
    public var rules: [Rule]
    /// `dlp_profiles:`, in file order. Rules refer to the profiles of their own file.
    public var dlpProfiles: [DLPProfile]
    /// `tests:`, in file order.
    public var tests: [RulesetTest]
    /// `mcp_servers:` — the approved MCP servers this file registers, in file order.
    public var mcpServers: [MCPServerEntry]

    /// Creates a ruleset from parts (the loader is the usual way).
    public init(name: String, version: String, file: String, rules: [Rule], dlpProfiles: [DLPProfile], tests: [RulesetTest],
                mcpServers: [MCPServerEntry] = []) {
        self.name = name
        self.version = version
        self.file = file
        self.rules = rules
        self.dlpProfiles = dlpProfiles
        self.tests = tests
        self.mcpServers = mcpServers
    }
}

/// One rule: when every selector of `match` holds, `action` decides.
public struct Rule: Sendable {
    /// `id:` — unique across all loaded files; shown in `X-Meshgate-Rule` and the audit log.
    public var id: String
    /// `description:`, free text.
    public var description: String?
    /// `match:`.
    public var match: RuleMatch
    /// `action:` — allow, block, redirect, reroute or log.
    public var action: PolicyAction
    /// `target:` for redirect and reroute (`portal` when not written); nil for other actions.
    public var target: RuleTarget?
    /// Where the rule starts.
    public var location: SourceLocation
    /// Where `target:` is written (the rule's location when it is implied).
    public var targetLocation: SourceLocation

    /// Creates a rule.
    public init(id: String, description: String? = nil, match: RuleMatch, action: PolicyAction, target: RuleTarget? = nil,
                location: SourceLocation, targetLocation: SourceLocation? = nil) {
        self.id = id
        self.description = description
        self.match = match
        self.action = action
        self.target = target
        self.location = location
        self.targetLocation = targetLocation ?? location
    }
}

/// A rule's selectors. An empty list means the selector is absent; all present ones must hold.
public struct RuleMatch: Sendable {
    /// `host:` patterns (any may match).
    public var hosts: [String] = []
    /// `path:` patterns (any may match).
    public var paths: [PathPattern] = []
    /// `method:` names, upper-cased (any may match).
    public var methods: [String] = []
    /// `header:` name → regex entries (all must match).
    public var headers: [HeaderSelector] = []
    /// `body:` DLP profile names of the same file (any pattern of any profile may match).
    public var bodyProfiles: [String] = []
    /// `mcp:`.
    public var mcp: MCPSelector?
    /// `mcp_server:` — which registry entry (or none) the MCP request goes to.
    public var mcpServer: MCPServerSelector?
    /// Where `mcp_server:` is written (for an unknown name's error).
    public var mcpServerLocation: SourceLocation?
    /// `mcp_tool:` names or globs (any may match any `tools/call` of the request).
    public var mcpTools: [String] = []
    /// `identity:` names (any may match).
    public var identities: [String] = []
    /// `team:` names (any may match).
    public var teams: [String] = []

    /// Creates a match with no selectors (matches every request).
    public init() {}

    /// Whether the match needs more than the host and the client's identity, so cannot be
    /// decided at CONNECT time or for a DNS query.
    public var needsRequest: Bool {
        !paths.isEmpty || !methods.isEmpty || !headers.isEmpty || needsBody
    }

    /// Whether the match needs the body facts.
    public var needsBody: Bool { !bodyProfiles.isEmpty || mcp != nil || mcpServer != nil || !mcpTools.isEmpty }
}

/// One `header:` entry: the header named `name` must have a value matching `regex`.
public struct HeaderSelector: Sendable {
    /// The header name as written (compared case-insensitively).
    public var name: String
    /// The PCRE2 pattern.
    public var regex: String
    /// Where the regex is written.
    public var location: SourceLocation

    /// Creates a header selector.
    public init(name: String, regex: String, location: SourceLocation) {
        self.name = name
        self.regex = regex
        self.location = location
    }
}

/// The `mcp:` selector.
public enum MCPSelector: Sendable, Hashable {
    /// `mcp: any` — the recognizer identified the request as MCP.
    case any
    /// `mcp: [tools/call, …]` — MCP with one of these methods.
    case methods([String])
}

/// The `mcp_server:` selector. Every form needs the request to be MCP by its structure: a host that
/// is a registered server's still carries plain HTTPS (its docs, its OAuth) that no MCP rule is about.
public enum MCPServerSelector: Sendable, Hashable {
    /// `mcp_server: NAME` — an entry of the registry (`mcp_servers:` of any loaded ruleset).
    case named(String)
    /// `mcp_server: registered` — any registry entry.
    case registered
    /// `mcp_server: unregistered` — MCP to a server no entry lists: Shadow MCP.
    case unregistered
}

/// Where `redirect` / `reroute` send the client or request.
public enum RuleTarget: Sendable, Hashable {
    /// `target: portal` (or no target): the configured `portal` URL.
    case portal
    /// An absolute `http`/`https` URL.
    case url(String)
}

/// A named set of DLP patterns, referred to from `match.body`.
public struct DLPProfile: Sendable {
    /// The profile's name.
    public var name: String
    /// Its patterns; any one matching is a hit.
    public var patterns: [DLPPattern]
    /// Where the profile is defined.
    public var location: SourceLocation

    /// Creates a profile.
    public init(name: String, patterns: [DLPPattern], location: SourceLocation) {
        self.name = name
        self.patterns = patterns
        self.location = location
    }
}

/// One DLP pattern: a PCRE2 regex matched against the raw and the canonical body.
public struct DLPPattern: Sendable {
    /// The detection name shown in verdicts and the audit log.
    public var name: String
    /// The PCRE2 pattern.
    public var regex: String
    /// Where the regex is written.
    public var location: SourceLocation

    /// Creates a pattern.
    public init(name: String, regex: String, location: SourceLocation) {
        self.name = name
        self.regex = regex
        self.location = location
    }
}

/// One embedded test: a request and the decision the ruleset must reach for it.
public struct RulesetTest: Sendable {
    /// The request to evaluate.
    public var request: TestRequest
    /// `expect:` — the action.
    public var expectedAction: PolicyAction
    /// `rule:` — the deciding rule's id, when the test pins it.
    public var expectedRule: String?
    /// Where the test starts.
    public var location: SourceLocation

    /// Creates a test.
    public init(request: TestRequest, expectedAction: PolicyAction, expectedRule: String?, location: SourceLocation) {
        self.request = request
        self.expectedAction = expectedAction
        self.expectedRule = expectedRule
        self.location = location
    }
}

/// The `request:` of an embedded test.
public struct TestRequest: Sendable {
    /// `method:`, upper-cased; `GET` when not written.
    public var method: String
    /// `url:` — an absolute http(s) URL.
    public var url: String
    /// `headers:` in file order.
    public var headers: [(name: String, value: String)]
    /// `body:` as text (sent as its UTF-8 bytes).
    public var body: String?
    /// `identity:` — the client's identity name.
    public var identity: String?
    /// `team:` — the client's team.
    public var team: String?

    /// Creates a test request.
    public init(method: String = "GET", url: String, headers: [(name: String, value: String)] = [], body: String? = nil,
                identity: String? = nil, team: String? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.identity = identity
        self.team = team
    }

    /// The request as the engine sees it (body facts from `inspector`); nil when `url` is not an
    /// absolute http(s) URL.
    public func policyRequest(inspector: any RequestInspector) -> PolicyRequest? {
        guard let url = AbsoluteURL(url) else { return nil }
        var identity: Identity?
        if self.identity != nil || team != nil {
            // A test that names only a team still needs an identity to carry it.
            identity = Identity(name: self.identity ?? "", team: team)
        }
        var request = PolicyRequest(
            scheme: url.scheme, host: url.hostPort.host, port: url.hostPort.port, method: method,
            path: url.target, headers: headers, identity: identity
        )
        // Even without a body the inspector runs: MCP is also recognised from headers alone.
        let head = request
        let bytes = Array((body ?? "").utf8)
        request.bodyFacts = { inspector.facts(for: head, body: bytes) }
        return request
    }
}
