import Foundation
import MeshgateCore
import Yams

extension Ruleset {
    /// Reads and parses the ruleset file at `path` (named as given in errors).
    public static func load(path: String) throws(RulesetError) -> Ruleset {
        let fileLocation = SourceLocation(file: path, line: nil, column: nil)
        guard FileManager.default.fileExists(atPath: path) else {
            throw RulesetError(location: fileLocation, message: "no such file", fix: "check the path in 'rulesets:' or on the command line")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw RulesetError(location: fileLocation, message: "cannot read the file: \(error.localizedDescription)")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw RulesetError(location: fileLocation, message: "the file is not UTF-8 text", fix: "save it as UTF-8")
        }
        return try parse(yaml: text, file: path)
    }

    /// Parses ruleset YAML; `file` names it in errors. Checks everything one file can check:
    /// keys, host and path patterns, actions and targets, profile references, rule ids unique in
    /// the file, test requests. Regexes are compiled later, by ``PolicyEngine``.
    public static func parse(yaml text: String, file: String) throws(RulesetError) -> Ruleset {
        let absolute = LexicalPath.resolve(file, against: FileManager.default.currentDirectoryPath, home: nil)
        let source = YAMLSource(file: file, baseDirectory: LexicalPath.directory(of: absolute))
        guard let root = try YAMLNode.root(of: text, source: source) else {
            throw RulesetError(location: SourceLocation(file: file, line: nil, column: nil), message: "the file is empty",
                               fix: "start with 'ruleset: NAME', 'version: \"1\"' and 'rules:'")
        }
        return try RulesetParser(file: file).parse(root)
    }
}

/// Reads the YAML tree of one ruleset file into a ``Ruleset``.
struct RulesetParser {
    let file: String

    static let topKeys = ["ruleset", "version", "rules", "dlp_profiles", "tests", "mcp_servers"]
    static let ruleKeys = ["id", "description", "match", "action", "target"]
    static let matchKeys = ["host", "path", "method", "header", "body", "mcp", "mcp_server", "mcp_tool", "identity", "team"]
    static let actions: [PolicyAction] = [.allow, .block, .redirect, .reroute, .log]

    func parse(_ root: YAMLNode) throws(RulesetError) -> Ruleset {
        var misplaced: [String: String] = [
            "profiles": "write 'dlp_profiles:'",
            "patterns": "'patterns' belongs under a profile name in 'dlp_profiles:'",
            "request": "'request' belongs in a test under 'tests:'",
            "expect": "'expect' belongs in a test under 'tests:'",
        ]
        for key in Self.ruleKeys { misplaced[key] = "'\(key)' belongs in a rule under 'rules:'" }
        let top = try root.mapping(keys: Self.topKeys, misplaced: misplaced,
                                   expected: "a ruleset (a mapping with ruleset, version and rules)")
        let name = try top.required("ruleset", fix: "name the ruleset, e.g. ruleset: shadow-mcp").identifier(expected: "ruleset name")
        let version = try top.required("version", fix: "add e.g. version: \"2026.11.24\"; updates must raise it")
            .string(expected: "a version such as \"2026.11.24\"")
        let profiles = try top["dlp_profiles"].map { node throws(RulesetError) in try parseProfiles(node) } ?? []
        let rules = try parseRules(try top.required("rules", fix: "add 'rules:' with a list of rules (it may be empty: rules: [])"),
                                   profiles: profiles)
        let tests = try top["tests"].map { node throws(RulesetError) in try parseTests(node, rules: rules) } ?? []
        let servers = try top["mcp_servers"].map { node throws(RulesetError) in try parseMCPServers(node) } ?? []
        return Ruleset(name: name, version: version, file: file, rules: rules, dlpProfiles: profiles, tests: tests, mcpServers: servers)
    }

    // MARK: Profiles

