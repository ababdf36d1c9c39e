import Foundation
import MeshgatePolicy
import Testing
@testable import Meshgate

/// The shipped rulesets are built into the binary and run when the configuration names none (issue 19).
@Suite struct ShippedRulesetsEmbeddingTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func theBuiltInCopiesAreTheFilesInRulesets() throws {
        let onDisk = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("rulesets").path)
            .filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(ShippedRulesets.files.map(\.name).sorted() == onDisk)
        for file in ShippedRulesets.files {
            let text = try String(contentsOf: Self.root.appendingPathComponent("rulesets/\(file.name)"), encoding: .utf8)
            #expect(file.yaml + "\n" == text || file.yaml == text,
                    "rulesets/\(file.name) changed since it was built in: run scripts/embed-rulesets.sh")
        }
    }

    @Test func noRulesetsKeyRunsTheShippedOnesAndAnEmptyListNone() throws {
        let defaults = try MeshgateConfiguration.parse(yaml: "state_dir: /tmp/s\n", path: "/etc/meshgate/meshgate.yaml")
        #expect(defaults.rulesets == ["builtin:shadow-mcp.yaml", "builtin:dlp-secrets.yaml"])
        let policy = try PolicyReloader.compile(defaults)
        #expect(policy.rulesets.map(\.name) == ["shadow-mcp", "dlp-secrets"])
        #expect(policy.rulesets.first?.file == "builtin:shadow-mcp.yaml")
        let summary = PolicyReloader.summary(of: policy)
        #expect(summary.contains("shadow-mcp@") && summary.contains("(builtin:shadow-mcp.yaml)"), "\(summary)")
        #expect(summary.contains("portal: unset"), "\(summary)")

        let none = try MeshgateConfiguration.parse(yaml: "state_dir: /tmp/s\nrulesets: []\n", path: "/etc/meshgate/meshgate.yaml")
        #expect(none.rulesets.isEmpty)
        #expect(PolicyReloader.summary(of: try PolicyReloader.compile(none)).contains("no rulesets"))

        let mixed = try MeshgateConfiguration.parse(yaml: "state_dir: /tmp/s\nrulesets: [builtin:dlp-secrets.yaml, local.yaml]\n",
                                                    path: "/etc/meshgate/meshgate.yaml")
        #expect(mixed.rulesets == ["builtin:dlp-secrets.yaml", "/etc/meshgate/local.yaml"])
    }

    @Test func theStrictTierIsBuiltInButOptIn() throws {
        #expect(!RulesetSource.shipped.contains("builtin:shadow-mcp-strict.yaml"))
        let strict = try RulesetSource.load("builtin:shadow-mcp-strict.yaml")
        #expect(strict.name == "shadow-mcp-strict")
        let configured = try MeshgateConfiguration.parse(yaml: "state_dir: /tmp/s\nrulesets: [builtin:shadow-mcp-strict.yaml, builtin:dlp-secrets.yaml]\n",
                                                         path: "/etc/meshgate/meshgate.yaml")
        #expect(try PolicyReloader.compile(configured).rulesets.map(\.name) == ["shadow-mcp-strict", "dlp-secrets"])
    }

    @Test func anUnknownBuiltInRulesetNamesTheOnesThereAre() {
        #expect {
            _ = try RulesetSource.load("builtin:nope.yaml")
        } throws: { error in
            "\(error)".contains("builtin:nope.yaml") && "\(error)".contains("builtin:shadow-mcp.yaml")
        }
    }
}
