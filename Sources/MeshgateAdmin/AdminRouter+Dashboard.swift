import Foundation
import MeshgateCore
import MeshgateDashboard
import MeshgateJSON
import NIOHTTP1

/// The dashboard: its pages at `/` (a login form until the admin token is given), its files under
/// `/ui/`, and its JSON under `/admin/api/`.
extension AdminRouter {
    /// Headers every dashboard page and file carries: only meshgate's own scripts and styles run
    /// (no inline script, no CDN), it cannot be framed, and nothing leaks in a Referer.
    static let pageHeaders: [(String, String)] = [
        ("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
    ]

    /// The response when `request` is for the dashboard; nil for the other admin endpoints.
    func dashboardResponse(to request: AdminRequest) async -> AdminResponse? {
        switch (request.method, request.path) {
        case (.GET, "/"), (.HEAD, "/"), (.GET, "/ui/"), (.HEAD, "/ui/"):
            return page(for: request)
        case (.GET, "/ui/app.js"), (.HEAD, "/ui/app.js"):
            return AdminResponse(status: .ok, contentType: "text/javascript; charset=utf-8", body: DashboardAssets.script, extraHeaders: Self.pageHeaders)
        case (.GET, "/ui/app.css"), (.HEAD, "/ui/app.css"):
            return AdminResponse(status: .ok, contentType: "text/css; charset=utf-8", body: DashboardAssets.styles, extraHeaders: Self.pageHeaders)
        case (.POST, "/login"):
            return login(request)
        case (.POST, "/logout"):
            if let refusal = authorizationRefusal(request) { return refusal }
            if let id = request.cookie(AdminSessions.cookieName) { sessions.remove(id) }
            return AdminResponse(status: .seeOther, contentType: "text/plain", text: "logged out\n",
                                 extraHeaders: [("Location", "/"), ("Set-Cookie", AdminSessions.expiredCookie)])
        default:
            break
        }
        guard request.path.hasPrefix("/admin/api/") else { return nil }
        if let refusal = authorizationRefusal(request) { return refusal }
        let endpoint = String(request.path.dropFirst("/admin/api/".count))
        if endpoint == "session" {
            let csrf = request.cookie(AdminSessions.cookieName).flatMap { sessions.session($0)?.csrf }
            return .json(.ok, JSONValue.object([("csrf", csrf.map(JSONValue.string) ?? .null)]).description)
        }
        if endpoint == "rules/test" {
            guard request.method == .POST else { return methodNotAllowed(request, allow: "POST") }
            return await rulesTest(request)
        }
        guard request.method == .GET || request.method == .HEAD else { return methodNotAllowed(request, allow: "GET, HEAD") }
        if endpoint == "health" { return healthJSON() }
        if endpoint == "usage" { return await usageJSON() }
        guard let hooks = dashboard.withLockedValue({ $0 }) else {
            return .error(.serviceUnavailable, "the dashboard is not running")
        }
        switch endpoint {
        case "decisions":
            let limit = request.queryValue("limit").flatMap(Int.init).map { min(max($0, 1), 2000) } ?? 200
            let since = request.queryValue("since").flatMap(UInt64.init) ?? 0
            let (events, next) = hooks.feed.decisions(after: since, limit: limit, filter: filter(request))
            return .json(.ok, DashboardJSON.decisions(events, next: next))
        case "decisions/stream":
            // EventSource resends the last id it saw when it reconnects.
            let resume = request.headers.first(name: "Last-Event-ID").flatMap(UInt64.init)
            let since = resume ?? request.queryValue("since").flatMap(UInt64.init) ?? hooks.feed.latestSequence
            var response = AdminResponse(status: .ok, contentType: "text/event-stream; charset=utf-8", body: [])
            response.stream = DecisionStream(feed: hooks.feed, filter: filter(request), after: since)
            return response
        case "inventory":
            return .json(.ok, DashboardJSON.inventory(hooks.feed.servers))
        case "policy":
            return .json(.ok, hooks.policy(hooks.feed.rollup))
        default:
            if endpoint.hasPrefix("decisions/"), let sequence = UInt64(endpoint.dropFirst("decisions/".count)) {
                guard let event = hooks.feed.decision(sequence) else {
                    return .error(.notFound, "decision \(sequence) is no longer held (the dashboard keeps the latest \(DashboardFeed.defaultRingCapacity)); find it in the audit log")
                }
                return .json(.ok, DashboardJSON.decision(sequence, event))
            }
            return .error(.notFound, "no such dashboard endpoint: \(request.path); see docs/dashboard.md")
        }
    }

    private func filter(_ request: AdminRequest) -> DecisionFilter {
        DecisionFilter { request.decodedQueryValue($0) }
    }

    private func methodNotAllowed(_ request: AdminRequest, allow: String) -> AdminResponse {
        .error(.methodNotAllowed, "\(request.method.rawValue) is not allowed on \(request.path); use \(allow)", extraHeaders: [("Allow", allow)])
    }

    private func page(for request: AdminRequest) -> AdminResponse {
        if let id = request.cookie(AdminSessions.cookieName), sessions.session(id) != nil {
            return AdminResponse(status: .ok, contentType: "text/html; charset=utf-8", body: DashboardAssets.index, extraHeaders: Self.pageHeaders)
        }
        return loginPage(status: .ok, message: nil)
    }

    private func loginPage(status: HTTPResponseStatus, message: String?) -> AdminResponse {
        var html = String(decoding: DashboardAssets.login, as: UTF8.self)
        let note = message.map { #"<p class="error" role="alert">\#(Self.htmlEscaped($0))</p>"# } ?? ""
        html = html.replacingOccurrences(of: "<!--message-->", with: note)
        return AdminResponse(status: status, contentType: "text/html; charset=utf-8", text: html, extraHeaders: Self.pageHeaders)
    }

    /// The login form's POST: the admin token (the contents of state_dir/admin.token) for a session cookie.
    private func login(_ request: AdminRequest) -> AdminResponse {
        guard let expected = configuration.adminToken else {
            return loginPage(status: .forbidden, message: "No admin token is configured, so the dashboard is disabled.")
        }
        let given = (request.formValue("token") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !given.isEmpty, ConstantTime.equals(Array(given.utf8), Array(expected.utf8)) else {
            return loginPage(status: .unauthorized, message: "Wrong admin token. Paste the contents of admin.token in meshgate's state directory.")
        }
        let (id, _) = sessions.create()
        return AdminResponse(status: .seeOther, contentType: "text/plain", text: "logged in\n",
                             extraHeaders: [("Location", "/"), ("Set-Cookie", AdminSessions.cookie(id))])
    }

    /// The report and the listeners are JSON already; they are placed in the answer as they are.
    private func healthJSON() -> AdminResponse {
        let report = health.report()
        var json = #"{"ok":\#(report.ok),"health":\#(report.json())"#
        if let hooks = dashboard.withLockedValue({ $0 }) {
            json += #","listeners":\#(hooks.listeners),"decisions":\#(DashboardJSON.rollup(hooks.feed.rollup, since: hooks.feed.startedAtMillis))"#
        }
        return .json(.ok, json + "}")
    }

    /// The ledger's current window (used vs cap per team and identity) and the token history.
    private func usageJSON() async -> AdminResponse {
        var json = "{"
        switch await usageReport() {
        case .none: json += #""window":null,"window_error":"# + JSONValue.string("token usage is not available: the AI gateway is not running").description
        case .some(.success(let report)): json += #""window":"# + report
        case .some(.failure(let error)): json += #""window":null,"window_error":"# + JSONValue.string("\(error)").description
        }
        let history = dashboard.withLockedValue { $0 }.map { DashboardJSON.history($0.feed.spend) } ?? .object([("days", .array([])), ("models", .array([]))])
        return .json(.ok, json + #","history":"# + history.description + "}")
    }

    private func rulesTest(_ request: AdminRequest) async -> AdminResponse {
        guard let hooks = dashboard.withLockedValue({ $0 }) else {
            return .error(.serviceUnavailable, "the dashboard is not running")
        }
        switch await hooks.rulesTest(request.body) {
        case .success(let json): return .json(.ok, json)
        case .failure(let error): return .error(.badRequest, "\(error)")
        }
    }

    static func htmlEscaped(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
