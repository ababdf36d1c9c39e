import Foundation
import MeshgateInspection
import Testing
@testable import MeshgatePolicy

@Suite("Ruleset linter")
struct RulesetLinterTests {
    static let yaml = #"""
        ruleset: lint
        version: "1"
        rules:
          - id: nested
            match: { body: [bad] }
            action: block
          - id: header-probe
            match: { header: { X-Probe: '^(\w+\s?)*$', X-Any: '.*' } }
            action: block
        dlp_profiles:
          bad:
            patterns:
              - { name: Nested, regex: '(a+)+$' }
              - { name: Token, regex: '\btok_[a-z0-9]{16}\b' }
              - { name: Maybe, regex: '(?:secret)?' }
              - { name: Nested Again, regex: '(a+)+$' }
        """#

    @Test func catastrophicAndEmptyMatchPatternsAreFlaggedAtTheirLine() throws {
        let ruleset = try Ruleset.parse(yaml: Self.yaml, file: "lint.yaml")
        let report = RulesetLinter.lint([ruleset])
        let lines = report.warnings.map(\.description)
        #expect(report.warnings.count == 4, "\(lines)")
        #expect(report.untimed == 0)

        let nested = try #require(report.warnings.first)
        #expect(nested.location.file == "lint.yaml" && nested.location.line == 13, "\(nested)")
        #expect(nested.subject == "pattern 'Nested' of profile 'bad'")
        #expect(nested.description.hasPrefix("lint.yaml:13:"), "\(nested)")
        #expect(nested.description.contains("warning: pattern 'Nested' of profile 'bad': hits the match limit on a 1 KiB input ('a'×1023 + '!')"), "\(nested)")
        #expect(nested.description.contains("use a possessive quantifier or atomic group"), "\(nested)")

        // The empty match, the same pattern text again (timed once, warned about at each place),
        // and the header selector; '.*' on a header means "present" and is not warned about.
        #expect(lines.contains { $0.hasPrefix("lint.yaml:15:") && $0.contains("pattern 'Maybe' of profile 'bad': matches the empty string") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("lint.yaml:16:") && $0.contains("'Nested Again'") && $0.contains("hits the match limit") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("lint.yaml:8:") && $0.contains("rule 'header-probe': header 'X-Probe': hits the match limit") }, "\(lines)")
        #expect(!lines.contains { $0.contains("X-Any") || $0.contains("'Token'") }, "\(lines)")
    }

    @Test func shippedRulesetsHaveNoWarnings() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let rulesets = try ["rulesets/shadow-mcp.yaml", "rulesets/dlp-secrets.yaml"].map {
            try Ruleset.load(path: root.appendingPathComponent($0).path)
        }
        let report = RulesetLinter.lint(rulesets)
        #expect(report.warnings.isEmpty, "\(report.warnings.map(\.description))")
        #expect(report.untimed == 0)
    }

    @Test func anExhaustedBudgetLeavesPatternsUntimedButStillChecksEmptyMatches() throws {
        let ruleset = try Ruleset.parse(yaml: Self.yaml, file: "lint.yaml")
        let report = RulesetLinter.lint([ruleset], totalBudget: .zero)
        #expect(report.untimed == 6)
        #expect(report.warnings.map(\.finding) == [.emptyMatch])
    }

    @Test(arguments: [("(a+)+$", true), (#"^(\w+\s?)*$"#, true), ("(?:ab|c)*x", false), ("(a++)$", false), ("[(]+a*", false), ("((a)b)+", false)])
    func nestedRepeats(pattern: String, nested: Bool) {
        #expect(RulesetLinter.hasNestedRepeat(pattern) == nested, "\(pattern)")
    }
}
