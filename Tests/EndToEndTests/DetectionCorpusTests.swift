import Foundation
import Testing

/// Recall and false positives of the Shadow-MCP rulesets on a labelled corpus (Fixtures/corpus: 206 MCP
/// requests of every version, transport and evasion, 205 benign ones that look like MCP), sent for real
/// through `meshgate serve` and an intercepting TLS tunnel to an origin that logs what reached it.
/// The default ruleset must catch every MCP request and leave every benign one untouched, and
/// `meshgate rules test` must decide each request exactly as the proxy did. The per-category table
/// is printed and must match docs/detection.md (MESHGATE_WRITE_DETECTION_DOC=1 rewrites it).
@Suite(.serialized) struct DetectionCorpusTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/corpus")
    static let portalHost = "portal.corpus.test"
    static let tiers = [("default", "shadow-mcp"), ("strict", "shadow-mcp-strict")]

    struct Case: Decodable {
        var id: String
        var category: String
        var method: String
        var url: String
        var answer: String?
        var shadow_url: String?
        var connector: String?
        var host: String { URLComponents(string: url)?.host ?? "" }
    }

    struct ClientResult: Decodable {
        var id: String
        var status: Int?
        var action: String?
        var rule: String?
        var endpoint: Bool?
        var error: String?
        var rules_action: String?
        var rules_rule: String?
        var rules_error: String?
    }

    struct OriginRecord: Decodable {
        var `case`: String?
        var host: String
        var body: String
    }

    /// One category's counts for one tier.
    struct Tally {
        var cases = 0
        /// MCP: kept from the shadow server (rerouted, refused, cut). Benign: not delivered untouched.
        var stopped = 0
        /// Delivered, with a `log` decision (the discovery tier's candidates).
        var logged = 0
    }

    static func load<T: Decodable>(_ path: String, as _: T.Type) throws -> [T] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").filter { $0.hasPrefix("{") }.map { try JSONDecoder().decode(T.self, from: Data($0.utf8)) }
    }

    /// Whether the request (as the shadow server would use it) got through.
    static func delivered(_ c: Case, _ result: ClientResult, reached: [OriginRecord]) -> Bool {
        let atShadow = reached.filter { $0.host == c.host }
        if let url = c.shadow_url { return atShadow.contains { $0.body.contains(url) } }
        if let connector = c.connector { return atShadow.contains { $0.body.contains(connector) } }
        if c.answer == "endpoint" { return result.endpoint == true }
        return !atShadow.isEmpty && (result.status ?? 0) != 0 && !(result.error ?? "").hasPrefix("answer cut")
    }

    @Test(.enabled(if: getuid() == 0, "needs root for a network and mount namespace"), .timeLimit(.minutes(10)))
    func theDefaultRulesetCatchesEveryMCPRequestAndNothingElse() async throws {
        let mcp = try Self.load(Self.fixtures.appendingPathComponent("mcp.jsonl").path, as: Case.self)
        let benign = try Self.load(Self.fixtures.appendingPathComponent("benign.jsonl").path, as: Case.self)
        #expect(mcp.count >= 200 && benign.count >= 200, "the corpus must keep at least 200 cases of each kind")

        let pki = try TestPKI.make()
        let work = pki.directory.appendingPathComponent("corpus")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        var hosts = Set((mcp + benign).map(\.host))
        hosts.insert(Self.portalHost)
        let sorted = hosts.sorted()
        try (sorted.joined(separator: "\n") + "\n").write(to: work.appendingPathComponent("hosts.txt"), atomically: true, encoding: .utf8)
        let endpointHosts = Set(mcp.filter { $0.answer == "endpoint" }.map(\.host)).sorted()
        try (endpointHosts.joined(separator: "\n") + "\n").write(to: work.appendingPathComponent("endpoint-hosts.txt"), atomically: true, encoding: .utf8)
        let (cert, key) = try pki.writeOriginLeaf(host: sorted[0], moreHosts: Array(sorted.dropFirst()))
        for (tier, ruleset) in Self.tiers {
            let dir = work.appendingPathComponent("tier-\(tier)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try """
                state_dir: ./state
                listeners:
                  explicit: 127.0.0.1:3128
                  admin: 127.0.0.1:9090
                portal: https://\(Self.portalHost)/mcp
                rulesets: [\(ServeCommandTests.repositoryRoot)/rulesets/\(ruleset).yaml, \(ServeCommandTests.repositoryRoot)/rulesets/dlp-secrets.yaml]
                audit:
                  path: ./state/audit.jsonl
                """.write(to: dir.appendingPathComponent("meshgate.yaml"), atomically: true, encoding: .utf8)
        }

        let run = try await ProcessRunner.run("bash", [Self.fixtures.appendingPathComponent("run-corpus.sh").path, work.path,
                                                       ServeCommandTests.binary, cert, key, pki.originCAPath], timeout: 540)
        try #require(run.exitCode == 0, "the corpus run failed: \(run.stderr)")
        let origin = try Self.load(work.appendingPathComponent("origin.log").path, as: OriginRecord.self)
        let reached = Dictionary(grouping: origin, by: { $0.case ?? "" })

        var table: [(tier: String, kind: String, category: String, tally: Tally)] = []
        for (tier, _) in Self.tiers {
            for (kind, cases) in [("MCP", mcp), ("benign", benign)] {
                let results = try Self.load(work.appendingPathComponent("tier-\(tier)/results-\(kind == "MCP" ? "mcp" : "benign").jsonl").path,
                                            as: ClientResult.self)
                let byID = Dictionary(uniqueKeysWithValues: results.map { ($0.id, $0) })
                var order: [String] = []
                var tallies: [String: Tally] = [:]
                for c in cases {
                    let result = try #require(byID[c.id], "no result for \(c.id) (\(tier))")
                    let through = Self.delivered(c, result, reached: reached["tier-\(tier)/\(c.id)"] ?? [])
                    if tallies[c.category] == nil { order.append(c.category) }
                    var tally = tallies[c.category, default: Tally()]
                    tally.cases += 1
                    if !through { tally.stopped += 1 } else if result.action == "log" { tally.logged += 1 }
                    tallies[c.category] = tally
                    guard tier == "default" else { continue }
                    if kind == "MCP" {
                        #expect(!through, "missed MCP: \(c.id) \(c.category) \(c.method) \(c.url): \(result)")
                    } else {
                        #expect(through, "false positive: \(c.id) \(c.category) \(c.method) \(c.url): \(result)")
                    }
                    // One decision path: what `rules test` says is what the proxy did. A legacy SSE
                    // stream is decided on its answer, which `rules test` never sees.
                    if c.answer != "endpoint" {
                        #expect(result.rules_error == nil, "rules test failed on \(c.id): \(result.rules_error ?? "")")
                        #expect(result.rules_action == (result.action ?? "allow") && result.rules_rule == result.rule,
                                "rules test and the proxy disagree on \(c.id) (\(c.url)): proxy \(result.action ?? "allow")/\(result.rule ?? "-"), rules test \(result.rules_action ?? "?")/\(result.rules_rule ?? "-")")
                    }
                }
                table += order.map { (tier, kind, $0, tallies[$0]!) }
            }
        }

        let markdown = Self.markdown(table)
        print(markdown)
        let doc = URL(fileURLWithPath: ServeCommandTests.repositoryRoot).appendingPathComponent("docs/detection.md")
        let begin = "<!-- corpus table: generated by DetectionCorpusTests -->", end = "<!-- end of corpus table -->"
        var text = try String(contentsOf: doc, encoding: .utf8)
        let range = try #require(text.range(of: begin).flatMap { b in text.range(of: end, range: b.upperBound..<text.endIndex).map { b.upperBound..<$0.lowerBound } },
                                 "docs/detection.md has no corpus table markers")
        if ProcessInfo.processInfo.environment["MESHGATE_WRITE_DETECTION_DOC"] == "1" {
            text.replaceSubrange(range, with: "\n" + markdown)
            try text.write(to: doc, atomically: true, encoding: .utf8)
        } else {
            #expect(String(text[range]) == "\n" + markdown,
                    "docs/detection.md's table is not this run's; rerun with MESHGATE_WRITE_DETECTION_DOC=1 and commit it")
        }
    }

    /// One table per tier: per category the cases, how many were stopped (recall for MCP, false
    /// positives for benign) and how many were logged as candidates.
    static func markdown(_ rows: [(tier: String, kind: String, category: String, tally: Tally)]) -> String {
        func percent(_ part: Int, _ whole: Int) -> String {
            whole == 0 ? "-" : String(format: "%.1f%%", Double(part) * 100 / Double(whole))
        }
        var out = ""
        for (tier, ruleset) in tiers {
            out += "\n**\(ruleset)** (\(tier == "default" ? "the default" : "opt-in")):\n\n"
            out += "| kind | category | cases | stopped | logged |\n|---|---|---:|---:|---:|\n"
            for kind in ["MCP", "benign"] {
                let mine = rows.filter { $0.tier == tier && $0.kind == kind }
                for row in mine {
                    out += "| \(kind) | \(row.category) | \(row.tally.cases) | \(row.tally.stopped) | \(row.tally.logged) |\n"
                }
                let cases = mine.map(\.tally.cases).reduce(0, +), stopped = mine.map(\.tally.stopped).reduce(0, +)
                let logged = mine.map(\.tally.logged).reduce(0, +)
                let label = kind == "MCP" ? "recall \(percent(stopped, cases))" : "false positives \(percent(stopped, cases))"
                out += "| **\(kind)** | **all: \(label)** | **\(cases)** | **\(stopped)** | **\(logged)** |\n"
            }
        }
        return out
    }
}
