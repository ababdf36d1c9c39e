import Foundation
import Testing

/// The `meshgate` executable as a user runs it: `serve` on a config file, then real clients against the
/// proxy and the admin listener, then SIGTERM; and the `ca` commands.
@Suite(.serialized) struct ServeCommandTests {
    static let binary = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/debug/meshgate").path

    /// The checkout this test binary was built from.
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static func writeConfig(_ dir: URL, adminPort: Int = 0, extra: String = "") throws -> String {
        let path = dir.appendingPathComponent("meshgate.yaml").path
        // The tests' origins listen on loopback, which clients may not reach through the proxy by default.
        let access = extra.contains("access:") ? "" : "access:\n  allow_destinations: [127.0.0.0/8]"
        try """
            state_dir: ./state
            listeners:
              explicit: 127.0.0.1:0
              admin: 127.0.0.1:\(adminPort)
            audit:
              path: ./state/audit.jsonl
            \(access)
            \(extra)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Reads `address=IP:PORT` from the log line that announces a listener.
    static func port(of listener: String, in log: String) -> Int? {
        for line in log.split(separator: "\n") where line.contains(listener) {
            if let range = line.range(of: #"address=\[?[0-9.:]+\]?:([0-9]+)"#, options: .regularExpression) {
                return Int(line[range].split(separator: ":").last ?? "")
            }
        }
        return nil
    }

    @Test func serveProxiesAuditsExposesMetricsAndStopsOnSIGTERM() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            Issue.record("build the executable first (swift build): \(Self.binary)")
            return
        }
        let pki = try TestPKI.make()
        let config = try Self.writeConfig(pki.directory)
        let origin = try await TestOrigin(group: TestGroup.shared)
        let server = try StreamingClient([Self.binary, "serve", "--config", config], environment: Curl.environment, captureStderr: true)
        defer { server.terminate() }
        #expect(try await server.waitForOutput(containing: "explicit proxy listening", timeout: 30), "serve did not start:\n\(server.text)")
        #expect(try await server.waitForOutput(containing: "admin listener started", timeout: 10))
        let proxyPort = try #require(Self.port(of: "explicit proxy listening", in: server.text))
        let adminPort = try #require(Self.port(of: "admin listener started", in: server.text))

        // The CA was created on first start, with a private key only its owner can read.
        let keyPath = pki.directory.appendingPathComponent("state/ca.key").path
        let mode = try FileManager.default.attributesOfItem(atPath: keyPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        let response = try await Curl.fetch("http://127.0.0.1:\(origin.port)/hello", proxy: "http://127.0.0.1:\(proxyPort)")
        #expect(response.status == 200)
        #expect(response.bodyText == "hello from origin\n")

        let metrics = try await Curl.fetch("http://127.0.0.1:\(adminPort)/metrics", proxy: nil)
        #expect(metrics.bodyText.contains(#"meshgate_proxy_requests_total{action="allow",status_class="2xx"} 1"#), "\(metrics.bodyText.prefix(3000))")
        let health = try await Curl.fetch("http://127.0.0.1:\(adminPort)/healthz", proxy: nil)
        #expect(health.status == 200)

        // /ca.pem and `meshgate ca export` hand out the same certificate.
        let caFromAdmin = try await Curl.fetch("http://127.0.0.1:\(adminPort)/ca.pem", proxy: nil)
        let exported = try await ProcessRunner.run(Self.binary, ["ca", "export", "--config", config])
        #expect(exported.exitCode == 0)
        #expect(exported.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == caFromAdmin.bodyText.trimmingCharacters(in: .whitespacesAndNewlines))

        server.signal(SIGTERM)
        #expect(try await server.waitForExit(timeout: 15) == 0, "serve should exit 0 after draining on SIGTERM")

        let audit = try String(contentsOfFile: pki.directory.appendingPathComponent("state/audit.jsonl").path, encoding: .utf8)
        let lines = audit.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.contains(#""path":"/hello""#) == true)
        await origin.close()
    }

    @Test func versionIsPrinted() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            Issue.record("build the executable first (swift build): \(Self.binary)")
            return
        }
        let result = try await ProcessRunner.run(Self.binary, ["--version"], timeout: 20)
        #expect(result.exitCode == 0)
        #expect(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines).wholeMatch(of: #/\d+\.\d+\.\d+/#) != nil, "got: \(result.stdoutText)")
    }

    @Test func caInitRefusesToOverwriteAndBadConfigNamesTheLine() async throws {
        let pki = try TestPKI.make()
        let config = try Self.writeConfig(pki.directory)
        let first = try await ProcessRunner.run(Self.binary, ["ca", "init", "--config", config])
        #expect(first.exitCode == 0, "\(first.stderr)")
        let second = try await ProcessRunner.run(Self.binary, ["ca", "init", "--config", config])
        #expect(second.exitCode == 1)
        #expect(second.stderr.contains("--force"))
        let forced = try await ProcessRunner.run(Self.binary, ["ca", "init", "--force", "--key-type", "rsa-3072", "--config", config])
        #expect(forced.exitCode == 0, "\(forced.stderr)")

        let bad = pki.directory.appendingPathComponent("bad.yaml").path
        try "listeners:\n  explicit: 127.0.0.1:3128\n  admn: 127.0.0.1:9090\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let result = try await ProcessRunner.run(Self.binary, ["serve", "--config", bad])
        #expect(result.exitCode == 1)
        #expect(result.stderr.contains("bad.yaml:3"), "\(result.stderr)")
        #expect(result.stderr.contains("admin"), "a did-you-mean names the right key: \(result.stderr)")
    }

    @Test func reloadSwapsThePolicyAndABrokenFileKeepsTheOldOne() async throws {
        let pki = try TestPKI.make()
        let rules = pki.directory.appendingPathComponent("rules.yaml").path
        func writeRules(blockPath: String) throws {
            try """
                ruleset: reload-test
                version: "1"
                rules:
                  - { id: block-\(blockPath.dropFirst()), match: { path: ["\(blockPath)"] }, action: block }
                """.write(toFile: rules, atomically: true, encoding: .utf8)
        }
        try writeRules(blockPath: "/one")
        let config = try Self.writeConfig(pki.directory, extra: "rulesets: [rules.yaml]\n")
        let origin = try await TestOrigin(group: TestGroup.shared)
        let server = try StreamingClient([Self.binary, "serve", "--config", config], environment: Curl.environment, captureStderr: true)
        defer { server.terminate() }
        #expect(try await server.waitForOutput(containing: "admin listener started", timeout: 30), "\(server.text)")
        #expect(try await server.waitForOutput(containing: "explicit proxy listening", timeout: 10))
        let proxy = "http://127.0.0.1:\(try #require(Self.port(of: "explicit proxy listening", in: server.text)))"
        let admin = "http://127.0.0.1:\(try #require(Self.port(of: "admin listener started", in: server.text)))"
        func status(_ path: String) async throws -> Int {
            try await Curl.fetch("http://127.0.0.1:\(origin.port)\(path)", proxy: proxy).status
        }
        #expect(try await status("/one") == 403)
        #expect(try await status("/two") == 404)

        // SIGHUP picks up an edited ruleset.
        try writeRules(blockPath: "/two")
        server.signal(SIGHUP)
        #expect(try await server.waitForOutput(containing: "policy reloaded", timeout: 10))
        #expect(try await status("/one") == 404)
        #expect(try await status("/two") == 403)

        // POST /admin/reload needs the token `serve` wrote (0600) into state_dir.
        let tokenPath = pki.directory.appendingPathComponent("state/admin.token").path
        #expect(try FileManager.default.attributesOfItem(atPath: tokenPath)[.posixPermissions] as? Int == 0o600)
        let token = try String(contentsOfFile: tokenPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let authorized = ["-X", "POST", "-H", "Authorization: Bearer \(token)"]
        #expect(try await Curl.fetch("\(admin)/admin/reload", proxy: nil, extra: ["-X", "POST"]).status == 401)

        // A broken file: the reload fails, the old policy stays, /healthz says why.
        try "ruleset: reload-test\nversion: '1'\nrules:\n  - { id: x, match: { header: { X-A: '(' } }, action: block }\n".write(toFile: rules, atomically: true, encoding: .utf8)
        let failed = try await Curl.fetch("\(admin)/admin/reload", proxy: nil, extra: authorized)
        #expect(failed.status == 500)
        #expect(failed.bodyText.contains("rules.yaml:4"), "\(failed.bodyText)")
        #expect(try await status("/two") == 403, "the previous policy is still in force")
        let health = try await Curl.fetch("\(admin)/healthz", proxy: nil)
        #expect(health.status == 503)
        #expect(health.bodyText.contains("last reload failed"))

        // Fixed again: POST /admin/reload succeeds and health recovers.
        try writeRules(blockPath: "/one")
        let fixed = try await Curl.fetch("\(admin)/admin/reload", proxy: nil, extra: authorized)
        #expect(fixed.status == 200, "\(fixed.bodyText)")
        #expect(try await Curl.fetch("\(admin)/healthz", proxy: nil).status == 200)
        #expect(try await status("/one") == 403)
        server.signal(SIGTERM)
        _ = try await server.waitForExit(timeout: 15)
        await origin.close()
    }

    @Test func rulesCheckAndRulesTest() async throws {
        let pki = try TestPKI.make()
        let root = URL(fileURLWithPath: Self.binary).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let shipped = ["rulesets/shadow-mcp.yaml", "rulesets/dlp-secrets.yaml"].map { root.appendingPathComponent($0).path }
        let check = try await ProcessRunner.run(Self.binary, ["rules", "check"] + shipped)
        #expect(check.exitCode == 0, "\(check.stderr)")
        #expect(check.stdoutText.contains("ok: shadow-mcp"))

        let broken = pki.directory.appendingPathComponent("broken.yaml").path
        try "ruleset: b\nversion: '1'\nrules:\n  - id: r\n    match: { body: [p] }\n    action: block\ndlp_profiles:\n  p:\n    patterns:\n      - { name: P, regex: 'a(b' }\n".write(toFile: broken, atomically: true, encoding: .utf8)
        let bad = try await ProcessRunner.run(Self.binary, ["rules", "check", broken])
        #expect(bad.exitCode == 1)
        #expect(bad.stderr.contains("broken.yaml:10"), "\(bad.stderr)")
        #expect(bad.stderr.contains("offset"), "the PCRE2 offset is named: \(bad.stderr)")

        let config = try Self.writeConfig(pki.directory, extra: "portal: https://portal.example.com/mcp\nrulesets: [\(shipped.joined(separator: ", "))]\n")
        let test = try await ProcessRunner.run(Self.binary, ["rules", "test", "--config", config, "--url", "https://api.example.org/rpc", "--method", "POST",
                                                             "--body", #"{"jsonrpc":"2.0","id":1,"method":"tools\u002fcall","params":{"name":"x"}}"#])
        #expect(test.exitCode == 0, "\(test.stderr)")
        let decision = try #require(try JSONSerialization.jsonObject(with: test.stdout) as? [String: Any])
        #expect(decision["action"] as? String == "reroute")
        #expect(decision["rule"] as? String == "shadow-mcp-structural")
        #expect(decision["ruleset"] as? String == "shadow-mcp")
        #expect(decision["mcp_method"] as? String == "tools/call")
        #expect(decision["target"] as? String == "https://portal.example.com/mcp")
        #expect(decision["detections"] as? [String] == ["MCP JSON-RPC"])
    }
}
