import Foundation
import Testing

/// The MCP inventory is kept in state_dir/dashboard.sqlite: it survives a graceful restart (saved at
/// shutdown) and a `kill -9` (saved every two seconds), while the Live page's recent decisions are memory only.
@Suite(.serialized) struct DashboardInventoryRestartTests {
    static let binary = ServeCommandTests.binary

    struct Node {
        let process: StreamingClient
        let proxy: String
        let admin: String
    }

    static func start(_ config: String) async throws -> Node {
        let process = try StreamingClient([binary, "serve", "--config", config], environment: Curl.environment, captureStderr: true)
        guard try await process.waitForOutput(containing: "explicit proxy listening", timeout: 30),
              try await process.waitForOutput(containing: "admin listener started", timeout: 10),
              let proxyPort = ServeCommandTests.port(of: "explicit proxy listening", in: process.text),
              let adminPort = ServeCommandTests.port(of: "admin listener started", in: process.text) else {
            process.terminate()
            throw AIGatewayEndToEndTests.SetupError(description: "serve did not start:\n\(process.text)")
        }
        return Node(process: process, proxy: "http://127.0.0.1:\(proxyPort)", admin: "http://127.0.0.1:\(adminPort)")
    }

    static func shadowCall(_ node: Node, host: String) async throws -> Int {
        let result = try await ProcessRunner.run("/usr/bin/curl", [
            "-s", "-o", "/dev/null", "-w", "%{http_code}", "-x", node.proxy, "-H", "Content-Type: application/json",
            "--data", #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"exfiltrate"}}"#, "http://\(host)/mcp",
        ], environment: Curl.environment)
        return Int(result.stdoutText) ?? 0
    }

    static func api(_ node: Node, _ path: String, token: String) async throws -> [String: Any] {
        let result = try await ProcessRunner.run("/usr/bin/curl", ["-s", "-H", "Authorization: Bearer \(token)", node.admin + "/admin/api/" + path],
                                                 environment: Curl.environment)
        return try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any], "\(result.stdoutText)")
    }

    static func servers(_ node: Node, token: String) async throws -> [String] {
        (try await api(node, "inventory", token: token)["servers"] as? [[String: Any]] ?? []).compactMap { $0["url"] as? String }
    }

    @Test func theInventorySurvivesARestartAndAKill9() async throws {
        let pki = try TestPKI.make()
        let config = try ServeCommandTests.writeConfig(pki.directory)
        var node = try await Self.start(config)
        let token = try String(contentsOf: pki.directory.appendingPathComponent("state/admin.token"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await Self.shadowCall(node, host: "first.shadow.example") == 403)
        // SIGTERM right away: the final save at shutdown keeps it.
        node.process.signal(SIGTERM)
        #expect(try await node.process.waitForExit(timeout: 15) == 0)
        let store = pki.directory.appendingPathComponent("state/dashboard.sqlite").path
        #expect((try FileManager.default.attributesOfItem(atPath: store)[.posixPermissions] as? Int) == 0o600)

        node = try await Self.start(config)
        #expect(try await Self.servers(node, token: token) == ["http://first.shadow.example/mcp"])
        #expect((try await Self.api(node, "decisions", token: token)["decisions"] as? [Any])?.isEmpty == true, "recent decisions are not kept")
        #expect(try await Self.shadowCall(node, host: "second.shadow.example") == 403)
        // kill -9 after the periodic save (every 2 s): nothing but the process is lost.
        try await Task.sleep(nanoseconds: 3_000_000_000)
        node.process.signal(SIGKILL)
        _ = try await node.process.waitForExit(timeout: 10)

        node = try await Self.start(config)
        #expect(Set(try await Self.servers(node, token: token)) == ["http://first.shadow.example/mcp", "http://second.shadow.example/mcp"])
        let second = (try await Self.api(node, "inventory", token: token)["servers"] as? [[String: Any]])?.first { ($0["url"] as? String)?.contains("second") == true }
        #expect(second?["governance"] as? String == "unregistered")
        #expect((second?["actions"] as? [String: Int])?["block"] == 1)
        node.process.signal(SIGTERM)
        _ = try await node.process.waitForExit(timeout: 15)
    }
}
