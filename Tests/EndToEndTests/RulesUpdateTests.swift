import Foundation
import Testing

/// `meshgate rules update` and `rules rollback` against a running `meshgate serve`, with rulesets
/// published by a local HTTPS server the test starts and signed by `meshgate rules sign`.
@Suite(.serialized) struct RulesUpdateTests {
    static let binary = ServeCommandTests.binary
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/rules_server.py").path

    /// A ruleset named `fleet` at `version`; each extra rule is YAML for one list item.
    static func ruleset(_ version: String, _ rules: [String], tests: [String] = []) -> String {
        var text = "ruleset: fleet\nversion: \"\(version)\"\nrules:\n"
        text += rules.isEmpty ? "  []\n" : rules.map { "  - \($0)\n" }.joined()
        if !tests.isEmpty { text += "tests:\n" + tests.map { "  - \($0)\n" }.joined() }
        return text
    }

    static let blockLocalhost = "{ id: block-localhost, match: { host: [localhost] }, action: block }"
    static let blockThree = "{ id: block-three, match: { path: [\"/three\"] }, action: block }"

    /// One world: keys, a publisher over HTTPS, an origin, and `meshgate serve` configured to
    /// update from the publisher.
    struct World {
        let dir: URL
        let publish: URL
        let config: String
        let privateKey: String
        let otherKey: String
        let publisherPort: Int
        let proxy: String
        let admin: String
        let originPort: Int
        let server: StreamingClient
        let publisher: StreamingClient
        let origin: TestOrigin

        var installedFile: String { dir.appendingPathComponent("state/rulesets/fleet.yaml").path }
        var source: String { "https://localhost:\(publisherPort)/fleet.yaml" }

        /// Writes `text` as `name` in the publisher's folder, signed with `key` (default: the trusted one).
        func publish(_ text: String, as name: String = "fleet.yaml", key: String? = nil) async throws {
            let path = publish.appendingPathComponent(name).path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let signed = try await ProcessRunner.run(RulesUpdateTests.binary, ["rules", "sign", "--key", key ?? privateKey, path])
            #expect(signed.exitCode == 0, "\(signed.stderr)")
        }

        func meshgate(_ arguments: [String]) async throws -> ProcessResult {
            try await ProcessRunner.run(RulesUpdateTests.binary, arguments + ["--config", config], timeout: 60)
        }

        func status(host: String, path: String) async throws -> Int {
            try await Curl.fetch("http://\(host):\(originPort)\(path)", proxy: proxy).status
        }

        func installedBytes() -> Data? { FileManager.default.contents(atPath: installedFile) }

        func stop() async {
            server.signal(SIGTERM)
            _ = try? await server.waitForExit(timeout: 15)
            publisher.terminate()
            await origin.close()
        }
    }

    static func makeWorld(interval: String? = nil) async throws -> World {
        let pki = try TestPKI.make()
        let dir = pki.directory
        let publish = dir.appendingPathComponent("publish")
        try FileManager.default.createDirectory(at: publish, withIntermediateDirectories: true)

        let keygen = try await ProcessRunner.run(binary, ["rules", "keygen", "--out", dir.appendingPathComponent("keys").path])
        #expect(keygen.exitCode == 0, "\(keygen.stderr)")
        let publicKey = keygen.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let other = try await ProcessRunner.run(binary, ["rules", "keygen", "--out", dir.appendingPathComponent("other-keys").path])
        #expect(other.exitCode == 0, "\(other.stderr)")

        let (cert, key) = try pki.writeOriginLeaf(host: "localhost", ipAddress: [127, 0, 0, 1])
        let publisher = try StreamingClient(["python3", fixture, publish.path, cert, key], environment: Curl.environment)
        #expect(try await publisher.waitForOutput(containing: "listening", timeout: 20), "\(publisher.text)")
        let publisherPort = try #require(Int(publisher.text.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""))

        // The configured copy: version 1, blocks nothing.
        try ruleset("2026.11.01", []).write(to: dir.appendingPathComponent("fleet.yaml"), atomically: true, encoding: .utf8)
        // `rules update` finds the server through the configured admin address, so it needs a real port.
        let adminPort = try freePort()
        let config = try ServeCommandTests.writeConfig(dir, adminPort: adminPort, extra: """
            rulesets: [fleet.yaml]
            tls:
              upstream_ca: \(pki.originCAPath)
            ruleset_updates:
              source: https://localhost:\(publisherPort)/fleet.yaml
              public_keys: [\(publicKey)]
            \(interval.map { "  interval: \($0)" } ?? "")
            """)
        let origin = try await TestOrigin(group: TestGroup.shared)
        let server = try StreamingClient([binary, "serve", "--config", config], environment: Curl.environment, captureStderr: true)
        #expect(try await server.waitForOutput(containing: "admin listener started", timeout: 30), "\(server.text)")
        #expect(try await server.waitForOutput(containing: "explicit proxy listening", timeout: 10), "\(server.text)")
        return World(
            dir: dir, publish: publish, config: config,
            privateKey: dir.appendingPathComponent("keys/ruleset-signing.key").path,
            otherKey: dir.appendingPathComponent("other-keys/ruleset-signing.key").path,
            publisherPort: publisherPort,
            proxy: "http://127.0.0.1:\(try #require(ServeCommandTests.port(of: "explicit proxy listening", in: server.text)))",
            admin: "http://127.0.0.1:\(try #require(ServeCommandTests.port(of: "admin listener started", in: server.text)))",
            originPort: origin.port, server: server, publisher: publisher, origin: origin
        )
    }

