import Foundation
import MeshgateCore
import MeshgatePolicy
import Testing

@Suite("Ruleset parsing")
struct RulesetParsingTests {
    @Test("every key lands in the model")
    func model() throws {
        let ruleset = try Ruleset.parse(yaml: """
        ruleset: full
        version: 2026.11.24
        rules:
          - id: r1
            description: reroute shadow MCP
            match:
              host: ["mcp.*", mcp.stripe.com]
              path: [/mcp, "/mcp/*"]
              method: [post]
              header: { Mcp-Protocol-Version: '^2025' }
              body: secrets
              mcp: [tools/call, initialize]
              identity: agent-7
              team: [platform, infra]
            action: reroute
            target: "https://gw.example/mcp"
          - { id: r2, match: { mcp: any }, action: redirect }
        dlp_profiles:
          secrets:
            description: cloud keys
            patterns:
              - { name: AWS, regex: 'AKIA[0-9A-Z]{16}' }
        tests:
          - request: { method: put, url: "http://mcp.x.io:8080/mcp?x", headers: { A: b }, body: "", identity: i, team: t }
            expect: reroute
            rule: r1
        """, file: "full.yaml")
        #expect(ruleset.name == "full")
        #expect(ruleset.version == "2026.11.24")
        let rule = try #require(ruleset.rules.first)
        #expect(rule.description == "reroute shadow MCP")
        #expect(rule.match.hosts == ["mcp.*", "mcp.stripe.com"])
        #expect(rule.match.paths.map(\.description) == ["/mcp", "/mcp/*"])
        #expect(rule.match.methods == ["POST"])
        #expect(rule.match.headers.map(\.name) == ["Mcp-Protocol-Version"])
        #expect(rule.match.bodyProfiles == ["secrets"])
        #expect(rule.match.mcp == .methods(["tools/call", "initialize"]))
        #expect(rule.match.identities == ["agent-7"])
        #expect(rule.match.teams == ["platform", "infra"])
        #expect(rule.target == .url("https://gw.example/mcp"))
        #expect(rule.location == SourceLocation(file: "full.yaml", line: 4, column: 5))
        #expect(ruleset.rules[1].match.mcp == .any)
        #expect(ruleset.rules[1].target == .portal)
        #expect(ruleset.dlpProfiles.first?.patterns.first?.location.line == 22)
        let test = try #require(ruleset.tests.first)
        #expect(test.request.method == "PUT")
        #expect(test.request.headers.map(\.name) == ["A"])
        #expect(test.request.identity == "i" && test.request.team == "t")
        #expect(test.expectedRule == "r1")
        #expect(test.location.line == 24)
    }

    @Test("files are loaded from disk in order")
    func loadFromDisk() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let a = folder.appendingPathComponent("a.yaml").path
        let b = folder.appendingPathComponent("b.yaml").path
        try "ruleset: a\nversion: \"1\"\nrules:\n  - { id: a1, match: { host: [x.com] }, action: log }\n".write(toFile: a, atomically: true, encoding: .utf8)
        try "ruleset: b\nversion: \"1\"\nrules:\n  - { id: b1, match: {}, action: block }\n".write(toFile: b, atomically: true, encoding: .utf8)
        let engine = try PolicyEngine.load(files: [a, b], regexCompiler: TestRegexCompiler())
        #expect(engine.rulesets.map(\.name) == ["a", "b"])
        #expect(engine.evaluate(PolicyRequest(host: "x.com")).rule == "a1")
        #expect(engine.evaluate(PolicyRequest(host: "y.com")).rule == "b1")

        try Data([0xFF, 0xFE, 0x00]).write(to: URL(fileURLWithPath: b))
        #expect {
            _ = try PolicyEngine.load(files: [a, b], regexCompiler: TestRegexCompiler())
        } throws: { error in
            (error as? RulesetError)?.description == "\(b): the file is not UTF-8 text; save it as UTF-8"
        }
    }
}
