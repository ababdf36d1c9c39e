import Foundation
import MeshgatePolicy
import Testing

/// The official MCP Python SDK (mcp 2.3.0) talking Streamable HTTP over TLS through meshgate to a
/// shadow MCP server: rerouted to the approved portal, or blocked with a JSON-RPC error, in both the
/// 2026-07-28 stateless protocol (server/discover, Mcp-Method headers; the SDK default) and the older
/// initialize handshake.
@Suite(.serialized) struct MCPSDKTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/mcp")
    static let python = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/mcp-venv/new/bin/python").path

    struct Servers {
        let portal: StreamingClient
        let shadow: StreamingClient
        let portalPort: Int
        let shadowPort: Int
        func stop() {
            portal.terminate()
            shadow.terminate()
        }
    }

    static func startServers(_ pki: TestPKI) async throws -> Servers {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw SetupError(description: "no MCP SDK virtualenv at \(python); ./scripts/test.sh creates it")
        }
        func start(_ name: String, host: String) async throws -> (StreamingClient, Int) {
            let (cert, key) = try pki.writeOriginLeaf(host: host)
            let server = try StreamingClient([python, fixtures.appendingPathComponent("mcp_server.py").path, "--name", name, "--cert", cert, "--key", key])
            guard try await server.waitForOutput(containing: "\n", timeout: 30),
                  let port = Int(server.text.split(separator: "\n").first.map(String.init) ?? "") else {
                server.terminate()
                throw SetupError(description: "MCP server \(name) did not start: \(server.text)")
            }
            return (server, port)
        }
        let (portal, portalPort) = try await start("portal", host: "portal.test")
        let (shadow, shadowPort) = try await start("shadow", host: "mcp.shadow.test")
        return Servers(portal: portal, shadow: shadow, portalPort: portalPort, shadowPort: shadowPort)
    }

    static func client(_ url: String, proxy: TestProxy, pki: TestPKI, protocolMode: String) async throws -> [String: Any] {
        let result = try await ProcessRunner.run(python, [
            fixtures.appendingPathComponent("mcp_client.py").path, url, "--proxy", proxy.url, "--cafile", pki.meshgateCAPath,
            "--protocol", protocolMode, "--timeout", "20",
        ], timeout: 45, environment: Curl.environment)
        let line = result.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw SetupError(description: "client printed no JSON: \(result.stdoutText) \(result.stderr)")
        }
        return object
    }

    static func proxy(_ pki: TestPKI, servers: Servers, rules: [String]? = nil) async throws -> TestProxy {
        let portal = "https://portal.test:\(servers.portalPort)/mcp"
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let files = rules ?? ["rulesets/shadow-mcp.yaml", "rulesets/dlp-secrets.yaml"].map { root.appendingPathComponent($0).path }
        let policy = try PolicyEngine.load(files: files, regexCompiler: PCRE2RegexCompiler(), portal: portal)
        return try await TestProxy(group: TestGroup.shared, pki: pki, policy: policy) {
            $0.connectPorts = [443, servers.shadowPort, servers.portalPort]
            $0.staticHosts = ["portal.test": "127.0.0.1", "mcp.shadow.test": "127.0.0.1"]
        }
    }

    struct SetupError: Error, CustomStringConvertible { var description: String }

    @Test(arguments: [("stateless", "2026-07-28"), ("legacy", "2025-11-25")])
    func shadowServerIsReroutedToThePortal(mode: String, expectedProtocol: String) async throws {
        let pki = try TestPKI.make()
        let servers = try await Self.startServers(pki)
        defer { servers.stop() }
        let proxy = try await Self.proxy(pki, servers: servers)
        let result = try await Self.client("https://mcp.shadow.test:\(servers.shadowPort)/mcp", proxy: proxy, pki: pki, protocolMode: mode)
        #expect(result["ok"] as? Bool == true, "\(result)")
        #expect(result["tools"] as? [String] == ["portal_echo"], "the agent asked the shadow server but lands on the portal: \(result)")
        #expect(result["protocol"] as? String == expectedProtocol)
        let lines = proxy.audit.events.map { $0.jsonLine() }
        #expect(lines.contains { $0.contains(#""action":"reroute""#) && $0.contains(#""host":"mcp.shadow.test""#) && $0.contains(#""target":"https://portal.test:\#(servers.portalPort)/mcp""#) })
        let firstMethod = mode == "stateless" ? "server/discover" : "initialize"
        #expect(lines.contains { $0.contains(#""mcp_method":"\#(firstMethod)""#) }, "\(lines.joined(separator: "\n"))")
        await proxy.stop()
    }

    @Test(arguments: ["stateless", "legacy"])
    func shadowServerIsBlockedWithAJSONRPCError(mode: String) async throws {
        let pki = try TestPKI.make()
        let servers = try await Self.startServers(pki)
        defer { servers.stop() }
        // A ruleset that blocks MCP recognised by structure, on a host that says nothing about MCP.
        let file = pki.directory.appendingPathComponent("block-mcp.yaml").path
        try """
            ruleset: block-mcp
            version: "1"
            rules:
              - { id: allow-portal, match: { host: ["$portal"] }, action: allow }
              - { id: block-any-mcp, match: { mcp: any }, action: block }
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let proxy = try await Self.proxy(pki, servers: servers, rules: [file])
        let result = try await Self.client("https://mcp.shadow.test:\(servers.shadowPort)/mcp", proxy: proxy, pki: pki, protocolMode: mode)
        #expect(result["ok"] as? Bool == false, "\(result)")
        #expect(result["status"] as? Int == 403)
        let error = result["jsonrpc_error"] as? [String: Any]
        #expect(error?["code"] as? Int == -32001, "\(result)")
        #expect((error?["message"] as? String)?.contains("block-any-mcp") == true)
        let lines = proxy.audit.events.map { $0.jsonLine() }
        #expect(lines.contains { $0.contains(#""action":"block""#) && $0.contains(#""rule":"block-any-mcp""#) && $0.contains("MCP JSON-RPC") })
        await proxy.stop()
    }
}
