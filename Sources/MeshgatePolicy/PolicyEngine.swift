import MeshgateCore

/// The compiled policy: every loaded ruleset's rules in order, first match wins.
///
/// An immutable value — pure, deterministic, no I/O or clocks — so the server builds a new one
/// on reload and swaps it atomically; requests in flight finish on the one they started with.
public struct PolicyEngine: Sendable {
    /// The parsed rulesets, in evaluation order.
    public let rulesets: [Ruleset]
    /// The configured portal URL that `target: portal` resolves to.
    public let portal: String?
    /// Whether any rule has a `body` or `mcp` selector, i.e. whether request bodies (and MCP
    /// recognition) may ever be needed. When false the proxy need never buffer a body.
    public let needsBody: Bool
    /// Every literal some body pattern needs, or nil when a pattern has none that can be relied on.
    public let canonicalLiterals: PatternLiterals?
    /// `inspection.on_match_error`: what a pattern that hits a PCRE2 limit means (``MatchErrorMode``).
    public let onMatchError: MatchErrorMode
    /// Rules left out because they match only `$portal` and no portal is configured (ids).
    public let dormantRules: [String]
    let rules: [CompiledRule]
    let patterns: [CompiledPattern]
    /// The approved MCP servers of every ruleset (`mcp_servers:`), in load order; names are unique.
    public let mcpServers: [MCPServerEntry]
    /// Patterns of the DLP profiles named ``toolDescriptionProfile``, which every MCP `tools/list`
    /// answer's tool descriptions are scanned with.
    let toolDescriptionPatterns: [Int]

    /// The DLP profile name that scans MCP tool descriptions (in any ruleset; the shipped
    /// `shadow-mcp` ruleset defines one with hidden-instruction patterns).
    public static let toolDescriptionProfile = "mcp-tool-descriptions"

    /// No rules: every request is allowed.
    public static let empty = PolicyEngine(rulesets: [], portal: nil, rules: [], patterns: [], onMatchError: .block)

    /// The number of rules in force across all rulesets.
    public var ruleCount: Int { rules.count }

    /// Rules whose target is the portal while no portal is configured: they block instead (ids).
    public var blockingForUnsetPortal: [String] { rules.filter { $0.unsetPortalAction != nil }.map(\.id) }

    private init(rulesets: [Ruleset], portal: String?, rules: [CompiledRule], patterns: [CompiledPattern], onMatchError: MatchErrorMode,
                 dormantRules: [String] = []) {
        self.rulesets = rulesets
        self.mcpServers = rulesets.flatMap(\.mcpServers)
        self.toolDescriptionPatterns = patterns.indices.filter { patterns[$0].profile == Self.toolDescriptionProfile }
        self.portal = portal
        self.dormantRules = dormantRules
        self.rules = rules
        self.patterns = patterns
        self.onMatchError = onMatchError
        needsBody = rules.contains(where: \.needsBody)
        // Tool-description patterns never run on request bodies, so they must not turn off the
        // literal shortcut for them (the invisible-characters pattern has no literal).
        canonicalLiterals = PatternLiterals(patterns.filter { $0.profile != Self.toolDescriptionProfile }.map(\.regex))
    }

    /// Reads, parses and compiles ruleset files, merged in the given order.
    public static func load(
        files: [String], regexCompiler: any RegexCompiler, portal: String? = nil, onMatchError: MatchErrorMode = .block
    ) throws(RulesetError) -> PolicyEngine {
        var rulesets: [Ruleset] = []
        for file in files { rulesets.append(try Ruleset.load(path: file)) }
        return try PolicyEngine(rulesets: rulesets, regexCompiler: regexCompiler, portal: portal, onMatchError: onMatchError)
    }

