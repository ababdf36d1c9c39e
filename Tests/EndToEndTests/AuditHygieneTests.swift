import Crypto
import Foundation
import Testing

/// What `meshgate serve` writes to its audit file about what clients chose: no credentials and no
/// query values (unless `audit.query_keys` allows them), bounded field lengths, a line and a 400 for
/// every malformed request (pipelined ones too), and a flag when only a body's prefix was inspected.
@Suite(.serialized) struct AuditHygieneTests {
    static let token = "audit-hygiene-token-0123456789"
    static let password = "S3cretPass"

    /// A running `meshgate serve` with its audit file and log.
    struct Served {
        let pki: TestPKI
        let origin: TestOrigin
        let process: StreamingClient
        let proxyPort: Int
        var auditPath: String { pki.directory.appendingPathComponent("state/audit.jsonl").path }

        /// Stops the server (which flushes the audit file) and returns the file's lines.
        func stopAndReadAudit() async throws -> (text: String, lines: [String]) {
            process.signal(SIGTERM)
            _ = try await process.waitForExit(timeout: 15)
            await origin.close()
            let text = try String(contentsOfFile: auditPath, encoding: .utf8)
            return (text, text.split(separator: "\n").map(String.init))
        }
    }

    static func serve(_ yaml: String, arguments: [String] = []) async throws -> Served? {
        guard FileManager.default.isExecutableFile(atPath: ServeCommandTests.binary) else {
            Issue.record("build the executable first (swift build): \(ServeCommandTests.binary)")
            return nil
        }
        let pki = try TestPKI.make()
        let config = pki.directory.appendingPathComponent("meshgate.yaml").path
        try """
            state_dir: ./state
            listeners:
              explicit: 127.0.0.1:0
              admin: 127.0.0.1:0
            \(yaml)
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let origin = try await TestOrigin(group: TestGroup.shared)
        let process = try StreamingClient([ServeCommandTests.binary, "serve", "--config", config] + arguments, environment: Curl.environment, captureStderr: true)
        guard try await process.waitForOutput(containing: "explicit proxy listening", timeout: 30),
              let port = ServeCommandTests.port(of: "explicit proxy listening", in: process.text) else {
            Issue.record("serve did not start:\n\(process.text)")
            process.terminate()
            return nil
        }
        return Served(pki: pki, origin: origin, process: process, proxyPort: port)
    }

    static func hex(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func field(_ name: String, of line: String) -> Any? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
        return object[name]
    }

    /// The status of every response in `reply`, in order (a body need not end with a newline).
    static func status(_ reply: String) -> [Int] {
        reply.matches(of: #/HTTP/1\.1 (\d{3}) /#).compactMap { Int($0.output.1) }
    }

    @Test func queryValuesAndCredentialsNeverReachTheAuditFileAndLongFieldsAreBounded() async throws {
        guard let served = try await Self.serve("""
            access:
              allow_destinations: [127.0.0.0/8]
              require_identity: true
            identities:
              - { name: agent-1, team: platform, token_sha256: "\(Self.hex(Self.token))" }
            audit:
              path: ./state/audit.jsonl
              query_keys: [page]
            """) else { return }
        defer { served.process.terminate() }
        let origin = "127.0.0.1:\(served.origin.port)"
        let auth = "Proxy-Authorization: Bearer \(Self.token)\r\n"

        // 1. A query with a key the operator allowed and one nobody allowed.
        let plain = try await Curl.fetch("http://\(origin)/hello?api_key=SECRETKEY1&page=2", proxy: "http://127.0.0.1:\(served.proxyPort)",
                                         extra: ["--proxy-header", "Proxy-Authorization: Bearer \(Self.token)"])
        #expect(plain.status == 200)
        // 2. Credentials in an absolute-form target, refused with 407 (no identity) and allowed (identity).
        let credentialed = "GET http://alice:\(Self.password)@\(origin)/hello?token=SECRETKEY2 HTTP/1.1\r\nHost: \(origin)\r\nConnection: close\r\n"
        #expect(Self.status(try await RawClient.exchange(port: served.proxyPort, send: credentialed + "\r\n")) == [407])
        #expect(Self.status(try await RawClient.exchange(port: served.proxyPort, send: credentialed + auth + "\r\n")) == [200])
        // 3. An authority-form CONNECT with user info.
        let connect = "CONNECT alice:\(Self.password)@\(origin) HTTP/1.1\r\nHost: \(origin)\r\nConnection: close\r\n\r\n"
        #expect(Self.status(try await RawClient.exchange(port: served.proxyPort, send: connect)).first == 407)
        // 4. A 48 KB request target: refused (414, and 407 without identity), its line bounded.
        let long = "GET http://\(origin)/" + String(repeating: "a", count: 48 * 1024) + "?api_key=SECRETKEY3 HTTP/1.1\r\nHost: \(origin)\r\nConnection: close\r\n"
        #expect(Self.status(try await RawClient.exchange(port: served.proxyPort, send: long + "\r\n")) == [407])
        #expect(Self.status(try await RawClient.exchange(port: served.proxyPort, send: long + auth + "\r\n")) == [414])

        let (text, lines) = try await served.stopAndReadAudit()
        #expect(lines.count == 6, "\(text)")
        for secret in [Self.password, "SECRETKEY1", "SECRETKEY2", "SECRETKEY3", "alice"] {
            #expect(!text.contains(secret), "\(secret) is in the audit file:\n\(text.prefix(4000))")
        }
        #expect(text.contains(#""path":"\/hello?api_key=REDACTED&page=2""#) || text.contains(#""path":"/hello?api_key=REDACTED&page=2""#), "\(text)")
        let statuses = lines.compactMap { Self.field("status", of: $0) as? Int }
        #expect(statuses == [200, 407, 200, 407, 407, 414], "\(text)")
        let paths = lines.compactMap { Self.field("path", of: $0) as? String }
        #expect(paths.count == 6)
        if paths.count == 6 {
            #expect(paths[1] == "http://\(origin)/hello?token=REDACTED")
            #expect(paths[2] == "/hello?token=REDACTED")
            #expect(paths[3] == origin)
        }
        for line in lines {
            #expect(line.utf8.count < 4096, "an audit line of \(line.utf8.count) bytes: \(line.prefix(300))")
        }
        for line in lines.suffix(2) {
            let path = Self.field("path", of: line) as? String ?? ""
            #expect(path.utf8.count <= 2048 && path.hasSuffix("…"), "\(path.prefix(100))")
            #expect(Self.field("truncated", of: line) as? [String] == ["path"], "\(line.prefix(300))")
        }
    }

    @Test func aMalformedRequestPipelinedBehindAValidOneIsAnswered400AndAudited() async throws {
        guard let served = try await Self.serve("""
            access:
              allow_destinations: [127.0.0.0/8]
            audit:
              path: ./state/audit.jsonl
            """) else { return }
        defer { served.process.terminate() }
        let origin = "127.0.0.1:\(served.origin.port)"
        let valid = "GET http://\(origin)/hello HTTP/1.1\r\nHost: \(origin)\r\n\r\n"
        let (reply, closed) = try await RawClient.exchangeWithClose(port: served.proxyPort, send: valid + "NOT/A REQUEST\r\n\r\n")
        #expect(Self.status(reply) == [200, 400], "\(reply)")
        #expect(reply.contains("hello from origin"))
        #expect(closed, "the connection is closed after the 400")
        // Two valid requests, then garbage: both answered, then the 400.
        let (reply2, _) = try await RawClient.exchangeWithClose(port: served.proxyPort, send: valid + valid + "\u{1}\u{2}\u{3}\r\n\r\n")
        #expect(Self.status(reply2) == [200, 200, 400], "\(reply2)")
        // Behind a request meshgate answers itself (a target over limits.max_url_bytes) and behind a body.
        let refused = "GET http://\(origin)/\(String(repeating: "a", count: 9000)) HTTP/1.1\r\nHost: \(origin)\r\n\r\n"
        let (reply3, _) = try await RawClient.exchangeWithClose(port: served.proxyPort, send: refused + "NOT/A REQUEST\r\n\r\n")
        #expect(Self.status(reply3) == [414, 400], "\(reply3.prefix(600))")
        let post = "POST http://\(origin)/echo HTTP/1.1\r\nHost: \(origin)\r\nContent-Length: 5\r\n\r\nhello"
        let (reply4, _) = try await RawClient.exchangeWithClose(port: served.proxyPort, send: post + "NOT/A REQUEST\r\n\r\n")
        #expect(Self.status(reply4) == [200, 400], "\(reply4)")

        // Malformed requests are logged at debug level, not once each at info.
        for _ in 0..<30 {
            _ = try await RawClient.exchange(port: served.proxyPort, send: "NOT/A REQUEST\r\n\r\n")
        }
        let (text, lines) = try await served.stopAndReadAudit()
        let statuses = lines.compactMap { Self.field("status", of: $0) as? Int }
        #expect(statuses.prefix(9) == [200, 400, 200, 200, 400, 414, 400, 200, 400], "\(text.prefix(3000))")
        #expect(statuses.count == 39)
        let malformedLogLines = served.process.text.components(separatedBy: "\n").filter { $0.contains("malformed") }
        #expect(malformedLogLines.isEmpty, "\(malformedLogLines.prefix(3))")
    }

    @Test func atDebugLevelMalformedRequestsAreLoggedAtMostOncePerInterval() async throws {
        guard let served = try await Self.serve("audit:\n  path: ./state/audit.jsonl\n", arguments: ["--log-level", "debug"]) else { return }
        defer { served.process.terminate() }
        for _ in 0..<20 {
            _ = try await RawClient.exchange(port: served.proxyPort, send: "NOT/A REQUEST\r\n\r\n")
        }
        let (_, lines) = try await served.stopAndReadAudit()
        #expect(lines.count == 20, "every malformed request has its audit line")
        let logged = served.process.text.components(separatedBy: "\n").filter { $0.contains("refused malformed request") }
        #expect(logged.count == 1, "\(logged)")
        #expect(logged.first?.contains("debug") == true && logged.first?.contains("listener=explicit") == true, "\(logged)")
    }

    @Test func inspectingOnlyAPrefixOfABodyIsFlagged() async throws {
        let pkiless = FileManager.default.temporaryDirectory.appendingPathComponent("audit-rules-\(UUID().uuidString).yaml").path
        try """
            ruleset: audit-hygiene
            version: "1"
            rules:
              - id: secrets-in-body
                match: { body: [secrets] }
                action: log
            dlp_profiles:
              secrets:
                patterns:
                  - { name: Test Secret, regex: 'TOPSECRET' }
            """.write(toFile: pkiless, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: pkiless) }
        guard let served = try await Self.serve("""
            access:
              allow_destinations: [127.0.0.0/8]
            audit:
              path: ./state/audit.jsonl
            rulesets: [\(pkiless)]
            inspection:
              max_body_bytes: 1024
              over_limit: inspect_prefix
            """) else { return }
        defer { served.process.terminate() }
        let url = "http://127.0.0.1:\(served.origin.port)/echo"
        let proxy = "http://127.0.0.1:\(served.proxyPort)"
        let big = try await Curl.fetch(url, proxy: proxy, extra: ["--data-binary", String(repeating: "x", count: 8192), "-H", "Content-Type: text/plain"])
        #expect(big.status == 200 && big.body.count == 8192)
        let small = try await Curl.fetch(url, proxy: proxy, extra: ["--data-binary", "small body", "-H", "Content-Type: text/plain"])
        #expect(small.status == 200)

        let (text, lines) = try await served.stopAndReadAudit()
        #expect(lines.count == 2, "\(text)")
        guard lines.count == 2 else { return }
        #expect(Self.field("body_truncated", of: lines[0]) as? Bool == true, "\(lines[0])")
        #expect(Self.field("inspected_bytes", of: lines[0]) as? Int == 1024, "\(lines[0])")
        #expect(Self.field("body_truncated", of: lines[1]) == nil, "\(lines[1])")
    }
}
