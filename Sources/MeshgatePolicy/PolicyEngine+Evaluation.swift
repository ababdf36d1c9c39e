import MeshgateCore

extension PolicyEngine {
    /// Decides a request: the first rule (across rulesets, in order) whose selectors all hold
    /// decides; no match is `allow` with no rule.
    ///
    /// Selectors are tried cheapest first, and the body facts are asked for at most once, only
    /// when a rule's other selectors hold and it has a `body` or `mcp` selector. A
    /// `redirect`/`reroute` rule whose target is the very URL the request already goes to
    /// (same host, port and path) lets it through as `allow` under that rule rather than sending
    /// the client round in a loop.
    public func evaluate(_ request: PolicyRequest) -> Verdict {
        var state = EvaluationState(request)
        for rule in rules {
            guard headHolds(rule, &state), bodyHolds(rule, &state) else { continue }
            return verdict(for: rule, &state, alreadyAtTarget: state.isAtTarget(rule.target))
        }
        var verdict = Verdict.noMatch
        verdict.mcpMethod = state.mcpMethod
        verdict.matchErrors = state.errors
        return verdict
    }

    /// Whether evaluating `request` will ask for its body facts, i.e. whether the first rule
    /// whose head selectors (host, path, method, header, identity, team) hold has a `body` or
    /// `mcp` selector. When false, ``evaluate(_:)`` decides from the head alone and the proxy
    /// need not hold the body.
    public func requiresBody(for request: PolicyRequest) -> Bool {
        guard needsBody else { return false }
        var state = EvaluationState(request)
        for rule in rules where headHolds(rule, &state) {
            return rule.needsBody
        }
        return false
    }

    /// Decides from the host and the client alone: for `CONNECT` to a host that is not
    /// inspected, for SNI-only transparent connections, and for DNS queries (`port` nil).
    ///
    /// Only rules whose selectors are all among `host`, `identity` and `team` take part; a rule
    /// with `path`, `method`, `header`, `body` or `mcp` selectors is skipped, because it cannot
    /// be judged without the request — so for a host that is spliced rather than inspected such
    /// a rule never applies. For inspected hosts the requests inside the tunnel are evaluated
    /// one by one with ``evaluate(_:)``.
    public func evaluateHostOnly(host: String, port: Int? = nil, identity: Identity?) -> Verdict {
        let normalHost = HostMatcher.normalise(host)
        for rule in rules where !rule.needsRequest {
            guard identityHolds(rule, identity),
                  rule.hosts?.matches(normalisedHost: normalHost) ?? true else { continue }
            var alreadyAtTarget = false
            if let target = rule.target {
                alreadyAtTarget = target.host == normalHost && (port == nil || port == target.port)
            }
            var state = EvaluationState(PolicyRequest(host: normalHost, port: port ?? 0, identity: identity))
            return verdict(for: rule, &state, alreadyAtTarget: alreadyAtTarget)
        }
        return .noMatch
    }

    // MARK: Selectors

    private func identityHolds(_ rule: CompiledRule, _ identity: Identity?) -> Bool {
        if let names = rule.identities {
            guard let identity, names.contains(identity.name) else { return false }
        }
        if let teams = rule.teams {
            guard let team = identity?.team, teams.contains(team) else { return false }
        }
        return true
    }

    /// Everything but the body: cheap set lookups first, header regexes last.
    func headHolds(_ rule: CompiledRule, _ state: inout EvaluationState) -> Bool {
        if let methods = rule.methods, !methods.contains(state.method) { return false }
        if let hosts = rule.hosts, !hosts.matches(normalisedHost: state.host) { return false }
        if let paths = rule.paths, !paths.matches(normalisedPath: state.path) { return false }
        guard identityHolds(rule, state.request.identity) else { return false }
        for header in rule.headers {
            var found = false
            for (name, value) in state.headers where name == header.name {
                do {
                    if try header.regex.matches(Array(value.utf8)) {
                        found = true
                        break
                    }
                } catch {
                    state.errors.append(PatternMatchError(rule: rule.id, selector: "header '\(header.name)'", message: "\(error)"))
                    if onMatchError.countsAsMatch(for: rule.action) {
                        // The value was not proven not to match (inspection.on_match_error: block).
                        state.failedHeaders.append((rule: rule.id, name: header.name))
                        found = true
                        break
                    }
                }
            }
            if !found { return false }
        }
        return true
    }

    private func bodyHolds(_ rule: CompiledRule, _ state: inout EvaluationState) -> Bool {
        guard rule.needsBody else { return true }
        guard let facts = state.loadFacts() else { return false }
        if let mcp = rule.mcp {
            guard facts.mcp.isMCP else { return false }
            if case .methods(let wanted) = mcp, !facts.mcp.methods.contains(where: wanted.contains) { return false }
        }
        if let selector = rule.mcpServer {
            guard facts.mcp.isMCP else { return false }
            let entry = servingEntry(&state)
            switch selector {
            case .named(let name): guard entry?.name == name else { return false }
            case .registered: guard entry != nil else { return false }
            case .unregistered: guard entry == nil else { return false }
            }
        }
        if let tools = rule.mcpTools {
            guard facts.mcp.isMCP, tools.firstMatch(in: facts.mcp.toolNames) != nil else { return false }
        }
        if !rule.bodyPatterns.isEmpty {
            guard rule.bodyPatterns.contains(where: { patternHits($0, rule: rule, facts: facts, &state) }) else { return false }
        }
        return true
    }

    /// Whether pattern `index` holds for `rule`: it matched, or it could not finish and
    /// `inspection.on_match_error` counts that as a match for this rule's action.
    private func patternHits(_ index: Int, rule: CompiledRule, facts: BodyFacts, _ state: inout EvaluationState) -> Bool {
        switch patternOutcome(index, rule: rule, facts: facts, &state) {
        case .hit: return true
        case .miss: return false
        case .failed: return onMatchError.countsAsMatch(for: rule.action)
        }
    }