    @Test func updatesTakeEffectWithoutRestartAndEveryBadUpdateIsRefused() async throws {
        let world = try await Self.makeWorld()
        defer { world.server.terminate(); world.publisher.terminate() }
        #expect(try await world.status(host: "localhost", path: "/hello") == 200)

        // A signed update that blocks a host applies as soon as the command returns.
        try await world.publish(Self.ruleset("2026.11.02", [Self.blockLocalhost]))
        let update = try await world.meshgate(["rules", "update"])
        #expect(update.exitCode == 0, "\(update.stderr)")
        #expect(update.stdoutText.contains("installed fleet 2026.11.02 (was 2026.11.01)"), "\(update.stdoutText)")
        #expect(try await world.status(host: "localhost", path: "/hello") == 403)
        let mode = try FileManager.default.attributesOfItem(atPath: world.dir.appendingPathComponent("state/admin.token").path)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        // The same file again is not an error (cron-friendly) and changes nothing.
        let again = try await world.meshgate(["rules", "update"])
        #expect(again.exitCode == 0, "\(again.stderr)")
        #expect(again.stdoutText.contains("already in force"))

        let inForce = try #require(world.installedBytes())
        func expectRefused(_ arguments: [String], _ cause: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
            let result = try await world.meshgate(["rules", "update"] + arguments)
            #expect(result.exitCode == 1, "\(result.stdoutText)", sourceLocation: sourceLocation)
            #expect(result.stderr.contains(cause), "\(result.stderr)", sourceLocation: sourceLocation)
            #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr)", sourceLocation: sourceLocation)
            #expect(world.installedBytes() == inForce, "the installed file is untouched", sourceLocation: sourceLocation)
            #expect(try await world.status(host: "localhost", path: "/hello") == 403, "the old rules still apply", sourceLocation: sourceLocation)
            #expect(try await world.status(host: "127.0.0.1", path: "/three") == 404, sourceLocation: sourceLocation)
        }

        // Tampered after signing.
        try await world.publish(Self.ruleset("2026.11.03", [Self.blockLocalhost, Self.blockThree]), as: "tampered.yaml")
        let tampered = world.publish.appendingPathComponent("tampered.yaml")
        try (String(contentsOf: tampered, encoding: .utf8) + "# sneaky\n").write(to: tampered, atomically: true, encoding: .utf8)
        try await expectRefused(["--source", "https://localhost:\(world.publisherPort)/tampered.yaml"], "signature check failed")
        // The same tampered file from a local path.
        try await expectRefused(["--source", tampered.path], "signature check failed")
        // Signed with a key the configuration does not trust.
        try await world.publish(Self.ruleset("2026.11.03", [Self.blockLocalhost, Self.blockThree]), as: "wrong-key.yaml", key: world.otherKey)
        try await expectRefused(["--source", "https://localhost:\(world.publisherPort)/wrong-key.yaml"], "signature check failed")
        // A replayed older (validly signed) version.
        try await world.publish(Self.ruleset("2026.11.01", []), as: "old.yaml")
        try await expectRefused(["--source", "https://localhost:\(world.publisherPort)/old.yaml"], "versions must increase")
        // A pre-release of the version in force, signed before its release and replayed after it.
        try await world.publish(Self.ruleset("2026.11.02-rc1", [Self.blockLocalhost, Self.blockThree]), as: "rc.yaml")
        try await expectRefused(["--source", "https://localhost:\(world.publisherPort)/rc.yaml"],
                                "refusing fleet 2026.11.02-rc1 from https://localhost:\(world.publisherPort)/rc.yaml: it is older than 2026.11.02, which is in force")
        // A download cut short.
        try await world.publish(Self.ruleset("2026.11.03", [Self.blockLocalhost, Self.blockThree]), as: "whole.yaml")
        try await expectRefused(["--source", "https://localhost:\(world.publisherPort)/truncated/whole.yaml"], "cut short")
        // A ruleset with an invalid regex (signed, newer): `rules check` fails, naming the line.
        try await world.publish(Self.ruleset("2026.11.03", [
            Self.blockLocalhost, "{ id: bad, match: { header: { X-A: '(unclosed' } }, action: block }",
        ]), as: "bad-regex.yaml")
        try await expectRefused(["--source", "https://localhost:\(world.publisherPort)/bad-regex.yaml"], "bad-regex.yaml:5")
        // A ruleset whose embedded test fails.
        try await world.publish(Self.ruleset("2026.11.03", [Self.blockLocalhost], tests: [
            "{ request: { method: GET, url: \"https://localhost/\" }, expect: allow }",
        ]), as: "failing-test.yaml")
        try await expectRefused(["--source", "https://localhost:\(world.publisherPort)/failing-test.yaml"], "fails `rules check`")
        // Nothing listening at the source.
        try await expectRefused(["--source", "https://127.0.0.1:\(try Self.freePort())/fleet.yaml"], "connection refused")
        // A publisher whose certificate no configured CA vouches for: refused, never a fallback to plain trust.
        let rogue = try await Self.selfSignedPublisher(directory: world.publish, in: world.dir)
        defer { rogue.process.terminate() }
        try await world.publish(Self.ruleset("2026.11.03", [Self.blockLocalhost, Self.blockThree]), as: "rogue.yaml")
        try await expectRefused(["--source", "https://localhost:\(rogue.port)/rogue.yaml"], "is not trusted")

        // Version 3 adds a path block; then roll back twice: to 2, then to the configured 1.
        try await world.publish(Self.ruleset("2026.11.03", [Self.blockLocalhost, Self.blockThree]))
        let third = try await world.meshgate(["rules", "update"])
        #expect(third.exitCode == 0, "\(third.stderr)")
        #expect(try await world.status(host: "127.0.0.1", path: "/three") == 403)
        let health = try await Curl.fetch("\(world.admin)/healthz", proxy: nil)
        #expect(health.bodyText.contains(#""installed":"fleet@2026.11.03""#), "\(health.bodyText)")

        let back = try await world.meshgate(["rules", "rollback"])
        #expect(back.exitCode == 0, "\(back.stderr)")
        #expect(back.stdoutText.contains("rolled back fleet 2026.11.03; fleet 2026.11.02 is in force"), "\(back.stdoutText)")
        #expect(try await world.status(host: "127.0.0.1", path: "/three") == 404)
        #expect(try await world.status(host: "localhost", path: "/hello") == 403)

        let toShipped = try await world.meshgate(["rules", "rollback"])
        #expect(toShipped.exitCode == 0, "\(toShipped.stderr)")
        #expect(toShipped.stdoutText.contains("the configured fleet 2026.11.01"), "\(toShipped.stdoutText)")
        #expect(try await world.status(host: "localhost", path: "/hello") == 200)
        let nothing = try await world.meshgate(["rules", "rollback"])
        #expect(nothing.exitCode == 1)
        #expect(nothing.stderr.contains("nothing has been installed"), "\(nothing.stderr)")

        // The admin reload endpoint refuses a request without the token, and accepts it with it.
        let anonymous = try await Curl.fetch("\(world.admin)/admin/reload", proxy: nil, extra: ["-X", "POST"])
        #expect(anonymous.status == 401)
        let wrong = try await Curl.fetch("\(world.admin)/admin/reload", proxy: nil, extra: ["-X", "POST", "-H", "Authorization: Bearer guess"])
        #expect(wrong.status == 401)
        let token = try String(contentsOfFile: world.dir.appendingPathComponent("state/admin.token").path, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let authorized = try await Curl.fetch("\(world.admin)/admin/reload", proxy: nil, extra: ["-X", "POST", "-H", "Authorization: Bearer \(token)"])
        #expect(authorized.status == 200, "\(authorized.bodyText)")

        // With the server stopped, an update fails before touching anything.
        await world.stop()
        try await world.publish(Self.ruleset("2026.11.04", [Self.blockLocalhost]))
        let offline = try await world.meshgate(["rules", "update"])
        #expect(offline.exitCode == 1)
        #expect(offline.stderr.contains("does not seem to be running"), "\(offline.stderr)")
        #expect(world.installedBytes() == nil, "nothing was installed")

        // Each change in force was audited with both versions and who asked.
        let audit = try String(contentsOfFile: world.dir.appendingPathComponent("state/audit.jsonl").path, encoding: .utf8)
        let changes = audit.split(separator: "\n").filter { $0.contains(#""event":"ruleset""#) }
        #expect(changes.count == 4, "\(changes)")
        #expect(changes.first?.contains(#""action":"update""#) == true)
        #expect(changes.first?.contains(#""old_version":"2026.11.01","new_version":"2026.11.02","requested_by":"rules update meshgate rules (uid"#) == true, "\(changes.first ?? "")")
        #expect(changes.last?.contains(#""action":"downgrade""#) == true, "\(changes.last ?? "")")
    }

    /// The publisher fixture over TLS with a self-signed certificate nobody trusts.
    static func selfSignedPublisher(directory: URL, in dir: URL) async throws -> (process: StreamingClient, port: Int) {
        let cert = dir.appendingPathComponent("rogue.pem").path, key = dir.appendingPathComponent("rogue.key").path
        let made = try await ProcessRunner.run("openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", cert,
        ])
        #expect(made.exitCode == 0, "\(made.stderr)")
        let process = try StreamingClient(["python3", fixture, directory.path, cert, key], environment: Curl.environment)
        #expect(try await process.waitForOutput(containing: "listening", timeout: 20), "\(process.text)")
        let port = try #require(Int(process.text.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""))
        return (process, port)
    }

    /// A port nothing listens on right now (the kernel's pick for a socket bound and closed).
    static func freePort() throws -> Int {
        let socket = try LoopbackPort.bind()
        close(socket.fd)
        return socket.port
    }

    @Test func theServerUpdatesItselfOnAnInterval() async throws {
        let world = try await Self.makeWorld(interval: "1s")
        defer { world.server.terminate(); world.publisher.terminate() }
        #expect(try await world.status(host: "localhost", path: "/hello") == 200)
        try await world.publish(Self.ruleset("2026.11.02", [Self.blockLocalhost]))
        #expect(try await world.server.waitForOutput(containing: "ruleset updated", timeout: 20), "\(world.server.text)")
        #expect(try await world.status(host: "localhost", path: "/hello") == 403)
        let metrics = try await Curl.fetch("\(world.admin)/metrics", proxy: nil)
        #expect(metrics.bodyText.contains("meshgate_ruleset_update_last_success_timestamp_seconds"), "\(metrics.bodyText.prefix(2000))")
        #expect(metrics.bodyText.contains(#"meshgate_ruleset_loaded{ruleset="fleet",version="2026.11.02"} 1"#), "\(metrics.bodyText.prefix(3000))")
        #expect(metrics.bodyText.contains(#"meshgate_ruleset_loaded{ruleset="fleet",version="2026.11.01"} 0"#))

        // A bad publication afterwards is refused by the server too, and the rules stay.
        try "garbage".write(to: world.publish.appendingPathComponent("fleet.yaml.sig"), atomically: true, encoding: .utf8)
        #expect(try await world.server.waitForOutput(containing: "ruleset update failed", timeout: 20), "\(world.server.text)")
        #expect(try await world.status(host: "localhost", path: "/hello") == 403)
        await world.stop()
    }
}