    /// Compiles parsed rulesets, merged in order: compiles every regex, resolves `portal`, and
    /// refuses rule ids or ruleset names used twice across files.
    public init(
        rulesets: [Ruleset], regexCompiler: any RegexCompiler, portal: String? = nil, onMatchError: MatchErrorMode = .block
    ) throws(RulesetError) {
        var compiler = RegexCache(compiler: regexCompiler)
        var patterns: [CompiledPattern] = []
        var rules: [CompiledRule] = []
        var dormant: [String] = []
        var ruleLocations: [String: SourceLocation] = [:]
        var rulesetFiles: [String: String] = [:]
        var serverLocations: [String: SourceLocation] = [:]
        let portalURL = portal.flatMap(AbsoluteURL.init)
        // A rule may select a server another file registers.
        let serverNames = Set(rulesets.flatMap { $0.mcpServers.map(\.name) })

        for (rulesetIndex, ruleset) in rulesets.enumerated() {
            if let other = rulesetFiles[ruleset.name] {
                throw RulesetError(location: SourceLocation(file: ruleset.file, line: nil, column: nil), keyPath: "ruleset",
                                   message: "ruleset name '\(ruleset.name)' is also used by \(other)",
                                   fix: "give each ruleset file its own name")
            }
            rulesetFiles[ruleset.name] = ruleset.file
            for (serverIndex, server) in ruleset.mcpServers.enumerated() {
                if let first = serverLocations[server.name] {
                    throw RulesetError(location: server.location, keyPath: "mcp_servers[\(serverIndex)].name",
                                       message: "duplicate MCP server name '\(server.name)' (first defined at \(first))",
                                       fix: "server names must be unique across all ruleset files")
                }
                serverLocations[server.name] = server.location
            }

            var profilePatterns: [String: [Int]] = [:]
            for profile in ruleset.dlpProfiles {
                var indexes: [Int] = []
                for (patternIndex, pattern) in profile.patterns.enumerated() {
                    let regex: any CompiledRegex
                    do {
                        regex = try compiler.compile(pattern.regex)
                    } catch {
                        throw RulesetError(location: pattern.location,
                                           keyPath: "dlp_profiles.\(profile.name).patterns[\(patternIndex)].regex",
                                           message: "invalid regex for pattern '\(pattern.name)': \(error)",
                                           fix: "regexes are PCRE2; in YAML prefer single quotes so backslashes stay as written")
                    }
                    indexes.append(patterns.count)
                    patterns.append(CompiledPattern(name: pattern.name, profile: profile.name, regex: regex))
                }
                profilePatterns[profile.name] = indexes
            }

            for (ruleIndex, rule) in ruleset.rules.enumerated() {
                if let first = ruleLocations[rule.id] {
                    throw RulesetError(location: rule.location, rule: rule.id, keyPath: "rules[\(ruleIndex)].id",
                                       message: "duplicate rule id '\(rule.id)' (first defined at \(first))",
                                       fix: "rule ids must be unique across all ruleset files")
                }
                ruleLocations[rule.id] = rule.location
                if let compiled = try Self.compile(rule, keyPath: "rules[\(ruleIndex)]", rulesetIndex: rulesetIndex,
                                                   ruleset: ruleset, portal: portal,
                                                   portalURL: portalURL, serverNames: serverNames, profilePatterns: profilePatterns, compiler: &compiler) {
                    rules.append(compiled)
                } else {
                    dormant.append(rule.id)
                }
            }
        }
        self.init(rulesets: rulesets, portal: portal, rules: rules, patterns: patterns, onMatchError: onMatchError, dormantRules: dormant)
    }

