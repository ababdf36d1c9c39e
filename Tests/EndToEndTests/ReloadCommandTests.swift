import Foundation
import Testing

/// `meshgate reload` asks the running server to reload through its admin listener, and `serve`
/// keeps its pid in `state_dir/meshgate.pid` (issue 19).
@Suite struct ReloadCommandTests {
    @Test func reloadTalksToTheRunningServerAndSaysWhatToDoWhenThereIsNone() async throws {
        let pki = try TestPKI.make()
        let adminPort = try RulesUpdateTests.freePort()
        let config = try ServeCommandTests.writeConfig(pki.directory, adminPort: adminPort, extra: "rulesets: []")
        let pidFile = pki.directory.appendingPathComponent("state/meshgate.pid").path

        let server = try StreamingClient([ServeCommandTests.binary, "serve", "--config", config], environment: Curl.environment,
                                         captureStderr: true)
        defer { server.terminate() }
        #expect(try await server.waitForOutput(containing: "admin listener started", timeout: 30), "serve did not start:\n\(server.text)")
        #expect(try await server.waitForOutput(containing: "no rulesets", timeout: 5), "the policy line says there is none:\n\(server.text)")
        var pid = ""
        for _ in 0..<100 where pid.isEmpty {
            pid = (try? String(contentsOfFile: pidFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            if pid.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(Int32(pid) == server.pid, "the pid file names the server: \(pid)")

        // A ruleset appears in the configuration; `meshgate reload` puts it in force.
        let rules = pki.directory.appendingPathComponent("block.yaml").path
        try "ruleset: local\nversion: \"2\"\nrules:\n  - { id: no-example, match: { host: [blocked.example] }, action: block }\n"
            .write(toFile: rules, atomically: true, encoding: .utf8)
        _ = try ServeCommandTests.writeConfig(pki.directory, adminPort: adminPort, extra: "rulesets: [block.yaml]")
        let reloaded = try await ProcessRunner.run(ServeCommandTests.binary, ["reload", "--config", config])
        #expect(reloaded.exitCode == 0, "\(reloaded.stderr)")
        #expect(reloaded.stdoutText.contains("local@2") || reloaded.stdoutText.contains("local 2"), "\(reloaded.stdoutText)")

        // A broken ruleset: the server keeps its policy and the command says why, with the line.
        try "ruleset: local\nversion: \"3\"\nrules:\n  - { id: broken, match: { header: { x: \"(\" } }, action: block }\n"
            .write(toFile: rules, atomically: true, encoding: .utf8)
        let refused = try await ProcessRunner.run(ServeCommandTests.binary, ["reload", "--config", config])
        #expect(refused.exitCode == 1)
        #expect(refused.stderr.contains("block.yaml:4"), "\(refused.stderr)")

        server.signal(SIGTERM)
        _ = try await server.waitForExit(timeout: 15)
        #expect(!FileManager.default.fileExists(atPath: pidFile), "the pid file goes with the server")
        let none = try await ProcessRunner.run(ServeCommandTests.binary, ["reload", "--config", config])
        #expect(none.exitCode == 1)
        #expect(none.stderr.contains("does not seem to be running") && none.stderr.contains("meshgate.pid"), "\(none.stderr)")
        #expect(!none.stderr.contains("--no-reload"), "that flag is the rules commands', not reload's: \(none.stderr)")
    }
}
