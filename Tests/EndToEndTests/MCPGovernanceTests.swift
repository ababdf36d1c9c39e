import Foundation
import MeshgateCore
import MeshgateInspection
import MeshgateJSON
import MeshgatePolicy
import Testing

/// MCP governance with the official MCP Python SDK against servers the test starts: a registry entry
/// pins a server's tools; the server redefines one tool after it was pinned (a rug pull) and
/// meshgate logs, blocks or filters the changed list; tool calls are refused by name.
@Suite(.serialized) struct MCPGovernanceTests {
    typealias SDK = MCPSDKTests

    struct Server {
        let process: StreamingClient
        let port: Int
        var host = "mcp.approved.test"
        var url: String { "https://\(host):\(port)/mcp" }
    }

    static func startServer(_ pki: TestPKI, host: String = "mcp.approved.test", tools: String, rugPullAfter: Int? = nil) async throws -> Server {
        let (cert, key) = try pki.writeOriginLeaf(host: host)
        var command = [SDK.python, SDK.fixtures.appendingPathComponent("mcp_server.py").path, "--name", "approved",
                       "--cert", cert, "--key", key, "--tools", tools]
        if let rugPullAfter { command += ["--rug-pull-after", String(rugPullAfter)] }
        let process = try StreamingClient(command)
        guard try await process.waitForOutput(containing: "\n", timeout: 30),
              let port = Int(process.text.split(separator: "\n").first.map(String.init) ?? "") else {
            process.terminate()
            throw SDK.SetupError(description: "MCP server did not start: \(process.text)")
        }
        return Server(process: process, port: port, host: host)
    }

    static func proxy(_ pki: TestPKI, server: Server, ruleset: String) async throws -> TestProxy {
        let file = pki.directory.appendingPathComponent("governance-\(UUID().uuidString).yaml").path
        try ruleset.write(toFile: file, atomically: true, encoding: .utf8)
        let policy = try PolicyEngine.load(files: [file], regexCompiler: PCRE2RegexCompiler())
        return try await TestProxy(group: TestGroup.shared, pki: pki, policy: policy) {
            $0.connectPorts = [443, server.port]
            $0.staticHosts = ["mcp.approved.test": "127.0.0.1"]
        }
    }

