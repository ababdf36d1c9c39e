import Foundation
import Testing

/// `meshgate rules check` timing every regex (warnings with file:line, `--strict`) and `meshgate
/// rules test` deciding a request whose pattern hits PCRE2's match limit as the proxy does.
@Suite(.serialized) struct RulesCheckCommandTests {
    static let binary = ServeCommandTests.binary

    static let backtracking = #"""
        ruleset: backtracking
        version: "1"
        rules:
          - id: nested-body
            match: { body: [bad] }
            action: block
          - id: words-header
            match: { header: { X-Words: '^(\w+\s?)*$' } }
            action: block
        dlp_profiles:
          bad:
            patterns:
              - { name: Nested, regex: '(a+)+$' }
              - { name: Optional Token, regex: '(?:tok_[a-z]{8})?' }
        tests:
          - request: { method: POST, url: "https://x.example/", body: "hello" }
            expect: allow
        """#

    static func directory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rules-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test func warnsAboutBacktrackingAndEmptyMatchPatternsWithTheirLines() async throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("backtracking.yaml").path
        try Self.backtracking.write(toFile: file, atomically: true, encoding: .utf8)

        let check = try await ProcessRunner.run(Self.binary, ["rules", "check", file])
        #expect(check.exitCode == 0, "warnings alone do not fail the check: \(check.stderr)")
        #expect(check.stdoutText.contains("ok: backtracking 1"), "\(check.stdoutText)")
        let lines = check.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(check.stderr)")
        #expect(lines.contains {
            $0.hasPrefix("\(file):13:") && $0.contains("warning: pattern 'Nested' of profile 'bad': hits the match limit on a 1 KiB input ('a'×1023 + '!')")
                && $0.contains("use a possessive quantifier or atomic group")
        }, "\(check.stderr)")
        #expect(lines.contains { $0.hasPrefix("\(file):14:") && $0.contains("pattern 'Optional Token' of profile 'bad': matches the empty string") }, "\(check.stderr)")
        #expect(lines.contains { $0.hasPrefix("\(file):8:") && $0.contains("rule 'words-header': header 'X-Words': hits the match limit") }, "\(check.stderr)")

        let strict = try await ProcessRunner.run(Self.binary, ["rules", "check", "--strict", file])
        #expect(strict.exitCode == 1)
        #expect(strict.stderr.contains("3 warnings (--strict)"), "\(strict.stderr)")

        // The shipped rulesets time clean, even under --strict.
        let root = URL(fileURLWithPath: ServeCommandTests.repositoryRoot)
        let shipped = ["rulesets/shadow-mcp.yaml", "rulesets/dlp-secrets.yaml"].map { root.appendingPathComponent($0).path }
        let clean = try await ProcessRunner.run(Self.binary, ["rules", "check", "--strict"] + shipped)
        #expect(clean.exitCode == 0, "\(clean.stderr)")
        #expect(clean.stderr.isEmpty, "\(clean.stderr)")
    }

    @Test func rulesTestDecidesAMatchLimitAsTheProxyDoes() async throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("backtracking.yaml").path
        try Self.backtracking.write(toFile: file, atomically: true, encoding: .utf8)
        let body = String(repeating: "a", count: 2048) + "!"

        func decide(_ inspection: String) async throws -> [String: Any] {
            let config = directory.appendingPathComponent("meshgate-\(UUID().uuidString).yaml").path
            try "state_dir: \(directory.path)/state\nrulesets: [\(file)]\n\(inspection)".write(toFile: config, atomically: true, encoding: .utf8)
            let run = try await ProcessRunner.run(Self.binary, ["rules", "test", "--config", config, "--url", "https://x.example/upload",
                                                                "--method", "POST", "--body", body])
            #expect(run.exitCode == 0, "\(run.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
        }

        let blocked = try await decide("")
        #expect(blocked["action"] as? String == "block")
        #expect(blocked["rule"] as? String == "nested-body")
        #expect(blocked["detections"] as? [String] == ["Match limit: Nested", "Detection error: nested-body"])

        let allowed = try await decide("inspection:\n  on_match_error: allow\n")
        #expect(allowed["action"] as? String == "allow")
        #expect(allowed["rule"] is NSNull)
        #expect(allowed["detections"] as? [String] == ["Detection error: nested-body"])
    }
}
