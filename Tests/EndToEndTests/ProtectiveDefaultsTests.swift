import Foundation
import Testing

/// The repository's own meshgate.yaml protects out of the box (issue 19): with no `rulesets:` key the
/// shipped rulesets run from the binary, and with no `portal:` Shadow MCP is blocked, not let through.
@Suite struct ProtectiveDefaultsTests {
    /// The repository's meshgate.yaml, moved to `dir` with its listeners on free ports.
    static func repositoryConfig(in dir: URL) throws -> String {
        let original = try String(contentsOfFile: ServeCommandTests.repositoryRoot + "/meshgate.yaml", encoding: .utf8)
        #expect(!original.contains("\nrulesets:"), "the repository's meshgate.yaml sets no rulesets: it runs the shipped ones")
        #expect(!original.contains("\nportal:"), "and sets no portal")
        let config = original
            .replacingOccurrences(of: "explicit: 127.0.0.1:3128", with: "explicit: 127.0.0.1:0")
            .replacingOccurrences(of: "admin: 127.0.0.1:9090", with: "admin: 127.0.0.1:0")
        #expect(config != original)
        let path = dir.appendingPathComponent("meshgate.yaml").path
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func theRepositoryConfigBlocksShadowMCPAndSaysWhy() async throws {
        guard FileManager.default.isExecutableFile(atPath: ServeCommandTests.binary) else {
            Issue.record("build the executable first (swift build): \(ServeCommandTests.binary)")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meshgate-defaults-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try Self.repositoryConfig(in: dir)

        // `rules test` decides as the proxy will.
        let decided = try await ProcessRunner.run(ServeCommandTests.binary, [
            "rules", "test", "--config", config, "--url", "https://mcp.linear.app/mcp", "--method", "POST",
        ])
        #expect(decided.exitCode == 0, "\(decided.stderr)")
        #expect(decided.stdoutText.contains(#""action":"block""#) && decided.stdoutText.contains(#""rule":"shadow-mcp-host""#), "\(decided.stdoutText)")
        #expect(decided.stdoutText.contains("Portal unset"), "the verdict says why it blocks rather than reroutes")

        let server = try StreamingClient([ServeCommandTests.binary, "serve", "--config", config], environment: Curl.environment,
                                         captureStderr: true)
        defer { server.terminate() }
        #expect(try await server.waitForOutput(containing: "explicit proxy listening", timeout: 30), "serve did not start:\n\(server.text)")
        // One line at start states the policy in force.
        #expect(server.text.contains("policy: "), "\(server.text)")
        #expect(server.text.contains("shadow-mcp@") && server.text.contains("(builtin:shadow-mcp.yaml)"), "\(server.text)")
        #expect(server.text.contains("dlp-secrets@"), "\(server.text)")
        #expect(server.text.contains("portal: unset"), "\(server.text)")
        let proxyPort = try #require(ServeCommandTests.port(of: "explicit proxy listening", in: server.text))

        // An MCP initialize to an unapproved public MCP server, as an agent sends it.
        let initialize = #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"agent","version":"1"}}}"#
        let response = try await Curl.fetch("https://mcp.linear.app/mcp", proxy: "http://127.0.0.1:\(proxyPort)", extra: [
            "--cacert", dir.appendingPathComponent("state/ca.pem").path,
            "-X", "POST", "-H", "content-type: application/json", "-H", "accept: application/json, text/event-stream",
            "--data", initialize,
        ], timeout: 20)
        #expect(response.status == 403 || response.stderr.contains("403"), "status \(response.status): \(response.stderr)")

        server.signal(SIGTERM)
        _ = try await server.waitForExit(timeout: 15)
        let audit = try String(contentsOfFile: dir.appendingPathComponent("state/audit.jsonl").path, encoding: .utf8)
        let blocked = audit.split(separator: "\n").filter { $0.contains(#""host":"mcp.linear.app""#) }
        #expect(!blocked.isEmpty, "\(audit)")
        #expect(blocked.allSatisfy { $0.contains(#""action":"block""#) && $0.contains("shadow-mcp-host") }, "\(blocked)")
        // Nothing reached the origin: no line of this host was forwarded.
        #expect(!audit.contains(#""action":"allow""#), "\(audit)")
    }

    @Test func anEmptyRulesetsListIsNoPolicyAndRulesTestSaysSo() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meshgate-defaults-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("meshgate.yaml").path
        try "state_dir: ./state\nrulesets: []\n".write(toFile: config, atomically: true, encoding: .utf8)
        let decided = try await ProcessRunner.run(ServeCommandTests.binary, [
            "rules", "test", "--config", config, "--url", "https://mcp.linear.app/mcp", "--method", "POST",
        ])
        #expect(decided.exitCode == 0)
        #expect(decided.stdoutText.contains(#""action":"allow""#))
        #expect(decided.stderr.contains("no rules are loaded"), "\(decided.stderr)")
    }
}
