import Foundation
import Testing

/// contrib/bench/run.sh as a user runs it, in quick mode against meshgate only (and direct-to-origin):
/// every scenario must produce a measurement. The sizes are not asserted — the machine is shared.
/// It uses fixed ports (see contrib/bench/systems.sh), so it cannot run beside a benchmark.
@Suite(.serialized) struct BenchHarnessTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// (scenario, system, metric) that a run against meshgate must report, with a positive value.
    static let required: [(String, String, String)] = [
        ("1", "meshgate", "rps"), ("1", "direct", "rps"), ("1", "meshgate", "cpu_us_per_req"),
        ("2", "meshgate", "mibps"),
        ("3", "meshgate", "rps"),
        ("4", "meshgate", "rps"),
        ("5", "meshgate", "cold_hps"), ("5", "meshgate", "warm_hps"),
        ("6", "meshgate", "rps"), ("6", "meshgate-inspect", "rps"), ("6", "meshgate-near", "rps"), ("6", "meshgate-dlp", "rps"),
        ("6", "meshgate-inspect", "cpu_us_per_req"),
        ("7", "direct", "cached_qps"), ("7", "direct", "miss_qps"), ("7", "direct", "p99_ms"),
        ("8", "meshgate", "rss_mib"), ("8", "meshgate", "tunnels"),
    ]

    @Test func quickRunAgainstMeshgateMeasuresEveryScenario() async throws {
        let binary = Self.repository.appendingPathComponent(".build/debug/meshgate").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            Issue.record("build the executable first (swift build): \(binary)")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bench-smoke-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let results = dir.appendingPathComponent("results.jsonl").path
        let report = dir.appendingPathComponent("RESULTS.md").path

        var environment = ProcessInfo.processInfo.environment
        environment["MESHGATE"] = binary
        environment["DUR"] = "1"
        environment["DNSDUR"] = "1"
        environment["HOLD"] = "100"
        environment["COLD_HOSTS"] = "50"
        let script = Self.repository.appendingPathComponent("contrib/bench/run.sh").path
        let run = try await ProcessRunner.run(
            "bash", [script, "--quick", "--systems", "direct,meshgate,meshgate-dns", "--out", report, "--json", results],
            timeout: 600, environment: environment)
        #expect(run.exitCode == 0, "run.sh failed:\n\(run.stderr.suffix(3000))")

        let lines = try String(contentsOfFile: results, encoding: .utf8).split(separator: "\n")
        var values: [String: Double] = [:]
        var skipped: [String: String] = [:]
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let scenario = object["s"] as? String ?? "?", system = object["sys"] as? String ?? "?"
            if let reason = object["skip"] as? String {
                skipped["\(scenario)/\(system)"] = reason
            } else if let metric = object["m"] as? String, let value = (object["v"] as? NSNumber)?.doubleValue {
                values["\(scenario)/\(system)/\(metric)"] = value
            }
        }
        for (scenario, system, metric) in Self.required {
            let value: Double = values["\(scenario)/\(system)/\(metric)"] ?? 0
            let shown = value > 0 ? String(value) : "missing or zero"
            #expect(value > 0, "scenario \(scenario) \(system) \(metric): \(shown); skips: \(skipped)")
        }
        // meshgate's DNS listener is measured when this build serves it, else skipped with a reason.
        #expect(values["7/meshgate-dns/cached_qps"] != nil || skipped["7/meshgate-dns"] != nil)
        #expect(skipped.keys.allSatisfy { $0.hasPrefix("7/meshgate-dns") }, "unexpected skips: \(skipped)")

        let markdown = try String(contentsOfFile: report, encoding: .utf8)
        #expect(markdown.contains("## Targets"))
        #expect(markdown.contains("## 8. Memory with idle CONNECT tunnels open"))
    }
}
