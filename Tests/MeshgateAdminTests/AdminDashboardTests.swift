import Foundation
import Logging
import MeshgateCore
import MeshgateDashboard
import Testing

@testable import MeshgateAdmin

/// The dashboard's login, session cookie, CSRF check, JSON endpoints and event stream over real HTTP (curl).
@Suite("Dashboard on the admin listener")
struct AdminDashboardTests {
    static func feed() -> DashboardFeed { DashboardFeed(store: nil, logger: Logger(label: "test")) }

    static func event(_ i: Int, action: PolicyAction = .block) -> AuditEvent {
        AuditEvent(timestampMillis: Int64(i), kind: .http, client: "127.0.0.1:1", identity: nil, action: action, rule: "r\(i)", ruleset: "s",
                   fields: [("host", .string("host\(i).example")), ("path", .string("/mcp"))])
    }

    static func withDashboard<T>(_ feed: DashboardFeed, _ body: (String) async throws -> T) async throws -> T {
        try await withAdminServer(configure: { server in
            server.setDashboard(DashboardHooks(feed: feed, policy: { rollup in #"{"total":\#(rollup.total)}"# },
                                               rulesTest: { body in .success(#"{"echo":\#(String(decoding: body, as: UTF8.self))}"#) },
                                               listeners: #"[{"name":"admin","address":"127.0.0.1:0"}]"#))
        }, body)
    }

    static func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("meshgate-form-\(UUID().uuidString)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Signs in with the form; returns the `Cookie:` header.
    static func signIn(_ base: String) async throws -> String {
        let response = try await curl("POST", base + "/login", headers: ["Content-Type: application/x-www-form-urlencoded"],
                                      bodyFile: try file("token=\(testAdminToken)"))
        #expect(response.status == 303)
        let cookie = try #require(response.headers["set-cookie"])
        return "Cookie: " + String(cookie.prefix { $0 != ";" })
    }

    @Test func theLoginPageRefusesAWrongTokenAndAcceptsTheRightOneWithAStrictHttpOnlyCookie() async throws {
        try await Self.withDashboard(Self.feed()) { base in
            let page = try await curl("GET", base + "/")
            #expect(page.status == 200 && page.text.contains(#"name="token""#))
            #expect(page.headers["content-security-policy"]?.contains("script-src 'self'") == true)
            #expect(page.headers["x-frame-options"] == "DENY")

            let wrong = try await curl("POST", base + "/login", bodyFile: try Self.file("token=nope"))
            #expect(wrong.status == 401)
            #expect(wrong.text.contains("Wrong admin token"))
            #expect(wrong.headers["set-cookie"] == nil)

            let right = try await curl("POST", base + "/login", bodyFile: try Self.file("token=\(testAdminToken)"))
            #expect(right.status == 303 && right.headers["location"] == "/")
            let cookie = try #require(right.headers["set-cookie"])
            #expect(cookie.hasPrefix("meshgate_session=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"))

            let session = "Cookie: " + String(cookie.prefix { $0 != ";" })
            let index = try await curl("GET", base + "/", headers: [session])
            #expect(index.text.contains(#"<script src="/ui/app.js""#), "signed in: the dashboard itself")
            let script = try await curl("GET", base + "/ui/app.js")
            #expect(script.status == 200 && script.headers["content-type"]?.hasPrefix("text/javascript") == true)
            #expect(!script.text.contains("innerHTML"), "audit data reaches the page only as text")
        }
    }

    @Test func theAPIWantsTheTokenOrASessionAndAPostThroughASessionWantsItsCSRFToken() async throws {
        try await Self.withDashboard(Self.feed()) { base in
            for path in ["decisions", "inventory", "usage", "policy", "health", "session"] {
                let refused = try await curl("GET", base + "/admin/api/" + path)
                #expect(refused.status == 401, "\(path) without credentials")
            }
            let forged = try await curl("GET", base + "/admin/api/decisions", headers: ["Cookie: meshgate_session=0123"])
            #expect(forged.status == 401)
            #expect(try await curl("GET", base + "/admin/api/decisions", headers: [adminAuthorization]).status == 200)

            let session = try await Self.signIn(base)
            #expect(try await curl("GET", base + "/admin/api/decisions", headers: [session]).status == 200)
            let sessionInfo = try await curl("GET", base + "/admin/api/session", headers: [session])
            let csrf = try #require(try JSONSerialization.jsonObject(with: sessionInfo.body) as? [String: Any])["csrf"] as? String ?? "none"
            let body = try Self.file(#"{"url":"https://x.example/"}"#)
            let noToken = try await curl("POST", base + "/admin/api/rules/test", headers: [session], bodyFile: body)
            #expect(noToken.status == 403, "a cross-site form could send the cookie, never the header")
            #expect(noToken.text.contains("X-CSRF-Token"))
            let wrongToken = try await curl("POST", base + "/admin/api/rules/test", headers: [session, "X-CSRF-Token: 00"], bodyFile: body)
            #expect(wrongToken.status == 403)
            let ok = try await curl("POST", base + "/admin/api/rules/test", headers: [session, "X-CSRF-Token: \(csrf)"], bodyFile: body)
            #expect(ok.status == 200 && ok.text == #"{"echo":{"url":"https://x.example/"}}"#, "\(ok.text)")
            // Scripts use the bearer token and need no CSRF token.
            #expect(try await curl("POST", base + "/admin/api/rules/test", headers: [adminAuthorization], bodyFile: body).status == 200)
            // The session also opens the older admin endpoints, with the same CSRF rule for POST.
            #expect(try await curl("POST", base + "/admin/reload", headers: [session]).status == 403)

            let out = try await curl("POST", base + "/logout", headers: [session, "X-CSRF-Token: \(csrf)"])
            #expect(out.status == 303 && out.headers["set-cookie"]?.contains("Max-Age=0") == true)
            #expect(try await curl("GET", base + "/admin/api/decisions", headers: [session]).status == 401, "signed out")
        }
    }

    @Test func decisionsAreFilteredAndOneIsFoundByItsNumber() async throws {
        let feed = Self.feed()
        feed.observe([Self.event(1), Self.event(2, action: .allow), Self.event(3)][...])
        try await Self.withDashboard(feed) { base in
            let all = try await curl("GET", base + "/admin/api/decisions?since=1", headers: [adminAuthorization])
            let object = try #require(try JSONSerialization.jsonObject(with: all.body) as? [String: Any])
            #expect(object["next"] as? Int == 3)
            #expect((object["decisions"] as? [[String: Any]])?.map { $0["seq"] as? Int } == [2, 3])
            let blocked = try await curl("GET", base + "/admin/api/decisions?action=block&host=HOST3", headers: [adminAuthorization])
            #expect(blocked.text.contains(#""seq":3"#) && !blocked.text.contains(#""seq":1"#), "\(blocked.text)")
            let one = try await curl("GET", base + "/admin/api/decisions/2", headers: [adminAuthorization])
            #expect(one.text.contains(#""host":"host2.example""#))
            let gone = try await curl("GET", base + "/admin/api/decisions/99", headers: [adminAuthorization])
            #expect(gone.status == 404 && gone.text.contains("audit log"))
            let health = try await curl("GET", base + "/admin/api/health", headers: [adminAuthorization])
            #expect(health.text.contains(#""total":3"#) && health.text.contains(#""listeners":[{"name":"admin""#), "\(health.text)")
            #expect(try await curl("DELETE", base + "/admin/api/inventory", headers: [adminAuthorization]).status == 405)
            let usage = try await curl("GET", base + "/admin/api/usage", headers: [adminAuthorization])
            let usageObject = try #require(try JSONSerialization.jsonObject(with: usage.body) as? [String: Any], "\(usage.text)")
            #expect(usageObject["window"] is NSNull)
            #expect((usageObject["window_error"] as? String)?.contains("AI gateway is not running") == true)
            #expect((usageObject["history"] as? [String: Any])?["days"] as? [Any] != nil)
            let healthObject = try #require(try JSONSerialization.jsonObject(with: health.body) as? [String: Any], "\(health.text)")
            #expect(healthObject["ok"] as? Bool == true && (healthObject["health"] as? [String: Any])?["status"] as? String == "ok")
        }
    }

    @Test func theStreamSendsNewDecisionsAsTheyComeAndResumesFromLastEventID() async throws {
        let feed = Self.feed()
        feed.observe([Self.event(1)][...])
        try await Self.withDashboard(feed) { base in
            let stream = try EventStreamClient(base + "/admin/api/decisions/stream?action=block", headers: [adminAuthorization])
            defer { stream.stop() }
            #expect(try await stream.wait(for: ": stream open"))
            feed.observe([Self.event(2), Self.event(3, action: .allow), Self.event(4)][...])
            #expect(try await stream.wait(for: "id: 4\n"), "\(stream.text)")
            #expect(stream.text.contains("id: 2\nevent: decision\ndata: {\"seq\":2,"), "\(stream.text)")
            #expect(!stream.text.contains("id: 3"), "filtered out")
            #expect(!stream.text.contains("id: 1\n"), "a new stream starts at the newest decision")

            let resumed = try EventStreamClient(base + "/admin/api/decisions/stream", headers: [adminAuthorization, "Last-Event-ID: 2"])
            defer { resumed.stop() }
            #expect(try await resumed.wait(for: "id: 4\n"), "\(resumed.text)")
            #expect(resumed.text.contains("id: 3\n") && !resumed.text.contains("id: 2\n"))
        }
    }

    @Test func aShutdownClosesOpenStreamsInsteadOfWaitingForThem() async throws {
        let feed = Self.feed()
        let server = AdminServer(configuration: AdminConfiguration(bindHost: "127.0.0.1", bindPort: 0, adminToken: testAdminToken),
                                 registry: .init(), health: HealthRegistry(), group: .singletonMultiThreadedEventLoopGroup,
                                 logger: Logger(label: "test"))
        server.setDashboard(DashboardHooks(feed: feed, policy: { _ in "{}" }, rulesTest: { _ in .success("{}") }, listeners: "[]"))
        let group = ServiceGroupRunner(server)
        let port = try #require(await server.boundPort)
        let stream = try EventStreamClient("http://127.0.0.1:\(port)/admin/api/decisions/stream", headers: [adminAuthorization])
        #expect(try await stream.wait(for: ": stream open"))
        let started = Date()
        await group.shutDown()
        #expect(Date().timeIntervalSince(started) < 5, "the drain did not wait on the stream")
        #expect(try await stream.waitForExit(), "the client saw the stream end")
    }
}