    func parseProfiles(_ node: YAMLNode) throws(RulesetError) -> [DLPProfile] {
        var profiles: [DLPProfile] = []
        for (name, keyNode, value) in try node.namedEntries(expected: "a mapping of profile names to their patterns") {
            _ = try keyNode.identifier(expected: "profile name")
            if case .sequence = value.node {
                throw value.error("expected a mapping with 'patterns:', found a list",
                                  fix: "write 'patterns:' on its own line and the list indented below it")
            }
            let map = try value.mapping(keys: ["description", "patterns"], misplaced: ["pattern": "did you mean 'patterns'?"])
            _ = try map["description"]?.string()
            let items = try map.required("patterns", fix: "add 'patterns:' with a list of { name, regex }")
                .list(expected: "a list of { name, regex } patterns")
            guard !items.isEmpty else {
                throw map.missing("patterns", fix: "a profile needs at least one { name, regex } pattern")
            }
            var patterns: [DLPPattern] = []
            for item in items {
                let entry = try item.mapping(keys: ["name", "regex"], misplaced: ["pattern": "did you mean 'regex'?"],
                                             expected: "a pattern { name: NAME, regex: REGEX }")
                let patternName = try entry.required("name", fix: "name the pattern; the name is the detection shown in the audit log")
                    .string(expected: "a pattern name")
                let regexNode = try entry.required("regex", fix: "add regex: '…' (PCRE2 syntax)")
                let regex = try regexNode.string(expected: "a PCRE2 regex")
                patterns.append(DLPPattern(name: patternName, regex: regex, location: regexNode.location))
            }
            profiles.append(DLPProfile(name: name, patterns: patterns, location: keyNode.location))
        }
        return profiles
    }

    // MARK: Rules

    func parseRules(_ node: YAMLNode, profiles: [DLPProfile]) throws(RulesetError) -> [Rule] {
        var rules: [Rule] = []
        var seen: [String: SourceLocation] = [:]
        var misplaced: [String: String] = [:]
        for key in Self.matchKeys { misplaced[key] = "'\(key)' belongs under 'match:'" }
        misplaced["expect"] = "did you mean 'action'?"
        for item in try node.list(expected: "a list of rules") {
            let peekedID = try item.peek("id")?.identifier(expected: "rule id")
            let ruleNode = item.inRule(peekedID)
            let map = try ruleNode.mapping(keys: Self.ruleKeys, misplaced: misplaced, expected: "a rule (a mapping with id, match and action)")
            let idNode = try map.required("id", fix: "give every rule a unique id, e.g. id: block-shadow-mcp")
            let id = try idNode.identifier(expected: "rule id")
            if let first = seen[id] {
                throw idNode.error("duplicate rule id '\(id)' (first defined at \(first))", fix: "rule ids must be unique")
            }
            seen[id] = idNode.location
            let description = try map["description"]?.string()
            let match = try parseMatch(try map.required("match", fix: "write 'match: {}' to match every request"), profiles: profiles)
            let actionNode = try map.required("action", fix: "write one of: " + Self.actions.map(\.rawValue).joined(separator: ", "))
            let action = try parseAction(actionNode)
            var target: RuleTarget?
            var targetLocation = ruleNode.location
            if action == .redirect || action == .reroute {
                target = .portal
                if let targetNode = map["target"] {
                    target = try parseTarget(targetNode)
                    targetLocation = targetNode.location
                }
            } else if let targetNode = map["target"] {
                throw targetNode.error("a target only applies to redirect and reroute, not \(action.rawValue)",
                                       fix: "remove 'target:' or change the action")
            }
            rules.append(Rule(id: id, description: description, match: match, action: action, target: target,
                              location: ruleNode.location, targetLocation: targetLocation))
        }
        return rules
    }

    func parseAction(_ node: YAMLNode) throws(RulesetError) -> PolicyAction {
        let allowed = Self.actions.map(\.rawValue)
        let text = try node.string(expected: "an action (" + allowed.joined(separator: ", ") + ")")
        if let action = PolicyAction(rawValue: text), Self.actions.contains(action) { return action }
        var fix = "expected one of: " + allowed.joined(separator: ", ")
        if let guess = KeySuggestion.closest(to: text, in: allowed) { fix = "did you mean '\(guess)'? " + fix }
        throw node.error("unknown action '\(text)'", fix: fix)
    }

    func parseTarget(_ node: YAMLNode) throws(RulesetError) -> RuleTarget {
        let text = try node.string(expected: "'portal' or an absolute URL")
        if text == "portal" { return .portal }
        guard AbsoluteURL(text) != nil else {
            throw node.error("target '\(text)' is neither 'portal' nor an absolute http(s) URL",
                             fix: "write target: portal, or a URL such as https://portal.example.com/mcp")
        }
        return .url(text)
    }