    /// `protocolMode` stateless gets JSON answers from the SDK's server; legacy (the initialize
    /// handshake, a session) gets each answer as an event stream.
    static func client(_ server: Server, proxy: TestProxy, pki: TestPKI, protocolMode: String = "stateless", extra: [String] = []) async throws -> [String: Any] {
        let result = try await ProcessRunner.run(SDK.python, [
            SDK.fixtures.appendingPathComponent("mcp_client.py").path, server.url, "--proxy", proxy.url, "--cafile", pki.meshgateCAPath,
            "--timeout", "20", "--protocol", protocolMode,
        ] + extra, timeout: 45, environment: Curl.environment)
        let line = result.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw SDK.SetupError(description: "client printed no JSON: \(result.stdoutText) \(result.stderr)")
        }
        return object
    }

    /// The pins for the server's honest tool list, as `mcp_servers[].tools` YAML: listed once through a
    /// proxy whose registry pins nothing (its first `tools/list` is still the honest one).
    static func pins(_ pki: TestPKI, server: Server) async throws -> String {
        let proxy = try await proxy(pki, server: server, ruleset: """
            ruleset: registry
            version: "1"
            mcp_servers:
              - { name: approved, urls: ["\(server.url)"] }
            rules: []
            """)
        defer { Task { await proxy.stop() } }
        let listed = try await client(server, proxy: proxy, pki: pki, extra: ["--dump-tools"])
        guard let definitions = listed["definitions"] as? [[String: Any]], !definitions.isEmpty else {
            throw SDK.SetupError(description: "no tool definitions: \(listed)")
        }
        var yaml = ""
        for definition in definitions {
            let data = try JSONSerialization.data(withJSONObject: definition)
            let tool = try JSONParser.parse([UInt8](data))
            yaml += "      - { name: \(definition["name"] as? String ?? "?"), digest: \"\(MCPToolDigest.digest(of: tool) ?? "?")\" }\n"
        }
        return yaml
    }

    static func registry(_ server: Server, pins: String, onDrift: String, rules: String = "rules: []") -> String {
        """
        ruleset: registry
        version: "1"
        mcp_servers:
          - name: approved
            urls: ["\(server.url)"]
            on_drift: \(onDrift)
            tools:
        \(pins)
        \(rules)
        """
    }

    static func driftLines(_ proxy: TestProxy) -> [[String: Any]] {
        proxy.audit.events.filter { $0.kind == .mcpDrift }.compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.jsonLine().utf8)) as? [String: Any]
        }
    }

    @Test func aPinnedServerWorksAndARugPullIsLogged() async throws {
        let pki = try TestPKI.make()
        let server = try await Self.startServer(pki, tools: "list_issues,summarise", rugPullAfter: 2)
        defer { server.process.terminate() }
        let pins = try await Self.pins(pki, server: server)
        let profile = """
            rules: []
            dlp_profiles:
              mcp-tool-descriptions:
                patterns:
                  - { name: Hidden instruction tag, regex: '(?i)<\\s{0,3}/?\\s{0,3}important\\s{0,3}>' }
            """
        let proxy = try await Self.proxy(pki, server: server, ruleset: Self.registry(server, pins: pins, onDrift: "log", rules: profile))
        // The second listing is still honest: a pinned server works, and nothing is reported.
        let honest = try await Self.client(server, proxy: proxy, pki: pki, extra: ["--call", "list_issues"])
        #expect(honest["ok"] as? Bool == true, "\(honest)")
        #expect(honest["tools"] as? [String] == ["list_issues", "summarise"])
        #expect(honest["result"] as? String == "approved:list_issues:hello")
        #expect(Self.driftLines(proxy).isEmpty)
        let lines = proxy.audit.events.map { $0.jsonLine() }
        #expect(lines.contains { $0.contains(#""mcp_server":"approved""#) && $0.contains(#""mcp_tool":"list_issues""#) }, "\(lines)")
        #expect(lines.allSatisfy { $0.contains(#""request_id":""#) })

        // The third listing redefines `summarise`: logged, passed on.
        let pulled = try await Self.client(server, proxy: proxy, pki: pki)
        #expect(pulled["tools"] as? [String] == ["list_issues", "summarise"], "on_drift: log passes the list: \(pulled)")
        let drift = Self.driftLines(proxy)
        #expect(drift.count == 1, "\(drift)")
        #expect(drift.first?["event"] as? String == "mcp_drift")
        #expect(drift.first?["mcp_server"] as? String == "approved")
        #expect(drift.first?["tool"] as? String == "summarise")
        #expect(drift.first?["change"] as? String == "changed")
        #expect(drift.first?["action"] as? String == "log")
        #expect((drift.first?["old_digest"] as? String)?.hasPrefix("sha256:") == true)
        #expect(drift.first?["old_digest"] as? String != drift.first?["new_digest"] as? String)
        // The hidden instruction in the new description is a detection on the exchange's line.
        let poisoned = proxy.audit.events.filter { $0.detections.contains("Tool poisoning: Hidden instruction tag in 'summarise'") }
        #expect(poisoned.count == 1, "\(proxy.audit.events.map(\.detections))")
        #expect(poisoned.first?.detections.contains("MCP drift") == true)
        await proxy.stop()
    }

    @Test(arguments: ["stateless", "legacy"])
    func onDriftBlockGivesTheSDKAJSONRPCError(protocolMode: String) async throws {
        let pki = try TestPKI.make()
        let server = try await Self.startServer(pki, tools: "list_issues,summarise", rugPullAfter: 1)
        defer { server.process.terminate() }
        let pins = try await Self.pins(pki, server: server)
        let proxy = try await Self.proxy(pki, server: server, ruleset: Self.registry(server, pins: pins, onDrift: "block"))
        let result = try await Self.client(server, proxy: proxy, pki: pki, protocolMode: protocolMode)
        #expect(result["ok"] as? Bool == false, "\(result)")
        let error = result["jsonrpc_error"] as? [String: Any]
        #expect(error?["code"] as? Int == -32001, "\(result)")
        #expect((error?["message"] as? String)?.contains("summarise changed") == true, "\(result)")
        let drift = Self.driftLines(proxy)
        #expect(drift.map { $0["tool"] as? String } == ["summarise"])
        #expect(drift.first?["action"] as? String == "block")
        // The http line is written when the exchange ends, which for an event stream can be just after the SDK is done.
        let audit = proxy.audit
        try await eventually(timeout: 15) { audit.events.contains { $0.kind == .http && $0.action == .block && $0.detections.contains("MCP drift") } }
        if !audit.events.contains(where: { $0.kind == .http && $0.action == .block }) {
            Issue.record("http lines: \(audit.events.filter { $0.kind == .http }.map { $0.jsonLine() })")
        }
        await proxy.stop()
    }

    @Test(arguments: ["stateless", "legacy"])
    func onDriftFilterRemovesTheChangedTool(protocolMode: String) async throws {
        let pki = try TestPKI.make()
        let server = try await Self.startServer(pki, tools: "list_issues,summarise", rugPullAfter: 1)
        defer { server.process.terminate() }
        let pins = try await Self.pins(pki, server: server)
        let proxy = try await Self.proxy(pki, server: server, ruleset: Self.registry(server, pins: pins, onDrift: "filter"))
        let result = try await Self.client(server, proxy: proxy, pki: pki, protocolMode: protocolMode, extra: ["--call", "list_issues"])
        #expect(result["ok"] as? Bool == true, "\(result)")
        #expect(result["tools"] as? [String] == ["list_issues"], "the changed tool is gone from the agent's list: \(result)")
        #expect(Self.driftLines(proxy).map { $0["action"] as? String } == ["filter"])
        await proxy.stop()
    }

    @Test func aDisallowedToolIsRefusedByName() async throws {
        let pki = try TestPKI.make()
        let server = try await Self.startServer(pki, tools: "list_issues,create_issue")
        defer { server.process.terminate() }
        let proxy = try await Self.proxy(pki, server: server, ruleset: """
            ruleset: registry
            version: "1"
            mcp_servers:
              - { name: approved, urls: ["\(server.url)"] }
            rules:
              - id: no-writes
                match: { mcp_server: approved, mcp_tool: ["create_*", "delete_*"] }
                action: block
            """)
        let allowed = try await Self.client(server, proxy: proxy, pki: pki, extra: ["--call", "list_issues"])
        #expect(allowed["result"] as? String == "approved:list_issues:hello", "\(allowed)")
        let refused = try await Self.client(server, proxy: proxy, pki: pki, extra: ["--call", "create_issue"])
        #expect(refused["ok"] as? Bool == false, "\(refused)")
        let error = refused["jsonrpc_error"] as? [String: Any]
        #expect(error?["code"] as? Int == -32001, "\(refused)")
        let message = error?["message"] as? String ?? ""
        #expect(message.contains("no-writes") && message.contains("create_issue"), "\(refused)")
        let lines = proxy.audit.events.map { $0.jsonLine() }
        #expect(lines.contains { $0.contains(#""action":"block""#) && $0.contains(#""rule":"no-writes""#) && $0.contains(#""mcp_tool":"create_issue""#) },
                "\(lines.joined(separator: "\n"))")

        // A batch (2025-03-26 allowed them) with one disallowed call: every request gets its error,
        // each naming its own tool.
        let batch = #"[{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"list_issues","arguments":{}}},"#
            + #"{"jsonrpc":"2.0","id":"b","method":"tools/call","params":{"name":"delete_repo","arguments":{}}}]"#
        let response = try await Curl.fetch(server.url, proxy: proxy.url, extra: [
            "--cacert", pki.meshgateCAPath, "-X", "POST", "-H", "Content-Type: application/json",
            "-H", "Accept: application/json, text/event-stream", "-H", "MCP-Protocol-Version: 2025-03-26", "--data-binary", batch,
        ])
        #expect(response.status == 403, "\(response.bodyText)")
        let errors = (try? JSONSerialization.jsonObject(with: response.body)) as? [[String: Any]] ?? []
        #expect(errors.count == 2, "\(response.bodyText)")
        #expect((errors.first?["id"] as? Int) == 7)
        #expect((errors.last?["id"] as? String) == "b")
        let tools = errors.map { (($0["error"] as? [String: Any])?["data"] as? [String: Any])?["tool"] as? String }
        #expect(tools == ["list_issues", "delete_repo"], "\(response.bodyText)")
        await proxy.stop()
    }

    @Test func anUnregisteredServerIsRefusedAndARegisteredOneIsNot() async throws {
        let pki = try TestPKI.make()
        let server = try await Self.startServer(pki, tools: "list_issues")
        defer { server.process.terminate() }
        // Registered under another path: this endpoint is Shadow MCP.
        let proxy = try await Self.proxy(pki, server: server, ruleset: """
            ruleset: registry
            version: "1"
            mcp_servers:
              - { name: approved, urls: ["https://mcp.approved.test:\(server.port)/other"] }
            rules:
              - { id: unregistered-mcp, match: { mcp_server: unregistered }, action: block }
            """)
        let refused = try await Self.client(server, proxy: proxy, pki: pki)
        #expect(refused["ok"] as? Bool == false, "\(refused)")
        #expect(((refused["jsonrpc_error"] as? [String: Any])?["message"] as? String)?.contains("unregistered-mcp") == true, "\(refused)")
        #expect(proxy.audit.events.contains { $0.rule == "unregistered-mcp" && $0.jsonLine().contains(#""mcp_server":null"#) })
        await proxy.stop()

        let registered = try await Self.proxy(pki, server: server, ruleset: """
            ruleset: registry
            version: "1"
            mcp_servers:
              - { name: approved, urls: ["\(server.url)"] }
            rules:
              - { id: unregistered-mcp, match: { mcp_server: unregistered }, action: block }
            """)
        let allowed = try await Self.client(server, proxy: registered, pki: pki)
        #expect(allowed["ok"] as? Bool == true, "\(allowed)")
        await registered.stop()
    }

    @Test func traceparentIsHonouredAndPassedUpstream() async throws {
        let pki = try TestPKI.make()
        let origin = try await TestOrigin(group: TestGroup.shared)
        let proxy = try await TestProxy(group: TestGroup.shared, pki: pki)
        let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let response = try await Curl.fetch("http://127.0.0.1:\(origin.port)/headers", proxy: proxy.url, extra: ["-H", "traceparent: \(incoming)"])
        #expect(response.status == 200)
        let event = try #require(proxy.audit.events.last)
        let sent = try #require(event.traceparent)
        #expect(sent.hasPrefix("00-4bf92f3577b34da6a3ce929d0e0e4736-"), "the client's trace id is kept")
        #expect(sent == "00-4bf92f3577b34da6a3ce929d0e0e4736-\(event.requestID)-01", "meshgate's span is the parent upstream")
        #expect(response.bodyText.contains("traceparent: \(sent)\n"), "\(response.bodyText)")
        #expect(!response.bodyText.contains(incoming), "the client's parent is replaced, not added")

        // No traceparent: meshgate starts a trace and still sends one.
        let fresh = try await Curl.fetch("http://127.0.0.1:\(origin.port)/headers", proxy: proxy.url)
        let started = try #require(proxy.audit.events.last?.traceparent)
        #expect(fresh.bodyText.contains("traceparent: \(started)\n"), "\(fresh.bodyText)")
        #expect(TraceContext.parse(started) != nil)
        await origin.close()
        await proxy.stop()
    }
}

