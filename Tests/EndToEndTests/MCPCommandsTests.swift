import Foundation
import Testing

/// `meshgate mcp pin` and `meshgate mcp diff`, run as a user runs them, against live servers.
@Suite(.serialized) struct MCPCommandsTests {
    static let binary = ServeCommandTests.binary

    static func config(_ pki: TestPKI, rulesets: [String]? = nil) throws -> String {
        let path = pki.directory.appendingPathComponent("mcp-\(UUID().uuidString).yaml").path
        var text = "state_dir: \(pki.directory.appendingPathComponent("state").path)\ntls:\n  upstream_ca: \(pki.originCAPath)\n"
        if let rulesets { text += "rulesets: [\(rulesets.joined(separator: ", "))]\n" }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func pinThenDiffSeesTheRugPull() async throws {
        let pki = try TestPKI.make()
        // The commands connect directly; the test CA signs a certificate for localhost.
        let local = try await MCPGovernanceTests.startServer(pki, host: "localhost", tools: "list_issues,summarise", rugPullAfter: 2)
        defer { local.process.terminate() }
        let localURL = local.url

        let pin = try await ProcessRunner.run(Self.binary, ["mcp", "pin", localURL, "--name", "approved", "--config", try Self.config(pki)])
        #expect(pin.exitCode == 0, "\(pin.stderr)")
        #expect(pin.stdoutText.contains("(MCP 2026-07-28)"), "\(pin.stdoutText)")
        #expect(pin.stdoutText.contains("  - name: approved\n    urls: [\"\(localURL)\"]\n    on_drift: block\n    tools:\n"), "\(pin.stdoutText)")
        let digests = pin.stdoutText.split(separator: "\n").filter { $0.contains("digest:") }
        #expect(digests.count == 2)
        #expect(digests.first?.contains("{ name: list_issues, digest: \"sha256:") == true)
        #expect(digests.first?.hasSuffix("# list_issues on approved") == true, "\(digests)")

        let ruleset = pki.directory.appendingPathComponent("registry.yaml").path
        try ("ruleset: registry\nversion: \"1\"\nrules: []\n" + pin.stdoutText).write(toFile: ruleset, atomically: true, encoding: .utf8)
        let config = try Self.config(pki, rulesets: [ruleset])
        let same = try await ProcessRunner.run(Self.binary, ["mcp", "diff", localURL, "--config", config])
        #expect(same.exitCode == 0, "\(same.stdoutText) \(same.stderr)")
        #expect(same.stdoutText.hasPrefix("no change: the 2 tools match the pins of 'approved'"), "\(same.stdoutText)")

        let changed = try await ProcessRunner.run(Self.binary, ["mcp", "diff", localURL, "--config", config])
        #expect(changed.exitCode == 1)
        #expect(changed.stdoutText.hasPrefix("changed  summarise\n  pinned  sha256:"), "\(changed.stdoutText)")
        #expect(changed.stdoutText.contains("description now: summarise on approved  <IMPORTANT>"), "\(changed.stdoutText)")
        #expect(changed.stdoutText.contains("1 change against the pins of 'approved'"), "\(changed.stdoutText)")

        let unregistered = try await ProcessRunner.run(Self.binary, ["mcp", "diff", "https://localhost:\(local.port)/elsewhere", "--config", config])
        #expect(unregistered.exitCode == 1)
        #expect(unregistered.stderr.contains("no mcp_servers entry in the configured rulesets serves"), "\(unregistered.stderr)")
    }

    @Test func anUntrustedServerIsRefusedWithTheFix() async throws {
        let pki = try TestPKI.make()
        let local = try await MCPGovernanceTests.startServer(pki, host: "localhost", tools: "a")
        defer { local.process.terminate() }
        // Without tls.upstream_ca the system store does not know the test CA.
        let config = pki.directory.appendingPathComponent("plain.yaml").path
        try "state_dir: \(pki.directory.appendingPathComponent("state").path)\n".write(toFile: config, atomically: true, encoding: .utf8)
        let result = try await ProcessRunner.run(Self.binary, ["mcp", "pin", "https://localhost:\(local.port)/mcp", "--config", config])
        #expect(result.exitCode == 1)
        #expect(result.stderr.contains("is not trusted") && result.stderr.contains("tls.upstream_ca"), "\(result.stderr)")
        #expect(!result.stderr.contains("before that"), "a TLS failure is not retried as another protocol: \(result.stderr)")
    }

    @Test func anOlderServerIsListedThroughTheHandshakeAcrossPages() async throws {
        let pki = try TestPKI.make()
        let origin = try StreamingClient(["python3", MCPSDKTests.fixtures.appendingPathComponent("tool_pages_origin.py").path, "--handshake-only"])
        defer { origin.terminate() }
        guard try await origin.waitForOutput(containing: "\n", timeout: 20),
              let port = Int(origin.text.split(separator: "\n").first.map(String.init) ?? "") else {
            throw MCPSDKTests.SetupError(description: "origin did not start: \(origin.text)")
        }
        let result = try await ProcessRunner.run(Self.binary, ["mcp", "pin", "http://127.0.0.1:\(port)/mcp", "--config", try Self.config(pki)])
        #expect(result.exitCode == 0, "\(result.stderr)")
        #expect(result.stdoutText.contains("(MCP 2025-06-18)"), "\(result.stdoutText)")
        #expect(result.stdoutText.contains("  - name: server\n"), "an IP has no name to take: \(result.stdoutText)")
        #expect(result.stdoutText.contains("{ name: alpha,") && result.stdoutText.contains("{ name: beta,"), "\(result.stdoutText)")
        _ = try await origin.waitForOutput(containing: "DELETE", timeout: 5)
        let sequence = origin.text.split(separator: "\n").dropFirst().map(String.init)
        #expect(sequence == [
            "POST tools/list session=None", "POST initialize session=None", "POST notifications/initialized session=sess-1",
            "POST tools/list session=sess-1", "POST tools/list session=sess-1", "DELETE session=sess-1",
        ], "\(sequence)")
    }
}
