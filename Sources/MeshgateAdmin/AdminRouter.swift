import Logging
import MeshgateCore
import MeshgateJSON
import NIOConcurrencyHelpers
import NIOHTTP1
import Prometheus

/// Maps admin requests to responses. Shared by every connection; everything here is either
/// immutable or behind a lock.
final class AdminRouter: Sendable {
    /// `POST /admin/reload`'s work, given who asked: a message for the operator on success.
    typealias ReloadHandler = @Sendable (_ requestedBy: String) async -> Result<String, any Error>
    /// `GET /admin/usage`'s work, given the `team` filter: the report as JSON.
    typealias UsageHandler = @Sendable (_ team: String?) async -> Result<String, any Error>

    let configuration: AdminConfiguration
    private let registry: PrometheusCollectorRegistry
    let health: HealthRegistry
    private let reloadHandler = NIOLockedValueBox<ReloadHandler?>(nil)
    let dashboard = NIOLockedValueBox<DashboardHooks?>(nil)
    let sessions = AdminSessions()
    private let usageHandler = NIOLockedValueBox<UsageHandler?>(nil)
    private let proxy: HostPort?

    init(configuration: AdminConfiguration, registry: PrometheusCollectorRegistry, health: HealthRegistry) {
        self.configuration = configuration
        self.registry = registry
        self.health = health
        self.proxy = configuration.explicitProxyAddress.flatMap { HostPort(authority: $0, defaultPort: nil) }
    }

    func setReloadHandler(_ handler: @escaping ReloadHandler) {
        reloadHandler.withLockedValue { $0 = handler }
    }

    func setUsageHandler(_ handler: @escaping UsageHandler) {
        usageHandler.withLockedValue { $0 = handler }
    }

    private enum Route: String {
        case healthz = "/healthz"
        case caCertificate = "/ca.pem"
        case proxyAutoConfig = "/proxy.pac"
        case metrics = "/metrics"
        case reload = "/admin/reload"
        case usage = "/admin/usage"

        var methods: [HTTPMethod] {
            switch self {
            case .reload: [.POST]
            case .healthz, .caCertificate, .proxyAutoConfig, .metrics, .usage: [.GET, .HEAD]
            }
        }
    }

    func respond(to request: AdminRequest) async -> AdminResponse {
        guard isAllowed(request.clientAddress) else {
            return .error(.forbidden, "client \(request.clientDescription) is not in access.allow_clients")
        }
        if let page = await dashboardResponse(to: request) { return page }
        guard let route = Route(rawValue: request.path) else {
            return .error(.notFound, "no such admin endpoint: \(request.path)")
        }
        guard route.methods.contains(request.method) else {
            let allow = route.methods.map(\.rawValue).joined(separator: ", ")
            return .error(.methodNotAllowed, "\(request.method.rawValue) is not allowed on \(route.rawValue); use \(allow)",
                          extraHeaders: [("Allow", allow)])
        }
        switch route {
        case .healthz: return healthz()
        case .caCertificate: return caCertificate(request)
        case .proxyAutoConfig: return proxyAutoConfig(request)
        case .metrics: return metrics()
        case .reload:
            if let refusal = authorizationRefusal(request) { return refusal }
            return await reload(requestedBy: requester(request))
        case .usage:
            if let refusal = authorizationRefusal(request) { return refusal }
            return await usage(team: request.queryValue("team"))
        }
    }

    private func isAllowed(_ address: [UInt8]?) -> Bool {
        guard let address else { return false }
        return configuration.allowClients.contains { $0.contains(address) }
    }

    private func healthz() -> AdminResponse {
        let report = health.report()
        return .json(report.ok ? .ok : .serviceUnavailable, report.json())
    }

