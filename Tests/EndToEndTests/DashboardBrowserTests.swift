import Foundation
import Testing

/// The dashboard as a security engineer meets it: `meshgate serve` with the explicit, ai and admin
/// listeners, Debian's Chromium driven headless by Selenium (Fixtures/dashboard/dashboard_browser.py)
/// signing in, watching a Shadow MCP request being blocked on the Live page, finding the server in
/// the inventory, seeing the team's spend move after an `ai` call, and running the rules-test form.
/// Screenshots of every page are left in .build/test-artifacts/dashboard/.
@Suite(.serialized) struct DashboardBrowserTests {
    typealias E2E = AIGatewayEndToEndTests
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let python = root.appendingPathComponent(".build/mcp-venv/browser/bin/python").path
    static let script = root.appendingPathComponent("Tests/EndToEndTests/Fixtures/dashboard/dashboard_browser.py").path
    static let shots = root.appendingPathComponent(".build/test-artifacts/dashboard").path

    @Test func aSecurityEngineerWatchesShadowMCPAndSpendInTheBrowser() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python), FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver") else {
            Issue.record("no browser virtualenv at \(Self.python) or no /usr/bin/chromedriver; ./scripts/install-deps.sh --test installs both")
            return
        }
        let world = try await E2E.makeWorld(budgets: "    - { team: platform, tokens: 100000, window: 1d }")
        let server = try await E2E.startServer(world)
        let token = try String(contentsOf: server.dir.appendingPathComponent("state/admin.token"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let before = ProcessSockets.read(pid: server.process.pid, listenPort: server.adminPort)
        try? FileManager.default.removeItem(atPath: Self.shots)

        let run = try await ProcessRunner.run(Self.python, [
            Self.script, "--admin", "http://127.0.0.1:\(server.adminPort)", "--token", token, "--proxy", server.proxy,
            "--ai", server.ai, "--ai-token", E2E.tokens["agent-1"]!, "--model", "gpt-test", "--team", "platform", "--shots", Self.shots,
        ], timeout: 180, environment: Curl.environment)
        let line = run.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
        let result = try #require(try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "browser script: \(run.stdoutText)\n\(run.stderr)")
        func step(_ name: String) -> [String: Any] { result[name] as? [String: Any] ?? [:] }

        // A wrong token is refused on the login page; the right one gets an HttpOnly, SameSite=Strict session.
        #expect((step("wrong_login")["error_text"] as? String)?.contains("Wrong admin token") == true, "\(step("wrong_login"))")
        #expect(step("wrong_login")["still_login"] as? Bool == true)
        #expect(step("login")["live_page"] as? Bool == true, "\(step("login"))")
        #expect(step("login")["cookie_http_only"] as? Bool == true)
        #expect(step("login")["cookie_same_site"] as? String == "Strict")
        #expect(step("login")["script_sees_cookie"] as? Bool == false)

        // The blocked Shadow MCP call shows up on the Live page within a second, and a click shows its record.
        let live = step("live")
        #expect(live["status"] as? String == "403", "\(live)")
        #expect(live["appeared"] as? Bool == true, "\(live)")
        let latency = live["latency_ms"] as? Int ?? .max
        #expect(latency <= 1000, "the blocked request took \(latency) ms to appear on the Live page")
        #expect((live["row"] as? String)?.contains("block") == true)
        let detail = live["detail"] as? [String: Any] ?? [:]
        #expect(detail["mcp_tool"] as? String == "read_secrets", "\(detail)")
        #expect(detail["rule"] as? String == "shadow-mcp-structural")
        #expect(step("filter")["rows_with_shadow"] as? Int == 0, "the action filter hides the blocked row: \(step("filter"))")

        // The inventory names the server as unregistered, with the blocked tool.
        let cells = step("inventory")["cells"] as? [String] ?? []
        #expect(step("inventory")["url"] as? String == "http://mcp.shadow-dashboard.example/mcp", "\(step("inventory"))")
        #expect(cells.count == 10 && cells[1] == "unregistered" && cells[3] == "2025-06-18", "\(cells)")
        #expect(cells.last?.contains("read_secrets") == true && cells.last?.contains("blocked 1") == true, "\(cells)")

        // One chat completion moves the team's used tokens by what the provider reported, and the chart shows the day.
        let spend = step("spend")
        let usage = spend["usage"] as? [String: Any] ?? [:]
        let charged = (E2E.int(usage["prompt_tokens"]) ?? 0) + (E2E.int(usage["completion_tokens"]) ?? 0)
        #expect(charged > 0, "\(spend)")
        #expect(E2E.int(spend["after"]) == (E2E.int(spend["before"]) ?? -1) + charged, "\(spend)")
        #expect(E2E.int(spend["chart_bars"]) == 1)
        #expect((spend["models"] as? [String])?.first?.contains("gpt-test") == true, "\(spend)")

        // The rules-test form decides with the policy in force; the hit counts include the blocked call.
        let decision = step("rules_test")["decision"] as? [String: Any] ?? [:]
        #expect(decision["action"] as? String == "block", "\(step("rules_test"))")
        #expect(decision["rule"] as? String == "shadow-mcp-structural")
        #expect((step("rules_test")["hits"] as? [String: String])?["shadow-mcp-structural"] == "1", "\(step("rules_test"))")

        let checks = step("health")["checks"] as? [String: String] ?? [:]
        #expect(checks["ai_ledger"]?.contains("ok") == true && checks["audit"]?.contains("ok") == true, "\(step("health"))")
        #expect(checks["certificate_cache"]?.contains("capacity: 10000") == true, "\(checks)")
        #expect((step("health")["listeners"] as? [String])?.count == 3)
        #expect((result["console_errors"] as? [String])?.isEmpty == true, "\(result["console_errors"] ?? "")")

        for page in ["login-refused", "live", "inventory", "spend", "policy", "health"] {
            #expect(FileManager.default.fileExists(atPath: "\(Self.shots)/\(page).png"), "screenshot \(page)")
        }
        // The browser is gone: its event stream and page connections are closed, nothing lingers.
        try await Task.sleep(nanoseconds: 500_000_000)
        let after = ProcessSockets.read(pid: server.process.pid, listenPort: server.adminPort)
        #expect(after.clientConnections == 0 && after.closeWait == 0, "admin connections left: \(after)")
        #expect(after.descriptors <= before.descriptors + 8, "descriptors \(before.descriptors) → \(after.descriptors)")
        await world.stop()
    }
}
