import Foundation
import Testing

/// The `meshgate` executable as a user runs it: `serve` on a config file, then real clients against the
/// proxy and the admin listener, then SIGTERM; and the `ca` commands.
@Suite(.serialized) struct ServeCommandTests {
    static let binary = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/debug/meshgate").path

    static func writeConfig(_ dir: URL, extra: String = "") throws -> String {
        let path = dir.appendingPathComponent("meshgate.yaml").path
        try """
            state_dir: ./state
            listeners:
              explicit: 127.0.0.1:0
              admin: 127.0.0.1:0
            audit:
              path: ./state/audit.jsonl
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
}
