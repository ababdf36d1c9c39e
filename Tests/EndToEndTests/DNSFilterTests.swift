import Foundation
import NIOCore
import NIOPosix
import Testing

/// `meshgate serve` with the DNS listener, driven by the real `dig` against a local upstream
/// (Fixtures/dns_upstream.py answers every A query with 203.0.113.7).
@Suite(.serialized) struct DNSFilterTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func writeBlockList(_ path: String, hosts: [String]) throws {
        try """
            ruleset: dns-e2e
            version: "1"
            rules:
              - { id: e2e-block, match: { host: [\(hosts.map { "\"\($0)\"" }.joined(separator: ", "))] }, action: block }
            """.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// `dig +short` output lines for one query.
    static func dig(_ name: String, _ type: String = "A", port: Int, tcp: Bool = false) async throws -> [String] {
        var arguments = ["@127.0.0.1", "-p", "\(port)", name, type, "+short", "+tries=1", "+time=5"]
        if tcp { arguments.append("+tcp") }
        let result = try await ProcessRunner.run("dig", arguments, timeout: 20)
        #expect(result.exitCode == 0, "dig \(arguments): \(result.stderr) \(result.stdoutText)")
        return result.stdoutText.split(separator: "\n").map(String.init)
    }

    @Test func digSeesBlockRedirectAllowOverUDPAndTCPSurvivesGarbageAndFollowsAReload() async throws {
        let pki = try TestPKI.make()
        let dir = pki.directory
        let upstream = try StreamingClient(["python3", Self.fixtures.appendingPathComponent("dns_upstream.py").path], captureStderr: true)
        defer { upstream.terminate() }
        #expect(try await upstream.waitForOutput(containing: "listening on", timeout: 10), "\(upstream.text)")
        let upstreamPort = try #require(upstream.text.split(separator: " ").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) })

        let blockList = dir.appendingPathComponent("block.yaml").path
        try Self.writeBlockList(blockList, hosts: ["mcp.stripe.com"])
        let shadow = Self.root.appendingPathComponent("rulesets/shadow-mcp.yaml").path
        let config = try ServeCommandTests.writeConfig(dir, extra: """
            portal: https://portal.example.com/mcp
            rulesets: [block.yaml, \(shadow)]
            dns:
              upstreams: [127.0.0.1:\(upstreamPort)]
              redirect_ipv4: 192.0.2.10
            """)
        try String(contentsOfFile: config, encoding: .utf8)
            .replacingOccurrences(of: "  admin: 127.0.0.1:0", with: "  admin: 127.0.0.1:0\n  dns: 127.0.0.1:0")
            .write(toFile: config, atomically: true, encoding: .utf8)

        let server = try StreamingClient([ServeCommandTests.binary, "serve", "--config", config], environment: Curl.environment, captureStderr: true)
        defer { server.terminate() }
        #expect(try await server.waitForOutput(containing: "dns listener started", timeout: 30), "serve did not start:\n\(server.text)")
        #expect(try await server.waitForOutput(containing: "admin listener started", timeout: 10))
        let port = try #require(ServeCommandTests.port(of: "dns listener started", in: server.text))
        let admin = "http://127.0.0.1:\(try #require(ServeCommandTests.port(of: "admin listener started", in: server.text)))"

        for tcp in [false, true] {
            #expect(try await Self.dig("mcp.stripe.com", port: port, tcp: tcp) == ["0.0.0.0"], "blocked (tcp: \(tcp))")
            #expect(try await Self.dig("mcp.stripe.com", "AAAA", port: port, tcp: tcp) == ["::"])
            #expect(try await Self.dig("mcp.linear.app", port: port, tcp: tcp) == ["192.0.2.10"], "shadow-mcp reroutes to the portal address")
            #expect(try await Self.dig("www.example.com", port: port, tcp: tcp) == ["203.0.113.7"], "allowed: the upstream's answer")
        }
        let canary = try await ProcessRunner.run("dig", ["@127.0.0.1", "-p", "\(port)", "use-application-dns.net", "+tries=1", "+time=5"])
        #expect(canary.stdoutText.contains("status: NXDOMAIN"), "\(canary.stdoutText)")
        let ede = try await ProcessRunner.run("dig", ["@127.0.0.1", "-p", "\(port)", "mcp.stripe.com", "TXT", "+tries=1", "+time=5"])
        #expect(ede.stdoutText.contains("EDE: 15 (Blocked)"), "dig shows the Extended DNS Error: \(ede.stdoutText)")

        // 500 packets of garbage, then a valid query still gets its answer.
        try await Self.sendGarbage(count: 500, port: port)
        #expect(try await Self.dig("after-garbage.example.com", port: port) == ["203.0.113.7"])

        // A reload that adds a name to the block list changes the next answer.
        try Self.writeBlockList(blockList, hosts: ["mcp.stripe.com", "www.example.com"])
        let token = try String(contentsOfFile: dir.appendingPathComponent("state/admin.token").path, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let reload = try await Curl.fetch("\(admin)/admin/reload", proxy: nil, extra: ["-X", "POST", "-H", "Authorization: Bearer \(token)"])
        #expect(reload.status == 200, "\(reload.bodyText)")
        #expect(try await Self.dig("www.example.com", port: port) == ["0.0.0.0"], "the cached allowed answer does not outlive the new rule")

        let health = try await Curl.fetch("\(admin)/healthz", proxy: nil)
        #expect(health.bodyText.contains(#""dns":{"ok":true"#), "\(health.bodyText)")
        let metrics = try await Curl.fetch("\(admin)/metrics", proxy: nil)
        #expect(metrics.bodyText.contains(#"meshgate_dns_queries_total{action="block"}"#), "\(metrics.bodyText.prefix(2000))")
        #expect(metrics.bodyText.contains("meshgate_dns_cache_hits_total"))

        server.signal(SIGTERM)
        #expect(try await server.waitForExit(timeout: 15) == 0)
        let audit = try String(contentsOfFile: dir.appendingPathComponent("state/audit.jsonl").path, encoding: .utf8)
        let lines = audit.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["event"] as? String == "dns" }
        #expect(lines.count == 12, "one line per answered query (garbage is not a query): \(lines.count)")
        let blocked = try #require(lines.first { $0["qname"] as? String == "mcp.stripe.com" && $0["qtype"] as? String == "A" })
        #expect(blocked["action"] as? String == "block")
        #expect(blocked["rule"] as? String == "e2e-block")
        #expect(blocked["rcode"] as? String == "NOERROR")
        #expect(blocked["answers"] as? [String] == ["0.0.0.0"])
        #expect((blocked["client"] as? String)?.hasPrefix("127.0.0.1:") == true)
        let rerouted = try #require(lines.first { $0["qname"] as? String == "mcp.linear.app" })
        #expect(rerouted["action"] as? String == "reroute")
        #expect(rerouted["rule"] as? String == "shadow-mcp-host")
        #expect(rerouted["ruleset"] as? String == "shadow-mcp")
        #expect(lines.contains { $0["qname"] as? String == "use-application-dns.net" && $0["rcode"] as? String == "NXDOMAIN" })
    }

    @Test func dnsListenerWithoutUpstreamsIsRefusedAtStart() async throws {
        let pki = try TestPKI.make()
        let config = try ServeCommandTests.writeConfig(pki.directory)
        try String(contentsOfFile: config, encoding: .utf8)
            .replacingOccurrences(of: "  admin: 127.0.0.1:0", with: "  admin: 127.0.0.1:0\n  dns: 127.0.0.1:0")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let result = try await ProcessRunner.run(ServeCommandTests.binary, ["serve", "--config", config])
        #expect(result.exitCode == 1)
        #expect(result.stderr.contains("dns.upstreams is empty"), "\(result.stderr)")
        #expect(result.stderr.contains("1.1.1.1:53"), "the fix is named: \(result.stderr)")
    }

    static func sendGarbage(count: Int, port: Int) async throws {
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let target = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        var rng = SystemRandomNumberGenerator()
        for i in 0..<count {
            var packet = (0..<Int.random(in: 0...80, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if i % 2 == 0, packet.count > 12 { packet[2] &= 0x7F }
            try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(bytes: packet)))
        }
        try await channel.close()
    }
}
