import MeshgatePolicy
import Testing

@Suite("Ruleset loader errors")
struct LoaderErrorTests {
    static let head = "ruleset: r\nversion: \"1\"\n"

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var yaml: String
        var expected: String
        var portal: String? = "https://portal.example.com/mcp"
        var testDescription: String { name }
    }

    @Test("one file: the message names file:line:column, the rule, the key and a fix", arguments: [
        Case(name: "unknown top-level key", yaml: head + "rule:\n  - { id: a, match: {}, action: allow }\n",
             expected: "a.yaml:3:1: rule: unknown key 'rule'; did you mean 'rules'?"),
        Case(name: "unknown rule key", yaml: head + "rules:\n  - id: a\n    match: {}\n    actoin: block\n",
             expected: "a.yaml:6:5: rule 'a': rules[0].actoin: unknown key 'actoin'; did you mean 'action'?"),
        Case(name: "selector outside match", yaml: head + "rules:\n  - id: a\n    host: [x.com]\n    action: block\n",
             expected: "a.yaml:5:5: rule 'a': rules[0].host: unknown key 'host'; 'host' belongs under 'match:'"),
        Case(name: "unknown selector", yaml: head + "rules:\n  - id: a\n    match: { hots: [x.com] }\n    action: block\n",
             expected: "a.yaml:5:14: rule 'a': rules[0].match.hots: unknown key 'hots'; did you mean 'host'?"),
        Case(name: "unknown action", yaml: head + "rules:\n  - id: a\n    match: {}\n    action: blok\n",
             expected: "a.yaml:6:13: rule 'a': rules[0].action: unknown action 'blok'; did you mean 'block'? expected one of: allow, block, redirect, reroute, log"),
        Case(name: "invalid host pattern", yaml: head + "rules:\n  - id: a\n    match:\n      host:\n        - x.com\n        - \"mcp.*.com\"\n    action: block\n",
             expected: "a.yaml:8:11: rule 'a': rules[0].match.host[1]: invalid host pattern 'mcp.*.com': '*' may only be the whole first label ('*.x.com') or the whole last label ('mcp.*'); write a host name, '*.example.com' for every host below it, or 'mcp.*' for a first label"),
        Case(name: "host written as URL", yaml: head + "rules:\n  - { id: a, match: { host: [\"https://mcp.x.com/mcp\"] }, action: block }\n",
             expected: "a.yaml:4:30: rule 'a': rules[0].match.host[0]: invalid host pattern 'https://mcp.x.com/mcp': it is a URL; write only the host name, e.g. 'mcp.example.com', and put a path under 'path:'"),
        Case(name: "bad path pattern", yaml: head + "rules:\n  - id: a\n    match: { path: [/ok, mcp] }\n    action: block\n",
             expected: "a.yaml:5:26: rule 'a': rules[0].match.path[1]: invalid path pattern 'mcp': it does not start with '/'; write e.g. '/mcp' or '/mcp/*'"),
        Case(name: "unknown DLP profile", yaml: head + "rules:\n  - id: a\n    match: { body: [secretz] }\n    action: block\ndlp_profiles:\n  secrets:\n    patterns:\n      - { name: K, regex: 'AKIA' }\n",
             expected: "a.yaml:5:21: rule 'a': rules[0].match.body[0]: unknown DLP profile 'secretz'; did you mean 'secrets'?"),
        Case(name: "invalid DLP regex", yaml: head + "rules: []\ndlp_profiles:\n  secrets:\n    patterns:\n      - name: Broken\n        regex: '(AKIA[0-9A-Z]{16}'\n",
             expected: "a.yaml:8:16: dlp_profiles.secrets.patterns[0].regex: invalid regex for pattern 'Broken': missing closing parenthesis at offset 17; regexes are PCRE2; in YAML prefer single quotes so backslashes stay as written"),
        Case(name: "invalid header regex", yaml: head + "rules:\n  - id: hdr\n    match:\n      header: { Mcp-Session-Id: '([a-f' }\n    action: block\n",
             expected: "a.yaml:6:33: rule 'hdr': rules[0].match.header.Mcp-Session-Id: invalid regex: missing closing parenthesis at offset 5; regexes are PCRE2; in YAML prefer single quotes so backslashes stay as written"),
        Case(name: "duplicate rule id in a file", yaml: head + "rules:\n  - { id: a, match: {}, action: allow }\n  - { id: a, match: {}, action: block }\n",
             expected: "a.yaml:5:11: rule 'a': rules[1].id: duplicate rule id 'a' (first defined at a.yaml:4:11); rule ids must be unique"),
        Case(name: "target that is not a URL", yaml: head + "rules:\n  - { id: r, match: {}, action: reroute, target: portal.example.com }\n",
             expected: "a.yaml:4:50: rule 'r': rules[0].target: target 'portal.example.com' is neither 'portal' nor an absolute http(s) URL; write target: portal, or a URL such as https://portal.example.com/mcp"),
        Case(name: "target on a block rule", yaml: head + "rules:\n  - { id: b, match: {}, action: block, target: portal }\n",
             expected: "a.yaml:4:48: rule 'b': rules[0].target: a target only applies to redirect and reroute, not block; remove 'target:' or change the action"),
        Case(name: "mcp: true", yaml: head + "rules:\n  - { id: m, match: { mcp: true }, action: block }\n",
             expected: "a.yaml:4:28: rule 'm': rules[0].match.mcp: 'true' is not an MCP method; write 'mcp: any' or a list of MCP methods such as 'mcp: [tools/call, initialize]'"),
        Case(name: "empty selector list", yaml: head + "rules:\n  - { id: e, match: { host: [] }, action: block }\n",
             expected: "a.yaml:4:29: rule 'e': rules[0].match.host: an empty list never matches; list at least one value, or remove the key"),
        Case(name: "selector without a value", yaml: head + "rules:\n  - id: n\n    match:\n      host:\n      path: [/x]\n    action: block\n",
             expected: "a.yaml:6:12: rule 'n': rules[0].match.host: 'host' has no value, which would drop the selector and widen the rule; give at least one value, or remove the key"),
        Case(name: "missing match", yaml: head + "rules:\n  - id: nm\n    action: block\n",
             expected: "a.yaml:4:5: rule 'nm': rules[0]: missing required key 'match'; write 'match: {}' to match every request"),
        Case(name: "missing version", yaml: "ruleset: r\nrules: []\n",
             expected: "a.yaml:1:1: missing required key 'version'; add e.g. version: \"2026.11.24\"; updates must raise it"),
        Case(name: "test names an unknown rule", yaml: head + "rules:\n  - { id: block-mcp, match: {}, action: block }\ntests:\n  - { request: { url: \"https://x.com/\" }, expect: block, rule: block-mpc }\n",
             expected: "a.yaml:6:64: tests[0].rule: no rule 'block-mpc' in this file; did you mean 'block-mcp'?"),
        Case(name: "test url not absolute", yaml: head + "rules: []\ntests:\n  - request: { url: mcp.linear.app/mcp }\n    expect: block\n",
             expected: "a.yaml:5:21: tests[0].request.url: 'mcp.linear.app/mcp' is not an absolute http(s) URL; write e.g. https://mcp.example.com/mcp"),
        Case(name: "YAML syntax error", yaml: head + "rules:\n  - { id: a, match: { host: [x.com }, action: block }\n",
             expected: "a.yaml:4:36: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 4); check the indentation and quoting around this spot"),
        Case(name: "duplicate YAML key", yaml: head + "rules:\n  - id: a\n    match: {}\n    action: allow\n    action: block\n",
             expected: "a.yaml:6:5: duplicate key 'action'; keep one of them"),
        Case(name: "profile written as a bare list", yaml: head + "rules: []\ndlp_profiles:\n  secrets:\n    - { name: K, regex: 'AKIA' }\n",
             expected: "a.yaml:6:5: dlp_profiles.secrets: expected a mapping with 'patterns:', found a list; write 'patterns:' on its own line and the list indented below it"),
    ])
    func singleFile(_ test: Case) throws {
        let error = try #require(loadError(test.yaml, portal: test.portal))
        #expect(error.description == test.expected)
    }

    @Test("a rule id used in two files names both places")
    func duplicateAcrossFiles() throws {
        let a = "ruleset: one\nversion: \"1\"\nrules:\n  - { id: shared, match: {}, action: allow }\n"
        let b = "ruleset: two\nversion: \"1\"\nrules:\n  - { id: other, match: {}, action: allow }\n  - id: shared\n    match: {}\n    action: block\n"
        let error = try #require(loadError(a, b))
        #expect(error.description == "b.yaml:5:5: rule 'shared': rules[1].id: duplicate rule id 'shared' (first defined at a.yaml:4:5); rule ids must be unique across all ruleset files")
    }

    @Test("a ruleset name used by two files is refused")
    func duplicateRulesetName() throws {
        let a = "ruleset: same\nversion: \"1\"\nrules: []\n"
        let error = try #require(loadError(a, a))
        #expect(error.description == "b.yaml: ruleset: ruleset name 'same' is also used by a.yaml; give each ruleset file its own name")
    }

    @Test("a missing file is named")
    func missingFile() {
        #expect {
            _ = try PolicyEngine.load(files: ["/nonexistent/shadow.yaml"], regexCompiler: TestRegexCompiler())
        } throws: { error in
            (error as? RulesetError)?.description == "/nonexistent/shadow.yaml: no such file; check the path in 'rulesets:' or on the command line"
        }
    }
}
