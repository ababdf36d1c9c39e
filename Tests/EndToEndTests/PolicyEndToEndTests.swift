import CZlib
import Foundation
import MeshgatePolicy
import Testing

/// Policy decisions as clients see them through the proxy (curl, raw sockets), with real origins.
@Suite(.serialized) struct PolicyEndToEndTests {
    static let blockRules = #"""
        ruleset: e2e-block
        version: "1"
        rules:
          - id: block-mcp-body
            match: { body: [mcp] }
            action: block
          - id: block-browser-host
            match: { host: ["browser.shadow.test"] }
            action: block
          - id: send-old-path-to-portal
            match: { path: ["/old/*"] }
            action: redirect
            target: portal
          - id: block-spliced
            match: { host: ["*.spliced.test"] }
            action: block
          - id: probe-header
            match: { header: { X-Probe: '(a+)+$' } }
            action: block
        dlp_profiles:
          mcp:
            patterns:
              - { name: MCP Tools Call, regex: '"method"\s{0,5}:\s{0,5}"tools/call"' }
        """#

    @Test func blockedJSONRPCGetsAJSONRPCErrorWithItsID() async throws {
        let world = try await PolicyWorld.make()
        let proxy = try await world.proxy(try world.policy(Self.blockRules))
        let url = "https://api.shadow.test:\(world.shadow.port)/rpc"
        let single = try await Curl.fetch(url, proxy: proxy.url, extra: ["--cacert", world.pki.meshgateCAPath, "-H", "Content-Type: application/json",
            "--data-binary", #"{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"deploy"}}"#])
        #expect(single.status == 403)
        #expect(single.headers.contains("X-Meshgate-Rule: block-mcp-body"))
        #expect(single.headers.contains("X-Meshgate-Action: block"))
        let error = try #require(try JSONSerialization.jsonObject(with: single.body) as? [String: Any])
        #expect(error["id"] as? Int == 42)
        let detail = try #require(error["error"] as? [String: Any])
        #expect(detail["code"] as? Int == -32001)
        #expect((detail["message"] as? String)?.contains("block-mcp-body") == true)
        #expect((detail["message"] as? String)?.contains(world.portalURL) == true)

        let batch = try await Curl.fetch(url, proxy: proxy.url, extra: ["--cacert", world.pki.meshgateCAPath, "--data-binary",
            #"[{"jsonrpc":"2.0","id":1,"method":"tools/call"},{"jsonrpc":"2.0","method":"notifications/progress"},{"jsonrpc":"2.0","id":"b","method":"tools/call"}]"#])
        #expect(batch.status == 403)
        let errors = try #require(try JSONSerialization.jsonObject(with: batch.body) as? [[String: Any]])
        #expect(errors.count == 2, "one error per request id; the notification has none")
        #expect(errors.first?["id"] as? Int == 1)
        #expect(errors.last?["id"] as? String == "b")
        #expect(world.shadow.requests.isEmpty, "a blocked request never reaches the origin")

        let line = try #require(proxy.audit.events.last).jsonLine()
        #expect(line.contains(#""action":"block""#) && line.contains(#""rule":"block-mcp-body""#) && line.contains(#""mcp_method":"tools/call""#))
        #expect(line.contains(#""detections":["MCP Tools Call"]"#))
        await proxy.stop()
        await world.close()
    }

    @Test func blockIsHTMLForBrowsersAndJSONForOthers() async throws {
        let world = try await PolicyWorld.make()
        let proxy = try await world.proxy(try world.policy(Self.blockRules))
        let url = "https://browser.shadow.test:\(world.shadow.port)/"
        let html = try await Curl.fetch(url, proxy: proxy.url, extra: ["--cacert", world.pki.meshgateCAPath, "-H", "Accept: text/html,application/xhtml+xml"])
        #expect(html.status == 403)
        #expect(html.headers.lowercased().contains("content-type: text/html"))
        #expect(html.bodyText.contains("Blocked by meshgate") && html.bodyText.contains("block-browser-host"))
        let json = try await Curl.fetch(url, proxy: proxy.url, extra: ["--cacert", world.pki.meshgateCAPath])
        let object = try #require(try JSONSerialization.jsonObject(with: json.body) as? [String: Any])
        let error = try #require(object["error"] as? [String: Any])
        #expect(error["code"] as? String == "blocked")
        #expect(error["rule"] as? String == "block-browser-host")
        #expect(error["portal"] as? String == world.portalURL)
        await proxy.stop()
        await world.close()
    }

    @Test func redirectIsA307ToTheTarget() async throws {
        let world = try await PolicyWorld.make()
        let proxy = try await world.proxy(try world.policy(Self.blockRules))
        let response = try await Curl.fetch("http://127.0.0.1:\(world.plainShadow.port)/old/page", proxy: proxy.url)
        #expect(response.status == 307)
        #expect(response.headers.contains("Location: \(world.portalURL)"))
        #expect(response.headers.contains("X-Meshgate-Action: redirect"))
        #expect(world.plainShadow.requests.isEmpty)
        await proxy.stop()
        await world.close()
    }

    @Test func pipelinedRequestsGetLocalAndForwardedAnswersInOrder() async throws {
        let world = try await PolicyWorld.make()
        let proxy = try await world.proxy(try world.policy(Self.blockRules))
        let base = "http://127.0.0.1:\(world.plainShadow.port)"
        let requests = ["/old/a", "/hello", "/old/b", "/hello"].enumerated().map { index, path in
            "GET \(base)\(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(index == 3 ? "Connection: close\r\n" : "")\r\n"
        }
        let (reply, closed) = try await RawClient.exchangeWithClose(port: proxy.port, send: requests.joined(), timeout: .seconds(8))
        let statuses = reply.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0.prefix(3)) }
        #expect(statuses == ["307", "200", "307", "200"], "got: \(reply)")
        #expect(closed, "the last request asked for the connection to close")
        #expect(world.plainShadow.requests.count == 2)
        await proxy.stop()
        await world.close()
    }

    @Test func rerouteSendsTheRequestItselfToThePortal() async throws {
        let world = try await PolicyWorld.make()
        let proxy = try await world.proxy(try world.shippedPolicy())
        let body = #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#
        let response = try await Curl.fetch("https://mcp.shadow.test:\(world.shadow.port)/mcp", proxy: proxy.url,
            extra: ["--cacert", world.pki.meshgateCAPath, "-H", "Content-Type: application/json", "--data-binary", body])
        #expect(response.status == 200)
        #expect(response.bodyText == "origin portal got POST /mcp host=portal.test:\(world.portal.port) body=\(body)", "\(response.bodyText)")
        #expect(response.headers.contains("X-Meshgate-Action: reroute"))
        #expect(response.headers.contains("X-Meshgate-Rule: shadow-mcp-structural"))
        #expect(world.shadow.requests.isEmpty, "a rerouted request never reaches the shadow server")
        // The line is written when the origin's response ends, which can be just after curl has
        // read every byte that Content-Length announced.
        try await eventually { !proxy.audit.events.isEmpty }
        let line = try #require(proxy.audit.events.last).jsonLine()
        #expect(line.contains(#""host":"mcp.shadow.test""#) && line.contains(#""path":"/mcp""#))
        #expect(line.contains(#""target":"\#(world.portalURL)""#))
        await proxy.stop()
        await world.close()
    }

    @Test func gzipAndChunkSplitMethodNamesAreStillCaught() async throws {
        let world = try await PolicyWorld.make()
        let proxy = try await world.proxy(try world.shippedPolicy())
        // gzip'ed JSON-RPC to a host and path that say nothing about MCP.
        let body = Array(#"{"params":{"name":"x"},"jsonrpc":"2.0","id":9,"method":"tools\u002fcall"}"#.utf8)
        let gz = world.pki.directory.appendingPathComponent("body.gz")
        try Data(Self.gzip(body)).write(to: gz)
        let gzipped = try await Curl.fetch("https://api.shadow.test:\(world.shadow.port)/v2/rpc", proxy: proxy.url, extra: [
            "--cacert", world.pki.meshgateCAPath, "-H", "Content-Encoding: gzip", "-H", "Content-Type: application/octet-stream", "--data-binary", "@\(gz.path)",
        ])
        // The portal URL's path replaces the original (contract: "What a client sees", reroute).
        #expect(gzipped.bodyText.hasPrefix("origin portal got POST /mcp"), "\(gzipped.bodyText.prefix(200))")
        #expect(gzipped.headers.contains("X-Meshgate-Rule: shadow-mcp-structural"))

        // Chunked upload whose chunk boundary falls inside the method name.
        let chunks = [#"{"jsonrpc":"2.0","id":1,"metho"#, #"d":"resources/re"#, #"ad"}"#]
        let raw = "POST http://api.shadow.test:\(world.plainShadow.port)/v2/rpc HTTP/1.1\r\nHost: api.shadow.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            + chunks.map { String($0.utf8.count, radix: 16) + "\r\n" + $0 + "\r\n" }.joined() + "0\r\n\r\n"
        let reply = try await RawClient.exchange(port: proxy.port, send: raw)
        #expect(reply.contains("origin portal got POST /mcp"), "\(reply.prefix(400))")
        #expect(reply.contains("X-Meshgate-Rule: shadow-mcp-structural"))
        #expect(world.plainShadow.requests.isEmpty)
        await proxy.stop()
        await world.close()
    }

    @Test func gzipBombAndCatastrophicPatternDoNotStall() async throws {
        let world = try await PolicyWorld.make()
        let proxy = try await world.proxy(try world.policy(Self.blockRules)) { $0.maxInspectedBodyBytes = 64 * 1024 }
        // 20 MiB of zeros in about 20 KB: inflating stops at the inspection cap.
        let bomb = world.pki.directory.appendingPathComponent("bomb.gz")
        try Data(Self.gzip([UInt8](repeating: 0, count: 20 << 20))).write(to: bomb)
        let started = Date()
        let response = try await Curl.fetch("https://api.shadow.test:\(world.shadow.port)/rpc", proxy: proxy.url, extra: [
            "--cacert", world.pki.meshgateCAPath, "-H", "Content-Encoding: gzip", "--data-binary", "@\(bomb.path)",
        ])
        #expect(response.status == 200, "the bomb is forwarded unchanged once decided: \(response.stderr)")
        // A pattern that backtracks catastrophically hits PCRE2's match limit instead of hanging.
        let probe = String(repeating: "a", count: 30_000) + "!"
        let probed = try await Curl.fetch("https://api.shadow.test:\(world.shadow.port)/rpc", proxy: proxy.url, extra: [
            "--cacert", world.pki.meshgateCAPath, "-H", "X-Probe: \(probe)", "--data-binary", "{}",
        ])
        // A header the regex could not finish on counts as matching its block rule (on_match_error: block).
        #expect(probed.status == 403)
        #expect(Date().timeIntervalSince(started) < 30, "both requests finish; neither stalls the proxy")
        let line = try #require(proxy.audit.events.last).jsonLine()
        #expect(line.contains("Detection error: probe-header"), "\(line)")
        #expect(line.contains("Match limit: header 'x-probe'") && line.contains(#""rule":"probe-header""#), "\(line)")
        await proxy.stop()
        await world.close()
    }

    static let catastrophicRules = #"""
        ruleset: e2e-match-limit
        version: "1"
        rules:
          - id: nested-repeat-body
            match: { body: [nested] }
            action: block
        dlp_profiles:
          nested:
            patterns:
              - { name: Nested Repeat, regex: '(a+)+$' }
        """#

    @Test func aBodyPatternThatHitsTheMatchLimitBlocksByDefault() async throws {
        let world = try await PolicyWorld.make()
        let url = "https://api.shadow.test:\(world.shadow.port)/rpc"
        let body = String(repeating: "a", count: 4096) + "!"
        let proxy = try await world.proxy(try world.policy(Self.catastrophicRules))
        let blocked = try await Curl.fetch(url, proxy: proxy.url, extra: ["--cacert", world.pki.meshgateCAPath, "--data-binary", body])
        #expect(blocked.status == 403, "\(blocked.bodyText.prefix(200))")
        #expect(blocked.headers.contains("X-Meshgate-Rule: nested-repeat-body"))
        #expect(world.shadow.requests.isEmpty, "the body that could not be inspected never reaches the origin")
        let line = try #require(proxy.audit.events.last).jsonLine()
        #expect(line.contains(#""action":"block""#) && line.contains(#""rule":"nested-repeat-body""#), "\(line)")
        #expect(line.contains("Match limit: Nested Repeat"), "\(line)")
        // A body the pattern answers for quickly is inspected as usual: no match, forwarded.
        let clean = try await Curl.fetch(url, proxy: proxy.url, extra: ["--cacert", world.pki.meshgateCAPath, "--data-binary", "hello"])
        #expect(clean.status == 200)
        await proxy.stop()

        // inspection.on_match_error: allow keeps the old behaviour: no match, the error audited.
        let file = world.pki.directory.appendingPathComponent("match-limit-allow.yaml").path
        try Self.catastrophicRules.write(toFile: file, atomically: true, encoding: .utf8)
        let lenient = try PolicyEngine.load(files: [file], regexCompiler: PCRE2RegexCompiler(), portal: world.portalURL, onMatchError: .allow)
        let allowing = try await world.proxy(lenient)
        let forwarded = try await Curl.fetch(url, proxy: allowing.url, extra: ["--cacert", world.pki.meshgateCAPath, "--data-binary", body])
        #expect(forwarded.status == 200)
        let allowed = try #require(allowing.audit.events.last).jsonLine()
        #expect(allowed.contains("Detection error: nested-repeat-body") && !allowed.contains("Match limit"), "\(allowed)")
        await allowing.stop()
        await world.close()
    }

    @Test func hostBlockOnASplicedHostRefusesTheConnect() async throws {
        let world = try await PolicyWorld.make()
        let proxy = try await world.proxy(try world.policy(Self.blockRules)) {
            $0.doNotInspect = .init([.init("*.spliced.test")].compactMap { $0 })
        }
        let response = try await Curl.fetch("https://x.spliced.test:\(world.shadow.port)/", proxy: proxy.url, extra: ["-v", "--cacert", world.pki.originCAPath])
        #expect(response.stderr.contains("403"), "\(response.stderr)")
        #expect(world.shadow.connectionCount == 0)
        let line = try #require(proxy.audit.events.last).jsonLine()
        #expect(line.contains(#""method":"CONNECT""#) && line.contains(#""rule":"block-spliced""#))
        await proxy.stop()
        await world.close()
    }

    /// A ClientHello naming a host on `do_not_inspect` in a tunnel to another CONNECT host is
    /// intercepted, not spliced: the tunnel would go to the CONNECT host, which no rule looked at.
    @Test func aSplicedSNIInATunnelToAnotherHostIsInspected() async throws {
        let world = try await PolicyWorld.make()
        let proxy = try await world.proxy(try world.shippedPolicy()) {
            $0.doNotInspect = .init([.init("*.spliced.test")].compactMap { $0 })
        }
        let port = world.shadow.port
        // curl sends CONNECT api.shadow.test and a ClientHello for x.spliced.test.
        let response = try await Curl.fetch("https://x.spliced.test:\(port)/v2/rpc", proxy: proxy.url, extra: [
            "--connect-to", "x.spliced.test:\(port):api.shadow.test:\(port)", "--insecure",  // as an evader would: any certificate will do
            "-H", "Content-Type: application/json", "--data-binary", #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}"#,
        ])
        #expect(response.bodyText.hasPrefix("origin portal got POST /mcp"), "intercepted and rerouted: \(response.status) \(response.stderr.suffix(400))")
        #expect(world.shadow.requests.isEmpty, "nothing reached the CONNECT host uninspected")
        await proxy.stop()
        await world.close()
    }

    @Test func legacySSEHandshakeInTheResponseIsCut() async throws {
        let world = try await PolicyWorld.make()
        let proxy = try await world.proxy(try world.shippedPolicy())
        let response = try await Curl.fetch("https://api.shadow.test:\(world.shadow.port)/events", proxy: proxy.url, extra: ["--cacert", world.pki.meshgateCAPath])
        #expect(!response.bodyText.contains("sessionId=abc123"), "the client must not learn the shadow server's endpoint: \(response.bodyText)")
        try await eventually { proxy.audit.events.contains { $0.jsonLine().contains("legacy MCP SSE stream cut") } }
        let line = try #require(proxy.audit.events.last).jsonLine()
        #expect(line.contains(#""action":"block""#) && line.contains("MCP SSE") && line.contains(#""rule":"shadow-mcp-structural""#), "\(line)")
        await proxy.stop()
        await world.close()
    }

    /// A stock ticker's EventSource at `/sse` sends what a legacy MCP client sends; its answer is not
    /// `event: endpoint`, so it flows, and the path is only logged as a signal.
    @Test func anEventStreamAtSSEThatIsNotMCPFlowsAndIsLogged() async throws {
        let world = try await PolicyWorld.make()
        let proxy = try await world.proxy(try world.shippedPolicy())
        for _ in 0..<3 { world.shadow.releaseNextEvent() }
        let response = try await Curl.fetch("https://api.shadow.test:\(world.shadow.port)/sse", proxy: proxy.url,
                                            extra: ["--cacert", world.pki.meshgateCAPath, "-H", "Accept: text/event-stream", "-H", "Cache-Control: no-cache"])
        #expect(response.status == 200)
        #expect(response.bodyText == "data: event-1\n\ndata: event-2\n\ndata: event-3\n\n", "\(response.bodyText)")
        try await eventually { !proxy.audit.events.isEmpty }
        let line = try #require(proxy.audit.events.last).jsonLine()
        #expect(line.contains(#""action":"log""#) && line.contains(#""rule":"shadow-mcp-signal-path""#), "\(line)")
        await proxy.stop()
        await world.close()
    }

    static func gzip(_ input: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        deflateInit2_(&stream, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 64)
        var input = input
        input.withUnsafeMutableBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = UnsafePointer(inBuf.baseAddress)
                stream.avail_in = UInt32(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = UInt32(outBuf.count)
                deflate(&stream, Z_FINISH)
            }
        }
        let produced = Int(stream.total_out)
        deflateEnd(&stream)
        return Array(output.prefix(produced))
    }
}
