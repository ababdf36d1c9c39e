import Crypto
import Foundation
import Testing

/// The unprivileged lane: `meshgate serve` and its commands as a laptop runs them, as a dedicated
/// user with no capabilities at all (`setpriv --inh-caps=-all --bounding-set=-all`). The contract
/// tests ran as root only, which hid that every proxied connection was reset without CAP_NET_ADMIN.
@Suite(.serialized) struct UnprivilegedLaneTests {
    static let user = "meshgate-test"

    /// The command prefix that drops to the unprivileged user (nothing when the tests already run
    /// as one), creating the user on first use.
    static func dropPrivileges() async throws -> [String] {
        guard getuid() == 0 else { return [] }
        if try await ProcessRunner.run("id", ["-u", user]).exitCode != 0 {
            let made = try await ProcessRunner.run("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user])
            try #require(made.exitCode == 0, "useradd \(user): \(made.stderr)")
        }
        return ["setpriv", "--reuid=\(user)", "--regid=\(user)", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    }

    /// A copy of the binary where the user can run it (the checkout may sit under a private home).
    /// Written by `install` in a child process, not by this one: a process that tests in parallel
    /// fork while this one holds the copy open for writing inherits that descriptor, and exec then
    /// fails with "Text file busy" (it did, once in a CI run).
    static func installBinary(into dir: URL) async throws -> String {
        let copy = dir.appendingPathComponent("bin/meshgate")
        try FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
        let installed = try await ProcessRunner.run("install", ["-m", "0755", ServeCommandTests.binary, copy.path])
        try #require(installed.exitCode == 0, "install \(ServeCommandTests.binary): \(installed.stderr)")
        return copy.path
    }

    @Test func everyListenerAndCommandWorksForAUserWithoutCapabilities() async throws {
        guard FileManager.default.isExecutableFile(atPath: ServeCommandTests.binary) else {
            Issue.record("build the executable first (swift build): \(ServeCommandTests.binary)")
            return
        }
        let prefix = try await Self.dropPrivileges()
        let pki = try TestPKI.make()
        let dir = pki.directory
        let binary = try await Self.installBinary(into: dir)

        // Origins run as root, as they would elsewhere on the network.
        let plain = try await TestOrigin(group: TestGroup.shared)
        let tls = try await TestOrigin(group: TestGroup.shared, tls: try pki.originContextWithIPAddress(), name: "tls")
        let provider = try await FakeLLM(pki: pki)
        defer { provider.stop() }
        let upstreamDNS = try StreamingClient(["python3", DNSFilterTests.fixtures.appendingPathComponent("dns_upstream.py").path], captureStderr: true)
        defer { upstreamDNS.terminate() }
        #expect(try await upstreamDNS.waitForOutput(containing: "listening on", timeout: 10), "\(upstreamDNS.text)")
        let dnsUpstreamPort = try #require(upstreamDNS.text.split(separator: " ").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) })

        let token = "laptop-token-\(UUID().uuidString)"
        let tokenHash = SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
        let config = dir.appendingPathComponent("meshgate.yaml").path
        try """
            state_dir: ./state
            listeners:
              explicit: 127.0.0.1:0
              ai: 127.0.0.1:0
              admin: 127.0.0.1:0
              dns: 127.0.0.1:0
            audit:
              path: ./state/audit.jsonl
            access:
              allow_destinations: [127.0.0.0/8]
              connect_ports: [443, \(tls.port)]
            tls:
              upstream_ca: \(pki.originCAPath)
              do_not_inspect: [localhost]
            dns:
              upstreams: [127.0.0.1:\(dnsUpstreamPort)]
            identities:
              - { name: laptop, team: dev, token_sha256: "\(tokenHash)" }
            ai:
              providers:
                fakeopenai: { format: openai, base_url: "https://localhost:\(provider.port)/v1", api_key_env: FAKE_PROVIDER_KEY }
              models:
                gpt-test: { provider: fakeopenai }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        if !prefix.isEmpty {
            let chown = try await ProcessRunner.run("chown", ["-R", "\(Self.user):\(Self.user)", dir.path])
            try #require(chown.exitCode == 0, "\(chown.stderr)")
        }

        // Commands a user runs before serving: the CA is created as this user, key 0600.
        let initCA = try await ProcessRunner.run(prefix.first ?? binary, Array(prefix.dropFirst()) + (prefix.isEmpty ? [] : [binary]) + ["ca", "init", "--config", config])
        #expect(initCA.exitCode == 0, "ca init as \(Self.user): \(initCA.stderr)")
        let keyMode = try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("state/ca.key").path)[.posixPermissions] as? Int
        #expect(keyMode == 0o600)

        var environment = Curl.environment
        environment["FAKE_PROVIDER_KEY"] = "unused"
        let server = try StreamingClient(prefix + [binary, "serve", "--config", config], environment: environment, captureStderr: true)
        defer { server.terminate() }
        for line in ["explicit proxy listening", "ai gateway listening", "dns listener started", "admin listener started"] {
            #expect(try await server.waitForOutput(containing: line, timeout: 30), "serve as \(Self.user) did not start:\n\(server.text)")
        }
        let proxy = "http://127.0.0.1:\(try #require(ServeCommandTests.port(of: "explicit proxy listening", in: server.text)))"
        let aiPort = try #require(ServeCommandTests.port(of: "ai gateway listening", in: server.text))
        let dnsPort = try #require(ServeCommandTests.port(of: "dns listener started", in: server.text))
        if !prefix.isEmpty {
            let owner = try await ProcessRunner.run("ps", ["-o", "user=", "-p", "\(server.pid)"])
            #expect(owner.stdoutText.contains(String(Self.user.prefix(8))) || owner.stdoutText.isEmpty, "serve runs as \(owner.stdoutText)")
        }

        // `ca export` as the user prints the certificate curl must trust.
        let exported = try await ProcessRunner.run(prefix.first ?? binary, Array(prefix.dropFirst()) + (prefix.isEmpty ? [] : [binary]) + ["ca", "export", "--config", config])
        #expect(exported.exitCode == 0, "\(exported.stderr)")
        let caFile = dir.appendingPathComponent("exported-ca.pem").path
        try exported.stdout.write(to: URL(fileURLWithPath: caFile))
        #expect(exported.stdoutText.contains("BEGIN CERTIFICATE"))

        // Plain HTTP, a spliced CONNECT (localhost is never inspected: the origin's own certificate
        // arrives) and an intercepted one (an IP literal: meshgate's leaf for 127.0.0.1).
        let plainReply = try await Curl.fetch("http://127.0.0.1:\(plain.port)/hello", proxy: proxy)
        #expect(plainReply.status == 200, "plain HTTP through the proxy as \(Self.user)")
        #expect(plainReply.bodyText == "hello from origin\n")
        let spliced = try await Curl.fetch("https://localhost:\(tls.port)/hello", proxy: proxy, extra: ["--cacert", pki.originCAPath])
        #expect(spliced.status == 200, "spliced CONNECT as \(Self.user): \(spliced.headers)")
        let intercepted = try await Curl.fetch("https://127.0.0.1:\(tls.port)/hello", proxy: proxy, extra: ["--cacert", caFile])
        #expect(intercepted.status == 200, "intercepted HTTPS as \(Self.user): \(intercepted.headers)")
        #expect(intercepted.bodyText == "hello from origin\n")

        // The ai listener: an OpenAI-format call with the identity token.
        let completion = try await Curl.fetch("http://127.0.0.1:\(aiPort)/v1/chat/completions", proxy: nil, extra: [
            "-X", "POST", "-H", "Authorization: Bearer \(token)", "-H", "Content-Type: application/json",
            "--data", #"{"model":"gpt-test","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#,
        ])
        #expect(completion.status == 200, "ai listener as \(Self.user): \(completion.bodyText)")
        #expect(completion.bodyText.contains("choices"))

        // DNS on a high port.
        #expect(try await DNSFilterTests.dig("www.example.com", port: dnsPort) == ["203.0.113.7"])

        // `rules test` as the user, on the shipped rulesets.
        let ruleTest = try await ProcessRunner.run(prefix.first ?? binary, Array(prefix.dropFirst()) + (prefix.isEmpty ? [] : [binary]) + [
            "rules", "test", "--config", config, "--method", "POST", "--url", "https://mcp.example.net/mcp",
            "--body", #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}"#,
        ])
        #expect(ruleTest.exitCode == 0, "rules test as \(Self.user): \(ruleTest.stderr)")
        #expect(ruleTest.stdoutText.contains(#""action""#), "\(ruleTest.stdoutText)")

        server.signal(SIGTERM)
        #expect(try await server.waitForExit(timeout: 15) == 0, "\(server.text.suffix(1500))")
        let audit = try String(contentsOfFile: dir.appendingPathComponent("state/audit.jsonl").path, encoding: .utf8)
        #expect(audit.split(separator: "\n").count >= 4, "every exchange was audited by the unprivileged process")
        await plain.close()
        await tls.close()
    }
}
