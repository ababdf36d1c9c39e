import Foundation
import MeshgateCore
import MeshgateInspection
import MeshgateJSON
import MeshgatePolicy

/// `meshgate rules check` and `meshgate rules test`.
public enum RulesCommands {
    /// Used for `target: portal` / `$portal` when checking files without a configured portal.
    public static let placeholderPortal = "https://portal.invalid/mcp"

    /// What `rules check` found in files that load and pass their tests.
    public struct CheckReport: Sendable {
        /// One `ok: NAME VERSION (…)` line per ruleset.
        public var summaries: [String]
        /// Patterns that backtrack super-linearly or match the empty string, each at its `file:line`.
        public var warnings: [RulesetLinter.Warning]
        /// Patterns left untimed because the time budget ran out.
        public var untimed: Int
    }

    /// Parses each file, compiles every regex, runs the embedded tests and times every pattern
    /// against adversarial inputs (``RulesetLinter``). Throws the first load error or the test
    /// failures; warnings are returned.
    public static func check(files: [String], portal: String?) throws -> CheckReport {
        let policy = try PolicyEngine.load(files: files, regexCompiler: PCRE2RegexCompiler(), portal: portal ?? placeholderPortal)
        let failures = RulesetTestRunner.run(policy, inspector: InspectionRequestInspector())
        if let first = failures.first {
            throw RulesetTestsFailed(failures: failures.map(\.description), first: first.description)
        }
        let lint = RulesetLinter.lint(policy.rulesets)
        let summaries = policy.rulesets.map { ruleset in
            let patterns = ruleset.dlpProfiles.reduce(0) { $0 + $1.patterns.count }
            return "ok: \(ruleset.name) \(ruleset.version) (\(ruleset.rules.count) rules, \(patterns) patterns, \(ruleset.tests.count) tests passed)"
        }
        return CheckReport(summaries: summaries, warnings: lint.warnings, untimed: lint.untimed)
    }