    func parseMatch(_ node: YAMLNode, profiles: [DLPProfile]) throws(RulesetError) -> RuleMatch {
        var misplaced: [String: String] = [:]
        for key in ["id", "action", "target", "description"] { misplaced[key] = "'\(key)' belongs beside 'match:', not inside it" }
        misplaced["url"] = "write the host under 'host:' and the path under 'path:'"
        misplaced["dlp"] = "write body: [PROFILE-NAME]"
        misplaced["profile"] = "write body: [PROFILE-NAME]"
        let map = try node.mapping(keys: Self.matchKeys, misplaced: misplaced, expected: "a mapping of selectors (write {} to match everything)")
        // `host:` with nothing after it must not quietly widen a rule to every request.
        for key in Self.matchKeys {
            if let value = map.written(key), value.isNull {
                throw value.error("'\(key)' has no value, which would drop the selector and widen the rule",
                                  fix: "give at least one value, or remove the key")
            }
        }
        var match = RuleMatch()
        if let hosts = map["host"] {
            for (text, item) in try hosts.strings(expected: "a host pattern") {
                // `$portal` is resolved when the policy is compiled against the configured portal.
                if text != HostMatcher.portalPlaceholder {
                    do {
                        _ = try HostMatcher.parse(text)
                    } catch {
                        throw item.error(error.description, fix: error.fix)
                    }
                }
                match.hosts.append(text)
            }
        }
        if let paths = map["path"] {
            for (text, item) in try paths.strings(expected: "a path pattern") {
                do {
                    match.paths.append(try PathPattern(text))
                } catch {
                    throw item.error(error.description, fix: error.fix)
                }
            }
        }
        if let methods = map["method"] {
            for (text, item) in try methods.strings(expected: "an HTTP method") {
                guard text.utf8.allSatisfy(HTTPToken.isTokenByte) else {
                    throw item.error("invalid method '\(text)'", fix: "write one method per list item, e.g. [GET, POST]")
                }
                match.methods.append(text.uppercased())
            }
        }
        if let headers = map["header"] {
            let entries = try headers.namedEntries(expected: "a mapping of header names to regexes")
            guard !entries.isEmpty else {
                throw headers.error("an empty header mapping", fix: "write 'Header-Name: regex' entries, or remove the key")
            }
            for (name, keyNode, value) in entries {
                guard !name.isEmpty, name.utf8.allSatisfy(HTTPToken.isTokenByte) else {
                    throw keyNode.error("invalid header name '\(name)'", fix: "write the bare header name, e.g. Mcp-Session-Id")
                }
                let regex = try value.string(expected: "a PCRE2 regex for the header's value")
                match.headers.append(HeaderSelector(name: name, regex: regex, location: value.location))
            }
        }
        if let body = map["body"] {
            for (text, item) in try body.strings(expected: "a DLP profile name") {
                guard profiles.contains(where: { $0.name == text }) else {
                    let names = profiles.map(\.name)
                    let fix: String
                    if let guess = KeySuggestion.closest(to: text, in: names) {
                        fix = "did you mean '\(guess)'?"
                    } else if names.isEmpty {
                        fix = "define it under 'dlp_profiles:' in this file (profiles are per file)"
                    } else {
                        fix = "profiles in this file: " + names.joined(separator: ", ")
                    }
                    throw item.error("unknown DLP profile '\(text)'", fix: fix)
                }
                match.bodyProfiles.append(text)
            }
        }
        if let mcp = map["mcp"] {
            match.mcp = try parseMCP(mcp)
        }
        if let server = map["mcp_server"] {
            match.mcpServer = try parseMCPServerSelector(server)
            match.mcpServerLocation = server.location
        }
        if let tools = map["mcp_tool"] {
            match.mcpTools = try parseMCPTools(tools)
        }
        if let identities = map["identity"] {
            match.identities = try identities.strings(expected: "an identity name").map(\.text)
        }
        if let teams = map["team"] {
            match.teams = try teams.strings(expected: "a team name").map(\.text)
        }
        return match
    }

