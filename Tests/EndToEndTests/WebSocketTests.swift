import Foundation
import Testing

/// A real WebSocket client (Python `websockets`) through CONNECT + interception to a real TLS echo origin.
@Suite(.serialized) struct WebSocketTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/ws_echo.py").path

    @Test func websocketEchoWorksThroughInterception() async throws {
        let pki = try TestPKI.make()
        let (certPath, keyPath) = try pki.writeOriginLeaf(host: "localhost")
        var env = Curl.environment
        env["PYTHONUNBUFFERED"] = "1"
        let server = try StreamingClient(["python3", Self.script, "serve", certPath, keyPath], environment: env)
        defer { server.terminate() }
        #expect(try await server.waitForOutput(containing: "\n", timeout: 20), "the python websocket origin did not start (is `websockets` installed?)")
        let port = try #require(Int(server.text.trimmingCharacters(in: .whitespacesAndNewlines)))

        let proxy = try await TestProxy(group: TestGroup.shared, pki: pki) { $0.connectPorts = [443, port] }
        let client = try await ProcessRunner.run("python3", [Self.script, "client", "wss://localhost:\(port)/", proxy.url, pki.meshgateCAPath], timeout: 30, environment: env)
        #expect(client.exitCode == 0, "client failed: \(client.stderr)")
        #expect(client.stdoutText == "one\ntwo\nthree\n")
        await proxy.stop()
        try await eventually { proxy.audit.events.contains { $0.jsonLine().contains(#""status":101"#) } }
    }
}
