import MeshgateCore
import MeshgateDashboard
import MeshgateJSON
import MeshgatePolicy
import Testing
@testable import Meshgate

/// What the dashboard's Policy page and rules-test form get from the server's side.
@Suite struct DashboardAssemblyTests {
    @Test func theRulesTestFormTakesHeadersAsLinesOrAsAnObject() throws {
        let lines = try DashboardAssembly.testRequest(Array(#"{"url":"https://a.example/mcp","method":"POST","headers":["Content-Type: application/json","X-A:  b "],"body":"{}","identity":""}"#.utf8))
        #expect(lines.url == "https://a.example/mcp" && lines.method == "POST" && lines.body == Array("{}".utf8) && lines.identity == nil)
        #expect(lines.headers.map { "\($0.name)=\($0.value)" } == ["Content-Type=application/json", "X-A=b"])
        let object = try DashboardAssembly.testRequest(Array(#"{"url":"https://a.example/","headers":{"Accept":"text/event-stream"},"body":""}"#.utf8))
        #expect(object.method == "GET" && object.body == nil)
        #expect(object.headers.map(\.name) == ["Accept"])
    }

    @Test func aBadRulesTestRequestSaysWhatIsWrong() {
        #expect(throws: RulesCommands.UsageError.self) { try DashboardAssembly.testRequest(Array("not json".utf8)) }
        do {
            _ = try DashboardAssembly.testRequest(Array(#"{"method":"GET"}"#.utf8))
            Issue.record("no url accepted")
        } catch {
            #expect("\(error)".contains("url is required"))
        }
        do {
            _ = try DashboardAssembly.testRequest(Array(#"{"url":"https://a.example/","headers":["no colon"]}"#.utf8))
            Issue.record("a header without a colon accepted")
        } catch {
            #expect("\(error)".contains("Name: value"))
        }
    }

    @Test func thePolicyPageListsEachRuleWithItsHitsAndTheLatestChanges() throws {
        let ruleset = try Ruleset.parse(yaml: """
            ruleset: team-rules
            version: "7"
            rules:
              - { id: no-shadow, match: { host: ["*.shadow.example"] }, action: block }
              - { id: watch, match: { path: [/mcp] }, action: log }
            """, file: "team.yaml")
        let engine = try PolicyEngine(rulesets: [ruleset], regexCompiler: PCRE2RegexCompiler(), portal: nil)
        var rollup = DecisionRollup()
        for _ in 0..<3 {
            rollup.add(AuditEvent(timestampMillis: 1, kind: .http, client: nil, identity: nil, action: .block, rule: "no-shadow", ruleset: "team-rules"))
        }
        rollup.add(.rulesetChange(timestampMillis: 2, change: "update", ruleset: "team-rules", oldVersion: "6", newVersion: "7",
                                  requestedBy: "rules update from 127.0.0.1", file: "team.yaml"))
        let json = try JSONParser.parse(DashboardAssembly.policyJSON(engine, rollup: rollup))
        let rules = try #require(json["rulesets"]?.arrayValue?.first?["rules"]?.arrayValue)
        #expect(rules.map { $0["id"]?.stringValue } == ["no-shadow", "watch"])
        #expect(rules.map { $0["hits"]?.description } == ["3", "0"])
        #expect(rules.first?["line"]?.description == "4")
        #expect(json["rulesets"]?.arrayValue?.first?["version"]?.stringValue == "7")
        #expect(json["changes"]?.arrayValue?.first?["requested_by"]?.stringValue == "rules update from 127.0.0.1")
        #expect(json["rule_count"]?.description == "2")
    }
}
