import Foundation
import Testing

/// contrib/bench/run.sh as a user runs it, in quick mode against meshgate only (and direct-to-origin):
/// every scenario must produce a measurement. The sizes are not asserted — the machine is shared.
/// Every port the run listens on is a free one chosen here and passed in the environment (run.sh's
/// defaults, 13128, 18080 and so on, may be held by a benchmark or anything else), and the bench
/// resolver gets a random loopback address instead of 127.0.0.153.
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
        ("9", "meshgate-mcp", "rps"), ("9", "meshgate-mcp-tools", "rps"), ("9", "meshgate-mcp-tools", "cpu_us_per_req"),
        ("10", "meshgate", "rps"), ("10", "meshgate-live", "rps"), ("10", "meshgate-live", "events_per_s"),
    ]

    /// The TCP ports run.sh takes for systems direct, meshgate and meshgate-dns (contrib/bench/systems.sh
    /// and lib.sh read these variables), and the DNS ports, which must be free for UDP as well.
    static let tcpPortVariables = ["ORIGIN_HTTP", "ORIGIN_HTTPS", "MG_PORT", "MG_INSPECT_PORT", "MG_DLP_PORT",
                                   "MG_ADMIN_PORT", "MG_INSPECT_ADMIN_PORT", "MG_DLP_ADMIN_PORT", "MG_DNS_ADMIN_PORT",
                                   "MG_MCP_PORT", "MG_MCP_TOOLS_PORT", "MG_MCP_ADMIN_PORT", "MG_MCP_TOOLS_ADMIN_PORT"]
    static let dnsPortVariables = ["DNS_UPSTREAM_PORT", "MG_DNS_PORT"]

    struct NoFreePort: Error, CustomStringConvertible { var description: String }

    /// A socket of `type` bound to 127.0.0.1:`port` (0: any free port), and the port it got; nil when
    /// that port is taken.
    static func bound(_ type: Int32, port: Int) -> (fd: Int32, port: Int)? {
        let fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { close(fd); return nil }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// `tcp` ports free for TCP, then `both` ports free for TCP and UDP, all distinct, below the
    /// kernel's ephemeral range (32768 and up): ports bound to port 0 and the local ends of outgoing
    /// connections come from that range, and with the whole suite running in parallel one of them took
    /// a port chosen here (freed for run.sh) before nginx could bind it. Each is bound at random from
    /// 20000..<32768 and every socket stays open until all are chosen, then closed for run.sh's
    /// servers to take.
    static func freePorts(tcp: Int, both: Int) throws -> [Int] {
        var held: [Int32] = []
        defer { for fd in held { close(fd) } }
        var ports: [Int] = []
        for index in 0..<(tcp + both) {
            var found: Int?
            for _ in 0..<50 where found == nil {
                let candidate = Int.random(in: 20_000..<32_768)
                guard !ports.contains(candidate), let stream = bound(Int32(SOCK_STREAM.rawValue), port: candidate) else { continue }
                held.append(stream.fd)
                if index < tcp {
                    found = stream.port
                } else if let datagram = bound(Int32(SOCK_DGRAM.rawValue), port: stream.port) {
                    held.append(datagram.fd)
                    found = stream.port
                }
            }
            guard let port = found else { throw NoFreePort(description: "no free port on 127.0.0.1 after 50 tries") }
            ports.append(port)
        }
        return ports
    }

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
        let names = Self.tcpPortVariables + Self.dnsPortVariables
        let ports = try Self.freePorts(tcp: Self.tcpPortVariables.count, both: Self.dnsPortVariables.count)
        for (name, port) in zip(names, ports) { environment[name] = String(port) }
        // The bench resolver listens on RESOLVER_ADDR port 53 (resolv.conf cannot name a port): a random
        // address in 127.0.0.0/8, all of which is on the loopback interface, rather than a benchmark's.
        let resolver = "127.153.\(Int.random(in: 1...254)).\(Int.random(in: 1...254))"
        environment["RESOLVER_ADDR"] = resolver
        let script = Self.repository.appendingPathComponent("contrib/bench/run.sh").path
        let run = try await ProcessRunner.run(
            "bash", [script, "--quick", "--systems", "direct,meshgate,meshgate-dns", "--out", report, "--json", results],
            timeout: 600, environment: environment)
        let chosen = zip(names, ports).map { "\($0)=\($1)" }.joined(separator: " ") + " RESOLVER_ADDR=\(resolver)"
        #expect(run.exitCode == 0, "run.sh failed (\(chosen)):\n\(run.stderr.suffix(3000))")

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
        #expect(markdown.contains("## 9. Intercepted MCP tools/call"))
    }
}
