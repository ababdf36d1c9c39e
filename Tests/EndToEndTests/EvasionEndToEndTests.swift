import CBrotli
import CZstd
import Foundation
import Meshgate
import MeshgateAudit
import MeshgatePolicy
import Testing

/// Content and transfer codings used to slip a body past inspection, through the running proxy (curl
/// and raw sockets against real origins) and through `meshgate rules test`, for both shipped
/// rulesets: an MCP `tools/call` (shadow-mcp) and a cloud secret (dlp-secrets).
@Suite(.serialized) struct EvasionEndToEndTests {
    static let toolsCall = Array(#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"deploy","arguments":{}}}"#.utf8)
    static let secret = Array(#"{"note":"deploy with these","aws_access_key_id":"AKIAIOSFODNN7EXAMPLE"}"#.utf8)
    /// Codings meshgate decodes, single and stacked (in the order the sender applied them).
    static let decodable = ["br", "zstd", "gzip, br", "br, zstd"]

    // MARK: - Through the proxy

    @Test(arguments: decodable)
    func mcpCallInADecodableCodingIsReroutedAsThePlainOneIs(coding: String) async throws {
        let world = try await PolicyWorld.make()
        let proxy = try await world.proxy(try world.shippedPolicy())
        let response = try await post(Self.toolsCall, coding: coding, world: world, proxy: proxy)
        #expect(response.bodyText.hasPrefix("origin portal got POST /mcp"), "\(response.status) \(response.bodyText.prefix(200))")
        #expect(response.headers.contains("X-Meshgate-Rule: shadow-mcp-structural"), "\(response.headers)")
        #expect(response.headers.contains("X-Meshgate-Action: reroute"))
        #expect(world.shadow.requests.isEmpty, "the MCP call never reaches the shadow server")
        let line = try #require(proxy.audit.events.last).jsonLine()
        #expect(line.contains(#""mcp_method":"tools/call""#) && line.contains("MCP JSON-RPC"), "\(line)")
        await proxy.stop()
        await world.close()
    }

    @Test(arguments: decodable)
    func secretInADecodableCodingIsBlocked(coding: String) async throws {
        let world = try await PolicyWorld.make()
        let proxy = try await world.proxy(try world.shippedPolicy())
        let response = try await post(Self.secret, coding: coding, world: world, proxy: proxy)
        #expect(response.status == 403, "\(response.bodyText.prefix(200))")
        #expect(response.headers.contains("X-Meshgate-Rule: dlp-secrets-block"), "\(response.headers)")
        #expect(world.shadow.requests.isEmpty, "the secret never leaves")
        let line = try #require(proxy.audit.events.last).jsonLine()
        #expect(line.contains(#""detections":["AWS Access Key ID"]"#), "\(line)")
        await proxy.stop()
        await world.close()
    }

    @Test(arguments: ["x-foo", "compress", "gzip, x-foo", "br, br, br, br, br"])
    func unknownCodingOrTooManyLayersAreRefusedUnderTheRuleThatNeedsTheBody(coding: String) async throws {
        let world = try await PolicyWorld.make()
        let proxy = try await world.proxy(try world.shippedPolicy())
        // Whatever the bytes are, meshgate cannot read them; the origin perhaps can.
        for body in [Self.toolsCall, Self.secret] {
            let response = try await post(Self.disguised(body), coding: coding, world: world, proxy: proxy)
            #expect(response.status == 403, "\(coding): \(response.bodyText.prefix(200))")
            #expect(response.headers.contains("X-Meshgate-Rule: shadow-mcp-structural"), "\(response.headers)")
            #expect(response.headers.contains("X-Meshgate-Action: block"))
            let line = try #require(proxy.audit.events.last).jsonLine()
            #expect(line.contains(#""action":"block""#) && line.contains(#""detections":["Undecodable body"]"#), "\(line)")
            #expect(line.contains("not inspected"), "the audit line says why: \(line)")
        }
        #expect(world.shadow.requests.isEmpty)
        await proxy.stop()
        await world.close()
    }

    @Test func withTheDLPRulesetAloneTheSecretRuleRefusesEncodedAndUndecodableBodies() async throws {
        let world = try await PolicyWorld.make()
        let dlp = URL(fileURLWithPath: ServeCommandTests.repositoryRoot).appendingPathComponent("rulesets/dlp-secrets.yaml")
        let proxy = try await world.proxy(try world.policy(try String(contentsOf: dlp, encoding: .utf8)))
        for coding in Self.decodable + ["x-foo"] {
            let body = Self.decodable.contains(coding) ? Self.secret : Self.disguised(Self.secret)
            let response = try await post(body, coding: coding, world: world, proxy: proxy)
            #expect(response.status == 403, "\(coding): \(response.bodyText.prefix(200))")
            #expect(response.headers.contains("X-Meshgate-Rule: dlp-secrets-block"), "\(coding): \(response.headers)")
            let line = try #require(proxy.audit.events.last).jsonLine()
            let detection = coding == "x-foo" ? "Undecodable body" : "AWS Access Key ID"
            #expect(line.contains(#""detections":["\#(detection)"]"#), "\(coding): \(line)")
        }
        #expect(world.shadow.requests.isEmpty, "no secret leaves")
        await proxy.stop()
        await world.close()
    }

    @Test(arguments: ["br", "zstd", "gzip, br"])
    func corruptDataIsRefused(coding: String) async throws {
        let world = try await PolicyWorld.make()
        let proxy = try await world.proxy(try world.shippedPolicy())
        var body = try Self.encode(Self.secret, coding: coding)
        body.removeLast(body.count / 3)
        let response = try await post(body, coding: coding, world: world, proxy: proxy, encoded: true)
        #expect(response.status == 403, "\(response.bodyText.prefix(200))")
        #expect(response.headers.contains("X-Meshgate-Rule: shadow-mcp-structural"))
        let line = try #require(proxy.audit.events.last).jsonLine()
        #expect(line.contains("Undecodable body"), "\(line)")
        #expect(world.shadow.requests.isEmpty)
        await proxy.stop()
        await world.close()
    }

    @Test func undecodableAllowLetsAnUnknownCodingThroughAndAuditsIt() async throws {
        let world = try await PolicyWorld.make()
        let proxy = try await world.proxy(try world.shippedPolicy()) { $0.undecodable = .allow }
        let body = Self.disguised(Self.secret)
        let response = try await post(body, coding: "x-foo", world: world, proxy: proxy)
        #expect(response.status == 200, "\(response.bodyText.prefix(200))")
        #expect(response.body.suffix(body.count) == Data(body), "forwarded byte for byte")
        #expect(world.shadow.requests == ["POST /v2/rpc"])
        let line = try #require(proxy.audit.events.last).jsonLine()
        #expect(line.contains(#""action":"allow""#) && line.contains(#""detections":["Undecodable body"]"#), "\(line)")
        await proxy.stop()
        await world.close()
    }

    @Test func headOnlyDecisionsDoNotNeedTheBodyDecoded() async throws {
        // The portal is allowed by host before any body rule: an unknown coding there is fine.
        let world = try await PolicyWorld.make()
        let proxy = try await world.proxy(try world.shippedPolicy())
        let response = try await Curl.fetch("https://portal.test:\(world.portal.port)/mcp", proxy: proxy.url, extra: [
            "--cacert", world.pki.meshgateCAPath, "-H", "Content-Encoding: x-foo", "--data-binary", "opaque",
        ])
        #expect(response.status == 200)
        #expect(response.bodyText.hasPrefix("origin portal got POST /mcp"))
        await proxy.stop()
        await world.close()
    }

    @Test func contentEncodingSplitOverTwoHeaderLinesIsDecodedWhole() async throws {
        let world = try await PolicyWorld.make()
        let proxy = try await world.proxy(try world.shippedPolicy())
        let body = try Self.encode(Self.toolsCall, coding: "gzip, br")
        let file = world.pki.directory.appendingPathComponent("split.bin")
        try Data(body).write(to: file)
        let response = try await Curl.fetch("https://api.shadow.test:\(world.shadow.port)/v2/rpc", proxy: proxy.url, extra: [
            "--cacert", world.pki.meshgateCAPath, "-H", "Content-Encoding: gzip", "-H", "Content-Encoding: br",
            "--data-binary", "@\(file.path)",
        ])
        #expect(response.headers.contains("X-Meshgate-Rule: shadow-mcp-structural"), "\(response.status) \(response.headers)")
        #expect(world.shadow.requests.isEmpty)
        await proxy.stop()
        await world.close()
    }

    @Test(arguments: ["gzip, chunked", "deflate, chunked", "identity, chunked"])
    func transferCodingsOtherThanChunkedGet501AndAreNotForwarded(transferEncoding: String) async throws {
        let world = try await PolicyWorld.make()
        let proxy = try await world.proxy(try world.shippedPolicy())
        let body = PolicyEndToEndTests.gzip(Self.toolsCall)
        var raw = "POST http://api.shadow.test:\(world.plainShadow.port)/v2/rpc HTTP/1.1\r\nHost: api.shadow.test\r\n"
            + "Transfer-Encoding: \(transferEncoding)\r\nConnection: close\r\n\r\n"
        raw += String(body.count, radix: 16) + "\r\n" + String(decoding: body, as: UTF8.self) + "\r\n0\r\n\r\n"
        let reply = try await RawClient.exchange(port: proxy.port, send: raw)
        #expect(reply.hasPrefix("HTTP/1.1 501"), "\(reply.prefix(300))")
        #expect(reply.contains("chunked"), "the reply says what is supported: \(reply.prefix(300))")
        #expect(world.plainShadow.requests.isEmpty, "nothing reaches the origin")
        let line = try #require(proxy.audit.events.last).jsonLine()
        #expect(line.contains(#""action":"block""#) && line.contains(#""status":501"#), "\(line)")
        await proxy.stop()
        await world.close()
    }

    // MARK: - rules test

    @Test(arguments: decodable)
    func rulesTestSeesThroughDecodableCodings(coding: String) throws {
        let configuration = try Self.rulesTestConfiguration()
        let mcp = try Self.rulesTest(try Self.encode(Self.toolsCall, coding: coding), coding: coding, configuration: configuration)
        #expect(mcp["action"] as? String == "reroute")
        #expect(mcp["rule"] as? String == "shadow-mcp-structural")
        #expect(mcp["mcp_method"] as? String == "tools/call")
        let dlp = try Self.rulesTest(try Self.encode(Self.secret, coding: coding), coding: coding, configuration: configuration)
        #expect(dlp["action"] as? String == "block")
        #expect(dlp["rule"] as? String == "dlp-secrets-block")
        #expect(dlp["detections"] as? [String] == ["AWS Access Key ID"])
    }

    @Test func rulesTestRefusesAnUndecodableBodyUnlessAllowed() throws {
        let blocking = try Self.rulesTest(Self.disguised(Self.toolsCall), coding: "x-foo", configuration: try Self.rulesTestConfiguration())
        #expect(blocking["action"] as? String == "block")
        #expect(blocking["rule"] as? String == "shadow-mcp-structural")
        #expect(blocking["detections"] as? [String] == ["Undecodable body"])

        let allowing = try Self.rulesTest(Self.disguised(Self.toolsCall), coding: "x-foo",
                                          configuration: try Self.rulesTestConfiguration(undecodable: "allow"))
        #expect(allowing["action"] as? String == "allow")
        #expect(allowing["detections"] as? [String] == ["Undecodable body"])
    }

    @Test func rulesTestCommandWithABrotliBodyFile() async throws {
        // The report's reproduction, with the built executable: `--header 'Content-Encoding: br' --body @FILE`.
        let binary = ServeCommandTests.binary
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            Issue.record("build the executable first (swift build): \(binary)")
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("meshgate-evasion-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try Self.writeRulesTestConfig(in: directory)
        let file = directory.appendingPathComponent("toolscall.br")
        try Data(try Self.encode(Self.toolsCall, coding: "br")).write(to: file)
        let run = try await ProcessRunner.run(binary, ["rules", "test", "--config", config, "--url", "https://api.example.org/rpc",
                                                       "--method", "POST", "--header", "Content-Encoding: br", "--body", "@\(file.path)"])
        #expect(run.exitCode == 0, "\(run.stderr)")
        let decision = try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
        #expect(decision["action"] as? String == "reroute")
        #expect(decision["rule"] as? String == "shadow-mcp-structural")
    }

    // MARK: - Helpers

    /// POSTs `body` (encoded with `coding` unless `encoded`) to the shadow origin through the proxy, intercepted.
    private func post(_ body: [UInt8], coding: String, world: PolicyWorld, proxy: TestProxy, encoded: Bool = false) async throws -> Curl.Response {
        let bytes = encoded || !Self.decodable.contains(coding) ? body : try Self.encode(body, coding: coding)
        let file = world.pki.directory.appendingPathComponent("body-\(UUID().uuidString).bin")
        try Data(bytes).write(to: file)
        return try await Curl.fetch("https://api.shadow.test:\(world.shadow.port)/v2/rpc", proxy: proxy.url, extra: [
            "--cacert", world.pki.meshgateCAPath, "-H", "Content-Encoding: \(coding)", "-H", "Content-Type: application/json",
            "--data-binary", "@\(file.path)",
        ])
    }

    /// `body` made unreadable to anyone without the (imaginary) coding: bytes reversed and flipped.
    static func disguised(_ body: [UInt8]) -> [UInt8] { body.reversed().map { $0 ^ 0x80 } }

    /// `body` with each coding of a Content-Encoding value applied in order.
    static func encode(_ body: [UInt8], coding: String) throws -> [UInt8] {
        try coding.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.reduce(body) { data, name in
            switch name {
            case "gzip": return PolicyEndToEndTests.gzip(data)
            case "br": return try brotli(data)
            case "zstd": return try zstd(data)
            default: throw EncodingFailed(coding: name)
            }
        }
    }

    struct EncodingFailed: Error { var coding: String }

    static func brotli(_ input: [UInt8]) throws -> [UInt8] {
        var size = BrotliEncoderMaxCompressedSize(input.count)
        var output = [UInt8](repeating: 0, count: size)
        let ok = input.withUnsafeBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { BrotliEncoderCompress(9, 22, BROTLI_MODE_GENERIC, inBuf.count, inBuf.baseAddress, &size, $0.baseAddress) }
        }
        guard ok == BROTLI_TRUE else { throw EncodingFailed(coding: "br") }
        return Array(output.prefix(size))
    }

    static func zstd(_ input: [UInt8]) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
        let written = input.withUnsafeBytes { inBuf in
            output.withUnsafeMutableBytes { ZSTD_compress($0.baseAddress, $0.count, inBuf.baseAddress, inBuf.count, 3) }
        }
        guard ZSTD_isError(written) == 0 else { throw EncodingFailed(coding: "zstd") }
        return Array(output.prefix(written))
    }

    /// A configuration running both shipped rulesets, as `rules test --config` reads it.
    static func writeRulesTestConfig(in directory: URL, undecodable: String? = nil) throws -> String {
        let root = URL(fileURLWithPath: ServeCommandTests.repositoryRoot)
        let shipped = ["rulesets/shadow-mcp.yaml", "rulesets/dlp-secrets.yaml"].map { root.appendingPathComponent($0).path }
        let path = directory.appendingPathComponent("meshgate.yaml").path
        try """
            state_dir: ./state
            portal: https://portal.example.com/mcp
            rulesets: [\(shipped.joined(separator: ", "))]
            \(undecodable.map { "inspection:\n  undecodable: \($0)" } ?? "")
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func rulesTestConfiguration(undecodable: String? = nil) throws -> MeshgateConfiguration {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("meshgate-evasion-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return try MeshgateConfiguration.load(path: try writeRulesTestConfig(in: directory, undecodable: undecodable))
    }

    static func rulesTest(_ body: [UInt8], coding: String, configuration: MeshgateConfiguration) throws -> [String: Any] {
        let request = RulesCommands.TestRequest(url: "https://api.example.org/rpc", method: "POST",
                                                headers: [("Content-Encoding", coding)], body: body, identity: nil)
        let output = try RulesCommands.test(request, configuration: configuration)
        return try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], "\(output)")
    }
}
