import MeshgateCore
import Testing
@testable import MeshgatePolicy

/// Parses and compiles YAML documents as consecutive files `a.yaml`, `b.yaml`, ….
func policy(_ documents: String..., portal: String? = "https://portal.example.com/mcp",
            compiler: any RegexCompiler = TestRegexCompiler()) throws -> PolicyEngine {
    var rulesets: [Ruleset] = []
    for (index, text) in documents.enumerated() {
        let name = String(UnicodeScalar(UInt8(ascii: "a") + UInt8(index))) + ".yaml"
        rulesets.append(try Ruleset.parse(yaml: text, file: name))
    }
    return try PolicyEngine(rulesets: rulesets, regexCompiler: compiler, portal: portal)
}

/// The error loading `documents` throws, or nil when they load.
func loadError(_ documents: String..., portal: String? = "https://portal.example.com/mcp") -> RulesetError? {
    do {
        var rulesets: [Ruleset] = []
        for (index, text) in documents.enumerated() {
            let name = String(UnicodeScalar(UInt8(ascii: "a") + UInt8(index))) + ".yaml"
            rulesets.append(try Ruleset.parse(yaml: text, file: name))
        }
        _ = try PolicyEngine(rulesets: rulesets, regexCompiler: TestRegexCompiler(), portal: portal)
        return nil
    } catch {
        return error
    }
}

/// A request to `url` (absolute), with an optional text body run through `TestInspector`.
func request(_ method: String = "GET", _ url: String, headers: [(name: String, value: String)] = [], body: String? = nil,
             identity: Identity? = nil) -> PolicyRequest {
    var test = TestRequest(method: method, url: url, headers: headers, body: body)
    test.identity = identity?.name
    test.team = identity?.team
    guard let built = test.policyRequest(inspector: TestInspector()) else {
        Issue.record("bad test URL \(url)")
        return PolicyRequest(host: "invalid")
    }
    return built
}