    func parseMCP(_ node: YAMLNode) throws(RulesetError) -> MCPSelector {
        let fix = "write 'mcp: any' or a list of MCP methods such as 'mcp: [tools/call, initialize]'"
        if case .scalar = node.node, try node.string(expected: "'any' or a list of MCP method names") == "any" {
            return .any
        }
        var methods: [String] = []
        for (text, item) in try node.strings(expected: "an MCP method name") {
            if ["true", "yes", "on", "all", "*"].contains(text.lowercased()) {
                throw item.error("'\(text)' is not an MCP method", fix: fix)
            }
            guard text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw item.error("invalid MCP method name '\(text)'", fix: fix)
            }
            methods.append(text)
        }
        return .methods(methods)
    }

    func parseMCPServerSelector(_ node: YAMLNode) throws(RulesetError) -> MCPServerSelector {
        let text = try node.string(expected: "a registry entry's name, 'registered' or 'unregistered'")
        switch text {
        case "registered": return .registered
        case "unregistered": return .unregistered
        default:
            _ = try node.identifier(expected: "a registry entry's name, 'registered' or 'unregistered'")
            return .named(text)
        }
    }

    func parseMCPTools(_ node: YAMLNode) throws(RulesetError) -> [String] {
        var tools: [String] = []
        for (text, item) in try node.strings(expected: "a tool name or glob such as 'create_*'") {
            guard !text.isEmpty, text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw item.error("invalid tool name or glob '\(text)'",
                                 fix: "write tool names as the server lists them; '*' matches any run of characters, '?' one")
            }
            tools.append(text)
        }
        guard !tools.isEmpty else {
            throw node.error("an empty mcp_tool list", fix: "list tool names or globs, e.g. mcp_tool: [\"create_*\", delete_repo], or remove the key")
        }
        return tools
    }

    // MARK: Tests

    func parseTests(_ node: YAMLNode, rules: [Rule]) throws(RulesetError) -> [RulesetTest] {
        var misplaced: [String: String] = ["action": "did you mean 'expect'?"]
        for key in ["url", "method", "headers", "body", "identity", "team"] { misplaced[key] = "'\(key)' belongs under 'request:'" }
        var tests: [RulesetTest] = []
        for item in try node.list(expected: "a list of tests") {
            let map = try item.mapping(keys: ["description", "request", "expect", "rule"], misplaced: misplaced,
                                       expected: "a test { request: {…}, expect: ACTION }")
            _ = try map["description"]?.string()
            let request = try parseTestRequest(try map.required("request", fix: "add request: { method: POST, url: \"https://…\" }"))
            let expect = try parseAction(try map.required("expect", fix: "add the expected action, e.g. expect: block"))
            var expectedRule: String?
            if let ruleNode = map["rule"] {
                let id = try ruleNode.identifier(expected: "rule id")
                guard rules.contains(where: { $0.id == id }) else {
                    var fix = "a test names a rule of its own file"
                    if let guess = KeySuggestion.closest(to: id, in: rules.map(\.id)) { fix = "did you mean '\(guess)'?" }
                    throw ruleNode.error("no rule '\(id)' in this file", fix: fix)
                }
                expectedRule = id
            }
            tests.append(RulesetTest(request: request, expectedAction: expect, expectedRule: expectedRule, location: item.location))
        }
        return tests
    }

    func parseTestRequest(_ node: YAMLNode) throws(RulesetError) -> TestRequest {
        let map = try node.mapping(keys: ["method", "url", "headers", "body", "identity", "team"],
                                   expected: "a request { method, url, headers, body, identity, team }")
        let urlNode = try map.required("url", fix: "add url: \"https://mcp.example.com/mcp\"")
        let url = try urlNode.string(expected: "an absolute URL")
        // `$portal` in a test URL stands for the configured portal's host, as it does in host lists.
        guard AbsoluteURL(url.replacingOccurrences(of: HostMatcher.portalPlaceholder, with: "portal.invalid")) != nil else {
            throw urlNode.error("'\(url)' is not an absolute http(s) URL", fix: "write e.g. https://mcp.example.com/mcp")
        }
        var request = TestRequest(url: url)
        if let methodNode = map["method"] {
            let method = try methodNode.string(expected: "an HTTP method")
            guard method.utf8.allSatisfy(HTTPToken.isTokenByte) else {
                throw methodNode.error("invalid method '\(method)'", fix: "write e.g. POST")
            }
            request.method = method.uppercased()
        }
        if let headers = map["headers"] {
            for (name, keyNode, value) in try headers.namedEntries(expected: "a mapping of header names to values") {
                guard !name.isEmpty, name.utf8.allSatisfy(HTTPToken.isTokenByte) else {
                    throw keyNode.error("invalid header name '\(name)'", fix: "write e.g. Content-Type: application/json")
                }
                request.headers.append((name, try value.scalar(expected: "a header value")))
            }
        }
        request.body = try map["body"]?.scalar(expected: "the body as text")
        request.identity = try map["identity"]?.string(expected: "an identity name")
        request.team = try map["team"]?.string(expected: "a team name")
        return request
    }
}

/// RFC 9110 token characters, for header names and methods.
enum HTTPToken {
    static func isTokenByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}