    /// The rule ready for evaluation; nil when it can never match (its only host is `$portal` and
    /// no portal is configured).
    private static func compile(
        _ rule: Rule, keyPath: String, rulesetIndex: Int, ruleset: Ruleset, portal: String?, portalURL: AbsoluteURL?,
        serverNames: Set<String>, profilePatterns: [String: [Int]], compiler: inout RegexCache
    ) throws(RulesetError) -> CompiledRule? {
        let match = rule.match
        var target: ResolvedTarget?
        var action = rule.action
        var unsetPortalAction: PolicyAction?
        switch rule.target {
        case nil:
            break
        case .portal:
            guard let portal else {
                // Secure by default: traffic meant for the approved portal is refused rather than
                // let through while there is none to send it to (the verdict says so).
                unsetPortalAction = rule.action
                action = .block
                break
            }
            guard let portalURL else {
                throw RulesetError(location: rule.targetLocation, rule: rule.id, keyPath: keyPath + ".target",
                                   message: "target 'portal' but the configured portal '\(portal)' is not an absolute http(s) URL",
                                   fix: "fix 'portal:' in meshgate.yaml")
            }
            target = ResolvedTarget(portalURL)
        case .url(let text):
            guard let url = AbsoluteURL(text) else {
                throw RulesetError(location: rule.targetLocation, rule: rule.id, keyPath: keyPath + ".target",
                                   message: "target '\(text)' is not an absolute http(s) URL")
            }
            target = ResolvedTarget(url)
        }

        var hosts: HostMatcher?
        if !match.hosts.isEmpty {
            var patterns = match.hosts
            if let index = patterns.firstIndex(of: HostMatcher.portalPlaceholder) {
                if let portalURL {
                    patterns[index] = portalURL.hostPort.host
                } else {
                    // No portal: `$portal` names no host, and a rule with no other host never matches.
                    patterns.remove(at: index)
                    if patterns.isEmpty { return nil }
                }
            }
            do {
                hosts = try HostMatcher(patterns)
            } catch {
                throw RulesetError(location: rule.location, rule: rule.id, keyPath: keyPath + ".match.host", message: error.description, fix: error.fix)
            }
        }

        var headers: [CompiledHeader] = []
        for header in match.headers {
            do {
                headers.append(CompiledHeader(name: header.name.lowercased(), regex: try compiler.compile(header.regex)))
            } catch {
                throw RulesetError(location: header.location, rule: rule.id, keyPath: keyPath + ".match.header.\(header.name)",
                                   message: "invalid regex: \(error)",
                                   fix: "regexes are PCRE2; in YAML prefer single quotes so backslashes stay as written")
            }
        }

        var bodyPatterns: [Int] = []
        for profile in match.bodyProfiles {
            guard let indexes = profilePatterns[profile] else {
                throw RulesetError(location: rule.location, rule: rule.id, keyPath: keyPath + ".match.body",
                                   message: "unknown DLP profile '\(profile)'",
                                   fix: "define it under 'dlp_profiles:' in \(ruleset.file) (profiles are per file)")
            }
            for index in indexes where !bodyPatterns.contains(index) { bodyPatterns.append(index) }
        }

        if case .named(let name) = match.mcpServer, !serverNames.contains(name) {
            let fix: String
            if let guess = KeySuggestion.closest(to: name, in: serverNames.sorted()) {
                fix = "did you mean '\(guess)'?"
            } else if serverNames.isEmpty {
                fix = "register it under 'mcp_servers:' (name, urls) in a loaded ruleset, or select 'registered' / 'unregistered'"
            } else {
                fix = "registered servers: " + serverNames.sorted().joined(separator: ", ")
            }
            throw RulesetError(location: match.mcpServerLocation ?? rule.location, rule: rule.id, keyPath: keyPath + ".match.mcp_server",
                               message: "no MCP server named '\(name)' in the registry", fix: fix)
        }

        return CompiledRule(
            id: rule.id, rulesetIndex: rulesetIndex, rulesetName: ruleset.name, action: action, target: target,
            unsetPortalAction: unsetPortalAction,
            hosts: hosts,
            paths: match.paths.isEmpty ? nil : PathMatcher(match.paths),
            methods: match.methods.isEmpty ? nil : Set(match.methods.map { $0.uppercased() }),
            headers: headers, bodyPatterns: bodyPatterns, mcp: match.mcp,
            mcpServer: match.mcpServer, mcpTools: match.mcpTools.isEmpty ? nil : MCPToolGlobs(match.mcpTools),
            identities: match.identities.isEmpty ? nil : Set(match.identities),
            teams: match.teams.isEmpty ? nil : Set(match.teams),
            needsBody: match.needsBody, needsRequest: match.needsRequest
        )
    }

    /// The same policy restricted to one ruleset's rules, for running that ruleset's tests alone.
    func restricted(toRuleset index: Int) -> PolicyEngine {
        PolicyEngine(rulesets: rulesets, portal: portal, rules: rules.filter { $0.rulesetIndex == index }, patterns: patterns,
                     onMatchError: onMatchError, dormantRules: dormantRules)
    }
}

/// Compiles each distinct regex once (rulesets repeat patterns across profiles and rules).
struct RegexCache {
    let compiler: any RegexCompiler
    private var compiled: [String: any CompiledRegex] = [:]

    init(compiler: any RegexCompiler) { self.compiler = compiler }

    mutating func compile(_ pattern: String) throws -> any CompiledRegex {
        if let regex = compiled[pattern] { return regex }
        let regex = try compiler.compile(pattern)
        compiled[pattern] = regex
        return regex
    }
}