    /// What pattern `index` makes of the raw or the canonical body (memoised per evaluation, since
    /// profiles are shared between rules). Only a match of at least one byte counts: an empty body
    /// holds no detection, so a pattern that can match the empty string neither fires on a request
    /// without a body nor on every body.
    private func patternOutcome(_ index: Int, rule: CompiledRule, facts: BodyFacts, _ state: inout EvaluationState) -> PatternOutcome {
        if let known = state.patternResults[index] { return known }
        guard !facts.lacksPatternLiterals, !facts.raw.isEmpty else { return .miss }
        let pattern = patterns[index]
        var outcome = PatternOutcome.miss
        // A compact, escape-free JSON body is its own canonical form; scanning it twice finds nothing new.
        let views = facts.canonical.map { $0 == facts.raw ? [facts.raw] : [facts.raw, $0] } ?? [facts.raw]
        for view in views where outcome != .hit {
            do {
                if try pattern.regex.matchesNonEmpty(view) { outcome = .hit }
            } catch {
                // A match in the other view still counts; otherwise the body was not proven clean.
                outcome = .failed
                state.errors.append(PatternMatchError(
                    rule: rule.id, selector: "pattern '\(pattern.name)' of profile '\(pattern.profile)'", message: "\(error)"))
            }
        }
        state.patternResults[index] = outcome
        return outcome
    }

    private func verdict(for rule: CompiledRule, _ state: inout EvaluationState, alreadyAtTarget: Bool) -> Verdict {
        var detections: [String] = []
        for failed in state.failedHeaders where failed.rule == rule.id {
            let name = MatchErrorMode.detection("header '\(failed.name)'")
            if !detections.contains(name) { detections.append(name) }
        }
        if !rule.bodyPatterns.isEmpty, let facts = state.loadFacts() {
            // The deciding rule reports every pattern of its profiles that hit, not just the first,
            // and names those that could not finish and were counted as matching.
            for index in rule.bodyPatterns where patternHits(index, rule: rule, facts: facts, &state) {
                let failed = state.patternResults[index] == .failed
                let name = failed ? MatchErrorMode.detection(patterns[index].name) : patterns[index].name
                if !detections.contains(name) { detections.append(name) }
            }
        }
        var mcpTool: String?
        if rule.mcp != nil || rule.mcpServer != nil || rule.mcpTools != nil, let facts = state.loadFacts() {
            for name in facts.mcp.detections where !detections.contains(name) { detections.append(name) }
            mcpTool = rule.mcpTools?.firstMatch(in: facts.mcp.toolNames) ?? facts.mcp.toolNames.first
        }
        var action = rule.action
        var target = rule.target?.url
        if let written = rule.unsetPortalAction {
            detections.append(Verdict.unsetPortalDetection(written))
        }
        if alreadyAtTarget {
            action = .allow
            target = nil
        }
        var verdict = Verdict(action: action, rule: rule.id, ruleset: rule.rulesetName, detections: detections, target: target,
                              mcpMethod: state.mcpMethod, matchErrors: state.errors)
        verdict.unsetPortalAction = rule.unsetPortalAction
        verdict.mcpTool = mcpTool
        return verdict
    }

    /// The registry entry the request goes to, looked up once per evaluation.
    private func servingEntry(_ state: inout EvaluationState) -> MCPServerEntry? {
        if let known = state.servedBy { return known }
        let entry = mcpServer(servingScheme: state.request.scheme, host: state.host, port: state.request.port, path: state.path)
        state.servedBy = .some(entry)
        return entry
    }
}

/// Per-evaluation scratch: the request in normal form, the body facts once asked for, and
/// pattern results shared between rules.
struct EvaluationState {
    let request: PolicyRequest
    let host: String
    let path: String
    let method: String
    /// Names lowercased.
    let headers: [(String, String)]
    var patternResults: [Int: PatternOutcome] = [:]
    var errors: [PatternMatchError] = []
    /// Header selectors that could not finish matching and were counted as matching, by rule.
    var failedHeaders: [(rule: String, name: String)] = []
    /// The registry entry serving the request, once an `mcp_server` selector asked (inner nil: none).
    var servedBy: MCPServerEntry??
    private var facts: BodyFacts??

    init(_ request: PolicyRequest) {
        self.request = request
        host = HostMatcher.normalise(request.host)
        path = PathPattern.normalise(request.path)
        method = request.method.uppercased()
        headers = request.headers.map { ($0.name.lowercased(), $0.value) }
    }

    /// The body facts, asked for on first use; nil when the request carries none.
    mutating func loadFacts() -> BodyFacts? {
        if let facts { return facts }
        let loaded = request.bodyFacts?()
        facts = .some(loaded)
        return loaded
    }

    /// The first MCP method, when the facts were looked at and the request is MCP.
    var mcpMethod: String? {
        guard case .some(.some(let facts)) = facts, facts.mcp.isMCP else { return nil }
        return facts.mcp.methods.first
    }

    /// Whether the request already goes to `target` (host, port and path).
    func isAtTarget(_ target: ResolvedTarget?) -> Bool {
        guard let target else { return false }
        return target.host == host && target.port == request.port && target.path == path
    }
}

/// What one body pattern made of a request's body.
enum PatternOutcome: Sendable, Equatable {
    /// It matched (at least one byte) in the raw or the canonical body.
    case hit
    /// It gave a clean "no" for every view.
    case miss
    /// It could not finish (a PCRE2 limit) and matched in no view.
    case failed
}