/// Drift across the pages of a `tools/list` and inside event streams, against an origin that pages.
@Suite(.serialized) struct MCPDriftPagesTests {
    static func start() async throws -> (StreamingClient, Int) {
        let origin = try StreamingClient(["python3", MCPSDKTests.fixtures.appendingPathComponent("tool_pages_origin.py").path])
        guard try await origin.waitForOutput(containing: "\n", timeout: 20),
              let port = Int(origin.text.split(separator: "\n").first.map(String.init) ?? "") else {
            origin.terminate()
            throw MCPSDKTests.SetupError(description: "origin did not start: \(origin.text)")
        }
        return (origin, port)
    }

    static func digest(_ name: String) -> String {
        MCPToolDigest.digest(of: .object([("name", .string(name)), ("description", .string("\(name) tool")),
                                          ("inputSchema", .object([("type", .string("object"))]))]))!
    }

    static func proxy(_ pki: TestPKI, port: Int, pins: [String], onDrift: String) async throws -> TestProxy {
        let file = pki.directory.appendingPathComponent("pages.yaml").path
        try """
            ruleset: registry
            version: "1"
            rules: []
            mcp_servers:
              - name: paged
                urls: ["http://127.0.0.1:\(port)/mcp"]
                on_drift: \(onDrift)
                tools:
            \(pins.map { "      - { name: \($0), digest: \"\(digest($0))\" }" }.joined(separator: "\n"))
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let policy = try PolicyEngine.load(files: [file], regexCompiler: PCRE2RegexCompiler())
        return try await TestProxy(group: TestGroup.shared, pki: pki, policy: policy)
    }

    static func list(_ port: Int, proxy: TestProxy, cursor: String? = nil, accept: String = "application/json, text/event-stream",
                     session: String = "s1", extra: [String] = []) async throws -> Curl.Response {
        let params = cursor.map { #"{"cursor":"\#($0)"}"# } ?? "{}"
        return try await Curl.fetch("http://127.0.0.1:\(port)/mcp", proxy: proxy.url, extra: [
            "-X", "POST", "-H", "Content-Type: application/json", "-H", "Accept: \(accept)", "-H", "Mcp-Session-Id: \(session)",
            "--data-binary", #"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":\#(params)}"#,
        ] + extra)
    }

    static func drift(_ proxy: TestProxy) -> [String] {
        proxy.audit.events.filter { $0.kind == .mcpDrift }.map { event in
            let fields = Dictionary(event.fields.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
            guard case .string(let tool)? = fields["tool"], case .string(let change)? = fields["change"] else { return "?" }
            return "\(tool) \(change)"
        }
    }

    @Test func aPinnedToolMissingFromEveryPageIsRemovedOnceTheLastPageIsIn() async throws {
        let pki = try TestPKI.make()
        let (origin, port) = try await Self.start()
        defer { origin.terminate() }
        let proxy = try await Self.proxy(pki, port: port, pins: ["alpha", "beta", "gamma"], onDrift: "log")
        let first = try await Self.list(port, proxy: proxy)
        #expect(first.bodyText.contains(#""nextCursor":"p2""#))
        #expect(Self.drift(proxy).isEmpty, "one page proves nothing removed: \(Self.drift(proxy))")
        let second = try await Self.list(port, proxy: proxy, cursor: "p2")
        #expect(second.bodyText.contains(#""beta""#))
        #expect(Self.drift(proxy) == ["gamma removed"])
        // Another session's lone second page does not complete this listing.
        _ = try await Self.list(port, proxy: proxy, cursor: "p2", session: "s2")
        #expect(Self.drift(proxy) == ["gamma removed", "alpha removed", "gamma removed"])
        await proxy.stop()
    }

    @Test func anEventStreamAnswerIsFilteredEventByEvent() async throws {
        let pki = try TestPKI.make()
        let (origin, port) = try await Self.start()
        defer { origin.terminate() }
        // `alpha` is not pinned: under `filter` it leaves the list; the stream's other event passes.
        let proxy = try await Self.proxy(pki, port: port, pins: ["beta"], onDrift: "filter")
        let response = try await Self.list(port, proxy: proxy, accept: "text/event-stream")
        #expect(response.status == 200)
        #expect(!response.headers.lowercased().contains("content-length"), "a rewritten stream cannot keep the origin's length: \(response.headers)")
        let text = response.bodyText
        #expect(text.hasPrefix("event: message\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}\r\n\r\n"),
                "the notification event passes byte for byte: \(text)")
        #expect(text.hasSuffix("event: message\nid: 2\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[],\"nextCursor\":\"p2\"}}\n\n"),
                "the list event is rewritten without the unpinned tool, its other fields kept: \(text)")
        #expect(Self.drift(proxy) == ["alpha added"])
        let line = try #require(proxy.audit.events.first { $0.kind == .http })
        #expect(line.detections.contains("MCP tools/list_changed"))
        #expect(line.detections.contains("MCP drift"))
        await proxy.stop()
    }

    @Test func aCompressedListIsCheckedToo() async throws {
        let pki = try TestPKI.make()
        let (origin, port) = try await Self.start()
        defer { origin.terminate() }
        let proxy = try await Self.proxy(pki, port: port, pins: ["beta"], onDrift: "filter")
        let response = try await Self.list(port, proxy: proxy, extra: ["-H", "X-Compress: gzip", "-H", "Accept-Encoding: gzip"])
        #expect(response.status == 200)
        #expect(!response.headers.lowercased().contains("content-encoding"), "sent on decoded: \(response.headers)")
        #expect(response.bodyText == #"{"jsonrpc":"2.0","id":1,"result":{"tools":[],"nextCursor":"p2"}}"#, "\(response.bodyText)")
        #expect(Self.drift(proxy) == ["alpha added"])

        // Garbage under Content-Encoding cannot be checked, so it does not pass.
        let broken = try await Self.list(port, proxy: proxy, extra: ["-H", "X-Compress: broken"])
        #expect(broken.status == 502, "\(broken.status) \(broken.bodyText)")
        #expect(proxy.audit.events.last?.jsonLine().contains("could not be decoded (gzip)") == true)
        await proxy.stop()
    }

    @Test func aClientThatLeavesWhileAListIsHeldCancelsTheUpstream() async throws {
        let pki = try TestPKI.make()
        let (origin, port) = try await Self.start()
        defer { origin.terminate() }
        let proxy = try await Self.proxy(pki, port: port, pins: ["alpha"], onDrift: "block")
        // The answer is held whole for the check; the client gives up before it is complete.
        let gone = try await Self.list(port, proxy: proxy, extra: ["-H", "X-Stall: 1", "--max-time", "1"])
        #expect(gone.status == 0, "the client got nothing of a list not yet checked: \(gone.status)")
        #expect(try await origin.waitForOutput(containing: "upstream closed by the proxy", timeout: 8), "\(origin.text)")
        let line = try #require(proxy.audit.events.last { $0.kind == .http })
        #expect(line.jsonLine().contains(#""status":499"#), "\(line.jsonLine())")
        #expect(line.jsonLine().contains("client closed the connection"))
        // The proxy serves on.
        let next = try await Self.list(port, proxy: proxy)
        #expect(next.status == 200)
        await proxy.stop()
    }
}
