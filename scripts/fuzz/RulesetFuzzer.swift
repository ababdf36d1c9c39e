import MeshgatePolicy

// The ruleset loader (YAML through Yams, then keys, patterns, actions, profiles and embedded
// tests), the policy compiler (PCRE2 regexes from the file) and the embedded-test runner, which
// evaluates the file's own test requests: a ruleset file either loads or is refused with a
// RulesetError, never a crash, and evaluating what loaded does not crash either.
@Sendable func fuzzRuleset(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    guard let ruleset = try? Ruleset.parse(yaml: text, file: "fuzz.yaml") else { return }
    guard let engine = try? PolicyEngine(rulesets: [ruleset], regexCompiler: PCRE2RegexCompiler(), portal: "https://portal.example/mcp") else {
        return
    }
    invariant(engine.ruleCount == ruleset.rules.count, "\(ruleset.rules.count) rules compiled to \(engine.ruleCount)")
    _ = RulesetTestRunner.run(engine, inspector: InspectionRequestInspector())
}