    private func caCertificate(_ request: AdminRequest) -> AdminResponse {
        let pem = configuration.caCertificatePEM
        guard !pem.isEmpty else { return .error(.notFound, "no CA certificate is configured (tls.ca_cert)") }
        switch request.queryValue("format") ?? "pem" {
        case "pem":
            return AdminResponse(status: .ok, contentType: "application/x-x509-ca-cert", text: pem,
                                 extraHeaders: [("Content-Disposition", #"attachment; filename="meshgate-ca.pem""#)])
        case "der":
            guard let der = PEM.firstCertificateDER(pem) else {
                return .error(.internalServerError, "the configured CA certificate is not valid PEM")
            }
            return AdminResponse(status: .ok, contentType: "application/x-x509-ca-cert", body: der,
                                 extraHeaders: [("Content-Disposition", #"attachment; filename="meshgate-ca.crt""#)])
        case let other:
            return .error(.badRequest, "unknown format \(other); use format=pem or format=der")
        }
    }

    private func proxyAutoConfig(_ request: AdminRequest) -> AdminResponse {
        guard let configured = configuration.explicitProxyAddress else {
            return .error(.notFound, "the explicit proxy listener is not configured, so there is no PAC file")
        }
        guard let proxy else {
            return .error(.internalServerError, "the explicit listener address \(configured) is not host:port")
        }
        let script = ProxyAutoConfig.script(proxy: proxy, requestHost: request.headers.first(name: "Host"))
        return AdminResponse(status: .ok, contentType: "application/x-ns-proxy-autoconfig", text: script)
    }

    private func metrics() -> AdminResponse {
        AdminResponse(status: .ok, contentType: "text/plain; version=0.0.4; charset=utf-8", body: registry.emitToBuffer())
    }

    /// 401 unless the request carries the admin token (or a dashboard session; a POST through a
    /// session also needs the session's CSRF token), so that other local users (who can reach a
    /// loopback listener too) cannot reload the policy or read usage.
    func authorizationRefusal(_ request: AdminRequest) -> AdminResponse? {
        let challenge: [(String, String)] = [("WWW-Authenticate", #"Bearer realm="meshgate admin""#)]
        guard let expected = configuration.adminToken else {
            return .error(.forbidden, "no admin token is configured, so this endpoint is disabled")
        }
        if request.headers.first(name: "Authorization") == nil, let id = request.cookie(AdminSessions.cookieName),
           let session = sessions.session(id) {
            if request.method == .GET || request.method == .HEAD { return nil }
            guard let sent = request.headers.first(name: AdminSessions.csrfHeader),
                  ConstantTime.equals(Array(sent.utf8), Array(session.csrf.utf8)) else {
                return .error(.forbidden, "this request comes with a dashboard session but without its \(AdminSessions.csrfHeader) header; reload the dashboard")
            }
            return nil
        }
        guard let header = request.headers.first(name: "Authorization") else {
            return .error(.unauthorized, "this endpoint needs Authorization: Bearer TOKEN, where TOKEN is the contents of state_dir/admin.token",
                          extraHeaders: challenge)
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer",
              ConstantTime.equals(Array(parts[1].utf8), Array(expected.utf8)) else {
            return .error(.unauthorized, "wrong admin token; use the contents of state_dir/admin.token", extraHeaders: challenge)
        }
        return nil
    }

    /// Who asked, for the audit line: what the caller says it is (e.g. `rules update`), and from where.
    private func requester(_ request: AdminRequest) -> String {
        let claimed = request.headers.first(name: "X-Meshgate-Requested-By").map { String($0.prefix(200)) } ?? "admin API"
        return "\(claimed) from \(request.clientDescription)"
    }

    /// The ledger's report as JSON; nil when the AI gateway is off.
    func usageReport() async -> Result<String, any Error>? {
        guard let handler = usageHandler.withLockedValue({ $0 }) else { return nil }
        return await handler(nil)
    }

    /// 503 when the AI gateway is off or its ledger cannot be read, naming why.
    private func usage(team: String?) async -> AdminResponse {
        guard let handler = usageHandler.withLockedValue({ $0 }) else {
            return .error(.serviceUnavailable, "token usage is not available: the AI gateway is not running")
        }
        switch await handler(team) {
        case .success(let json): return .json(.ok, json)
        case .failure(let error): return .error(.serviceUnavailable, "\(error)")
        }
    }

    private func reload(requestedBy: String) async -> AdminResponse {
        guard let handler = reloadHandler.withLockedValue({ $0 }) else {
            return .error(.serviceUnavailable, "reload is not available yet")
        }
        switch await handler(requestedBy) {
        case .success(let message):
            return .json(.ok, #"{"status":"reloaded","message":"# + JSONText.quoted(message) + "}")
        case .failure(let error):
            return .error(.internalServerError, "\(error)")
        }
    }
}