    /// A request for `rules test`.
    /// A header given as one `Name: value` line (the CLI's `--header`, the dashboard's form), both
    /// sides trimmed; nil without a colon.
    public static func headerLine(_ line: String) -> (name: String, value: String)? {
        guard let colon = line.firstIndex(of: ":") else { return nil }
        return (String(line[..<colon]).trimmingCharacters(in: .whitespaces),
                String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
    }

    public struct TestRequest: Sendable {
        /// The absolute URL.
        public var url: String
        /// The method (GET by default).
        public var method: String
        /// Headers as given.
        public var headers: [(name: String, value: String)]
        /// The body bytes, if any.
        public var body: [UInt8]?
        /// The identity name to evaluate as.
        public var identity: String?

        /// Creates a request.
        public init(url: String, method: String, headers: [(name: String, value: String)], body: [UInt8]?, identity: String?) {
            self.url = url
            self.method = method
            self.headers = headers
            self.body = body
            self.identity = identity
        }
    }

    /// Decides `request` with the configured rulesets and returns the contract's JSON object.
    /// `running` is the policy a server has in force (the dashboard's form); without it the
    /// configured rulesets are compiled here.
    public static func test(_ request: TestRequest, configuration: MeshgateConfiguration, running: PolicyEngine? = nil) throws -> String {
        let store = RulesetStore(stateDirectory: configuration.stateDirectory)
        // Compiled as `serve` compiles it (PolicyReloader.compile), so the decision is the proxy's.
        let policy = try running ?? PolicyEngine(rulesets: store.effectiveRulesets(configured: configuration.rulesets),
                                                 regexCompiler: PCRE2RegexCompiler(), portal: configuration.portal?.absoluteString,
                                                 onMatchError: configuration.inspection.onMatchError.mode)
        if policy.ruleCount == 0, running == nil {
            // An "allow" from no rules at all must not read as a policy decision.
            let source = configuration.sourcePath.map { " in \($0)" } ?? ""
            FileHandle.standardError.write(Data("meshgate: no rules are loaded (rulesets: []\(source)), so every request is allowed; remove the rulesets: key to run the shipped rulesets\n".utf8))
        }
        guard let url = URLComponents(string: request.url), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty else {
            throw UsageError(message: "--url must be an absolute http(s) URL, got '\(request.url)'")
        }
        var identity: Identity?
        if let name = request.identity {
            guard let configured = configuration.identities.first(where: { $0.name == name }) else {
                throw UsageError(message: "no identity named '\(name)' in the configuration's identities")
            }
            identity = Identity(name: configured.name, team: configured.team)
        }
        var path = url.percentEncodedPath.isEmpty ? "/" : url.percentEncodedPath
        if let query = url.percentEncodedQuery { path += "?" + query }
        let policyRequest = PolicyRequest(
            scheme: scheme,
            host: host,
            port: url.port ?? (scheme == "https" ? 443 : 80),
            method: request.method.uppercased(),
            path: path,
            headers: request.headers,
            identity: identity
        )
        var body = request.body ?? []
        // As the proxy does: every Content-Encoding header counts, and a body a rule needs that
        // cannot be decoded is refused under that rule unless inspection.undecodable is allow.
        let encodings = request.headers.filter { $0.name.lowercased() == "content-encoding" }.map(\.value)
        var undecodable = false
        var refused: Verdict?
        if !encodings.isEmpty {
            do {
                body = try BodyDecoder.decode(body, contentEncoding: encodings.joined(separator: ", "),
                                              maxDecodedBytes: configuration.inspection.maxBodyBytes).bytes
            } catch {
                undecodable = true
                if configuration.inspection.undecodable == .block { refused = policy.undecodableBodyVerdict(for: policyRequest) }
            }
        }
        let facts = InspectionRequestInspector().facts(for: policyRequest, body: body)
        // The proxy's own decision path: an LLM call (recognised as `serve` recognises it) that names
        // MCP servers is judged server by server, and connectors per inspection.mcp_connectors.
        let isLLMCall = AIAssembly.recognizer(configuration: configuration)
            .recognize(method: policyRequest.method, host: host, port: policyRequest.port, path: path) != nil
        let decision = policy.decide(policyRequest.withBody(facts), isLLMCall: isLLMCall && request.body != nil,
                                     connectors: configuration.inspection.mcpConnectors)
        var verdict = refused ?? decision.effective
        if undecodable, !verdict.detections.contains(PolicyEngine.undecodableBodyDetection) {
            verdict.detections.insert(PolicyEngine.undecodableBodyDetection, at: 0)
        }
        // As on the proxy's audit line: a pattern that gave up is noted, whatever on_match_error made of it.
        for failure in verdict.matchErrors { verdict.detections.append("Detection error: \(failure.rule)") }
        let mcpMethod = verdict.mcpMethod ?? facts.mcp.methods.first
        func string(_ s: String?) -> String {
            guard let s else { return "null" }
            var out: [UInt8] = []
            JSONText.appendString(s, to: &out)
            return String(decoding: out, as: UTF8.self)
        }
        let detections = "[" + verdict.detections.map { string($0) }.joined(separator: ",") + "]"
        var json = #"{"action":\#(string(verdict.action.rawValue)),"rule":\#(string(verdict.rule)),"ruleset":\#(string(verdict.ruleset)),"detections":\#(detections),"mcp_method":\#(string(mcpMethod)),"target":\#(string(verdict.target))"#
        if refused == nil, !decision.servers.isEmpty {
            // What the proxy does with each MCP server or connector the LLM call names.
            let servers = decision.servers.map { server -> String in
                let outcome: String
                var target: String?
                switch server.outcome {
                case .keep: outcome = "keep"
                case .swap(let to): outcome = "swap"; target = to
                case .refuse: outcome = "refuse"
                case .strip: outcome = "strip"
                }
                let key = server.isConnector ? "connector" : "url"
                return #"{"\#(key)":\#(string(server.name)),"action":\#(string(server.verdict.action.rawValue)),"rule":\#(string(server.verdict.rule)),"outcome":\#(string(outcome)),"target":\#(string(target))}"#
            }
            json += #","mcp_servers":["# + servers.joined(separator: ",") + "]"
        }
        return json + "}"
    }

    /// Bad command-line input, named plainly.
    public struct UsageError: Error, CustomStringConvertible {
        /// What was wrong and what to do.
        public var message: String
        /// Creates the error.
        public init(message: String) { self.message = message }
        /// The message.
        public var description: String { message }
    }
}
