import Foundation
import Testing

/// Audit log rotation against the real `meshgate serve`: the file is moved away, then SIGUSR1
/// (logrotate's postrotate, signalled through `state_dir/meshgate.pid`) or SIGHUP; the process
/// lives on and the next request's line goes to a new file at the configured path. Then the
/// shipped contrib/logrotate/meshgate itself, run by `logrotate -f` on this server's paths.
@Suite(.serialized) struct AuditRotationTests {
    static let binary = ServeCommandTests.binary

    /// The request paths (`/rotation-N`) of the audit lines in `file`.
    static func paths(in file: String) -> [String] {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let path = object["path"] as? String, path.hasPrefix("/rotation-") else { return nil }
            return path
        }
    }

    static func mode(of path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
    }

    /// Polls until `condition` holds, for at most `timeout` seconds.
    static func eventually(timeout: TimeInterval = 10, _ condition: () -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if condition() { return true }
            if Date() >= deadline { return false }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
    }

    @Test func sigusr1AndSighupReopenTheAuditLogAndLogrotateRotatesIt() async throws {
        let logrotate = try? ProcessRunner.which("logrotate")
        let logrotatePath = logrotate ?? (FileManager.default.isExecutableFile(atPath: "/usr/sbin/logrotate") ? "/usr/sbin/logrotate" : nil)
        let pki = try TestPKI.make()
        let config = try ServeCommandTests.writeConfig(pki.directory)
        let state = pki.directory.appendingPathComponent("state").path
        let audit = state + "/audit.jsonl"
        let pidFile = state + "/meshgate.pid"
        let origin = try await TestOrigin(group: TestGroup.shared)
        let server = try StreamingClient([Self.binary, "serve", "--config", config], environment: Curl.environment, captureStderr: true)
        defer { server.terminate() }
        #expect(try await server.waitForOutput(containing: "explicit proxy listening", timeout: 30), "\(server.text)")
        #expect(try await server.waitForOutput(containing: "admin listener started", timeout: 10))
        let proxy = "http://127.0.0.1:\(try #require(ServeCommandTests.port(of: "explicit proxy listening", in: server.text)))"

        // The pid file appears once the signals are trapped, and names this server.
        #expect(try await Self.eventually { FileManager.default.fileExists(atPath: pidFile) }, "no \(pidFile)")
        let pid = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))

        var sent = 0
        func request() async throws -> String {
            sent += 1
            let path = "/rotation-\(sent)"
            _ = try await Curl.fetch("http://127.0.0.1:\(origin.port)\(path)", proxy: proxy)
            return path
        }
        func reopened() -> Int { server.text.components(separatedBy: "audit log reopened").count - 1 }
        func expectAlive(_ after: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
            #expect(try await server.waitForExit(timeout: 0.5) == nil, "meshgate exited after \(after):\n\(server.text)", sourceLocation: sourceLocation)
        }

        let first = try await request()
        #expect(try await Self.eventually { Self.paths(in: audit) == [first] }, "\(Self.paths(in: audit)) \((try? FileManager.default.contentsOfDirectory(atPath: state)) ?? []) \(server.text)")
        let startMode = try #require(Self.mode(of: audit))

        // mv, then SIGUSR1 through the pid file (what logrotate's postrotate does).
        let movedUSR1 = audit + ".moved-usr1"
        #expect(rename(audit, movedUSR1) == 0)
        let beforeSignal = try await request()
        #expect(try await Self.eventually { Self.paths(in: movedUSR1).contains(beforeSignal) }, "the open file keeps its lines until the signal")
        #expect(kill(pid, SIGUSR1) == 0)
        #expect(try await Self.eventually { reopened() == 1 }, "\(server.text)")
        try await expectAlive("SIGUSR1")
        #expect(FileManager.default.fileExists(atPath: audit), "the reopen creates the file at once")
        #expect(Self.mode(of: audit) == startMode)
        let afterUSR1 = try await request()
        #expect(try await Self.eventually { Self.paths(in: audit) == [afterUSR1] }, "\(Self.paths(in: audit))")

        // mv, then SIGHUP: reloads the policy and reopens too.
        let movedHUP = audit + ".moved-hup"
        #expect(rename(audit, movedHUP) == 0)
        #expect(kill(pid, SIGHUP) == 0)
        #expect(try await server.waitForOutput(containing: "policy reloaded", timeout: 10))
        #expect(try await Self.eventually { reopened() == 2 }, "\(server.text)")
        try await expectAlive("SIGHUP")
        #expect(Self.mode(of: audit) == startMode)
        let afterHUP = try await request()
        #expect(try await Self.eventually { Self.paths(in: audit) == [afterHUP] }, "\(Self.paths(in: audit))")

        // The shipped logrotate file, with this server's state_dir in place of /var/lib/meshgate.
        let shipped = try String(contentsOfFile: ServeCommandTests.repositoryRoot + "/contrib/logrotate/meshgate", encoding: .utf8)
        #expect(shipped.contains("/var/lib/meshgate/audit.jsonl"))
        let directives = shipped.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.hasPrefix("#") }
        #expect(!directives.contains { $0.hasPrefix("copytruncate") }, "copytruncate loses the lines written between copy and truncate")
        let logrotateBinary = try #require(logrotatePath, "logrotate is not installed (scripts/install-deps.sh --test installs it)")
        let rotateConfig = pki.directory.appendingPathComponent("logrotate.conf").path
        try shipped.replacingOccurrences(of: "/var/lib/meshgate", with: state).write(toFile: rotateConfig, atomically: true, encoding: .utf8)
        // logrotate ignores a configuration that others can write.
        chmod(rotateConfig, 0o644)
        let rotated = try await ProcessRunner.run(logrotateBinary, ["-f", "-s", pki.directory.appendingPathComponent("logrotate.status").path, rotateConfig])
        #expect(rotated.exitCode == 0, "\(rotated.stdoutText)\(rotated.stderr)")
        #expect(try await Self.eventually { reopened() == 3 }, "logrotate's postrotate did not signal:\n\(server.text)")
        try await expectAlive("logrotate")
        #expect(Self.paths(in: audit + ".1") == [afterHUP], "logrotate renamed the file to .1 (delaycompress keeps it plain)")
        let afterRotate = try await request()
        #expect(try await Self.eventually { Self.paths(in: audit) == [afterRotate] }, "\(Self.paths(in: audit))")
        #expect(Self.mode(of: audit) == startMode)

        server.signal(SIGTERM)
        #expect(try await server.waitForExit(timeout: 15) == 0)
        #expect(!FileManager.default.fileExists(atPath: pidFile), "the pid file is removed at exit")

        // Every request's line exactly once across all the files.
        let all = [audit, movedUSR1, movedHUP, audit + ".1"].flatMap { Self.paths(in: $0) }
        #expect(all.sorted() == (1...sent).map { "/rotation-\($0)" }.sorted(), "\(all)")
        await origin.close()
    }
}
