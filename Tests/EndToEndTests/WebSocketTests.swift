import Foundation
import Testing

/// A real WebSocket client (Python `websockets`) through CONNECT + interception to a real TLS echo origin.
@Suite(.serialized) struct WebSocketTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/ws_echo.py").path
    /// The virtualenv with websockets (Fixtures/mcp/setup_venvs.sh makes it; scripts/install-deps.sh --test runs
    /// that), so that nothing is pip-installed into the system Python.
    static let venvPython = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/mcp-venv/ws/bin/python").path
    /// The venv's interpreter; without the venv, `python3` (a developer's own websockets >= 15, if any).
    static var python: String {
        FileManager.default.isExecutableFile(atPath: venvPython) ? venvPython : "python3"
    }
    static var missing: String {
        python == venvPython ? "" : " (no virtualenv at \(venvPython), so python3 was used: scripts/install-deps.sh --test creates it)"
    }

    @Test func websocketEchoWorksThroughInterception() async throws {
        let pki = try TestPKI.make()
        let (certPath, keyPath) = try pki.writeOriginLeaf(host: "localhost")
        var env = Curl.environment
        env["PYTHONUNBUFFERED"] = "1"
        let server = try StreamingClient([Self.python, Self.script, "serve", certPath, keyPath], environment: env)
        defer { server.terminate() }
        #expect(try await server.waitForOutput(containing: "\n", timeout: 20),
                "the python websocket origin did not start (\(Self.python) needs websockets >= 15)\(Self.missing)")
        let port = try #require(Int(server.text.trimmingCharacters(in: .whitespacesAndNewlines)))

        let proxy = try await TestProxy(group: TestGroup.shared, pki: pki) { $0.connectPorts = [443, port] }
        let client = try await ProcessRunner.run(Self.python, [Self.script, "client", "wss://localhost:\(port)/", proxy.url, pki.meshgateCAPath], timeout: 30, environment: env)
        #expect(client.exitCode == 0, "client failed: \(client.stderr)\(Self.missing)")
        #expect(client.stdoutText == "one\ntwo\nthree\n")
        await proxy.stop()
        try await eventually { proxy.audit.events.contains { $0.jsonLine().contains(#""status":101"#) } }
    }
}
