import MeshgateCore

/// A rule ready for evaluation: patterns indexed, regexes compiled, the target resolved. A class:
/// every evaluation walks the rules, and copying a struct of this many references retained and
/// released each of them per rule per request.
final class CompiledRule: Sendable {
    let id: String
    let rulesetIndex: Int
    let rulesetName: String
    let action: PolicyAction
    let target: ResolvedTarget?
    /// The written `redirect`/`reroute` of a rule whose target is the portal while none is
    /// configured; its `action` is then `block`.
    let unsetPortalAction: PolicyAction?
    let hosts: HostMatcher?
    let paths: PathMatcher?
    let methods: Set<String>?
    let headers: [CompiledHeader]
    /// Indexes into the engine's pattern table, in profile order then pattern order.
    let bodyPatterns: [Int]
    let mcp: MCPSelector?
    let mcpServer: MCPServerSelector?
    let mcpTools: MCPToolGlobs?
    let identities: Set<String>?
    let teams: Set<String>?
    /// Whether a `body` or `mcp*` selector needs the body facts.
    let needsBody: Bool
    /// Whether anything beyond host, identity and team is needed.
    let needsRequest: Bool

    init(id: String, rulesetIndex: Int, rulesetName: String, action: PolicyAction, target: ResolvedTarget?,
         unsetPortalAction: PolicyAction?, hosts: HostMatcher?, paths: PathMatcher?, methods: Set<String>?,
         headers: [CompiledHeader], bodyPatterns: [Int], mcp: MCPSelector?, mcpServer: MCPServerSelector?,
         mcpTools: MCPToolGlobs?, identities: Set<String>?, teams: Set<String>?, needsBody: Bool, needsRequest: Bool) {
        self.id = id
        self.rulesetIndex = rulesetIndex
        self.rulesetName = rulesetName
        self.action = action
        self.target = target
        self.unsetPortalAction = unsetPortalAction
        self.hosts = hosts
        self.paths = paths
        self.methods = methods
        self.headers = headers
        self.bodyPatterns = bodyPatterns
        self.mcp = mcp
        self.mcpServer = mcpServer
        self.mcpTools = mcpTools
        self.identities = identities
        self.teams = teams
        self.needsBody = needsBody
        self.needsRequest = needsRequest
    }
}

/// A `redirect`/`reroute` target, split so that a request already addressed to it is recognised.
struct ResolvedTarget: Sendable {
    let url: String
    let host: String
    let port: Int
    /// Normalised path, as request paths are.
    let path: String

    init(_ url: AbsoluteURL) {
        self.url = url.text
        host = url.hostPort.host
        port = url.hostPort.port
        path = PathPattern.normalise(url.target)
    }
}

/// One `header:` selector with its regex compiled.
struct CompiledHeader: Sendable {
    /// Lowercased.
    let name: String
    let regex: any CompiledRegex
}

/// One DLP pattern with its regex compiled.
struct CompiledPattern: Sendable {
    let name: String
    let profile: String
    let regex: any CompiledRegex
}

/// Many path patterns: exact paths in a set, prefixes in a list.
struct PathMatcher: Sendable {
    private var exact: Set<String> = []
    private var prefixes: [String] = []

    init(_ patterns: [PathPattern]) {
        for pattern in patterns {
            if pattern.isPrefix {
                if !prefixes.contains(pattern.value) { prefixes.append(pattern.value) }
            } else {
                exact.insert(pattern.value)
            }
        }
        // Shorter prefixes first: they are the likelier hits.
        prefixes.sort { $0.utf8.count < $1.utf8.count }
    }

    func matches(normalisedPath path: String) -> Bool {
        exact.contains(path) || prefixes.contains { path.hasPrefix($0) }
    }
}
