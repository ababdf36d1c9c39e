import Foundation
import Logging
import MeshgateAudit
import MeshgateCore
import Metrics
import NIOPosix
import Prometheus
import ServiceLifecycle
import Testing

@testable import MeshgateAdmin

@Suite("AdminServer over real HTTP")
struct AdminServerTests {
    @Test func healthzIsOKWhenEveryCheckPasses() async throws {
        let health = HealthRegistry()
        health.register("ledger") { .healthy }
        health.register("audit") { HealthStatus(ok: true, details: ["path": "state/audit.jsonl"]) }
        try await withAdminServer(health: health) { base in
            let response = try await curl("GET", base + "/healthz")
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "application/json")
            #expect(response.headers["content-length"] == String(response.body.count))
            #expect(response.text == #"{"status":"ok","checks":{"audit":{"ok":true,"details":{"path":"state/audit.jsonl"}},"ledger":{"ok":true}}}"#)
        }
    }

    @Test func healthzIs503WithTheFailingReason() async throws {
        let health = HealthRegistry()
        health.register("ledger") { .healthy }
        health.register("audit") { .failing("cannot write \"audit.jsonl\": disk full") }
        try await withAdminServer(health: health) { base in
            let response = try await curl("GET", base + "/healthz")
            #expect(response.status == 503)
            let object = try #require(JSONSerialization.jsonObject(with: response.body) as? [String: Any])
            #expect(object["status"] as? String == "failing")
            let checks = try #require(object["checks"] as? [String: [String: Any]])
            #expect(checks["audit"]?["ok"] as? Bool == false)
            #expect(checks["audit"]?["reason"] as? String == "cannot write \"audit.jsonl\": disk full")
            #expect(checks["ledger"]?["ok"] as? Bool == true)
        }
    }

    @Test func healthzReportsARealAuditSinkThatCannotWrite() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meshgate-admin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let blocker = dir.appendingPathComponent("file")
        try Data("x".utf8).write(to: blocker)
        let auditPath = blocker.appendingPathComponent("audit.jsonl").path

        let registry = PrometheusCollectorRegistry()
        let sink = JSONLinesAuditSink(path: auditPath, logger: Logger(label: "test"),
                                      metricsFactory: PrometheusMetricsFactory(registry: registry))
        let health = HealthRegistry()
        health.register(auditSink: sink)
        sink.record(AuditEvent(timestampMillis: 0, kind: .http, client: nil, identity: nil, action: .allow))
        let sinkTask = Task { try await sink.run() }
        sinkTask.cancel()
        try await sinkTask.value

        try await withAdminServer(registry: registry, health: health) { base in
            let response = try await curl("GET", base + "/healthz")
            #expect(response.status == 503)
            let object = try #require(JSONSerialization.jsonObject(with: response.body) as? [String: Any])
            let audit = try #require((object["checks"] as? [String: [String: Any]])?["audit"])
            #expect(audit["ok"] as? Bool == false)
            #expect((audit["reason"] as? String)?.contains(auditPath) == true)
            #expect((audit["details"] as? [String: String])?["path"] == auditPath)

            let metrics = try await curl("GET", base + "/metrics")
            #expect(metrics.text.contains("meshgate_audit_write_errors_total 1"))
        }
    }

    @Test func caCertificateAsPEMAndDER() async throws {
        let der = (0..<700).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let pem = pemBlock(der)
        try await withAdminServer(AdminConfiguration(caCertificatePEM: pem)) { base in
            let asPEM = try await curl("GET", base + "/ca.pem")
            #expect(asPEM.status == 200)
            #expect(asPEM.headers["content-type"] == "application/x-x509-ca-cert")
            #expect(asPEM.text == pem)

            let asDER = try await curl("GET", base + "/ca.pem?format=der")
            #expect(asDER.status == 200)
            #expect([UInt8](asDER.body) == der)

            let unknown = try await curl("GET", base + "/ca.pem?format=p12")
            #expect(unknown.status == 400)
        }
    }

    @Test func caCertificateIs404WhenNoneIsConfigured() async throws {
        try await withAdminServer { base in
            let response = try await curl("GET", base + "/ca.pem")
            #expect(response.status == 404)
        }
    }

    @Test func proxyAutoConfigPointsAtTheExplicitListener() async throws {
        try await withAdminServer(AdminConfiguration(explicitProxyAddress: "127.0.0.1:3128")) { base in
            let response = try await curl("GET", base + "/proxy.pac")
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "application/x-ns-proxy-autoconfig")
            #expect(response.text.contains("function FindProxyForURL(url, host)"))
            #expect(response.text.contains(#"return "PROXY 127.0.0.1:3128";"#))
            #expect(!response.text.contains("; DIRECT"))
        }
    }

    @Test func proxyAutoConfigForAWildcardBindUsesTheHostTheClientUsed() async throws {
        try await withAdminServer(AdminConfiguration(explicitProxyAddress: "0.0.0.0:3128")) { base in
            let response = try await curl("GET", base + "/proxy.pac", headers: ["Host: gateway.corp.example:9090"])
            #expect(response.text.contains(#"return "PROXY gateway.corp.example:3128";"#))
        }
    }

    @Test func proxyAutoConfigIs404WithoutAnExplicitListener() async throws {
        try await withAdminServer { base in
            let response = try await curl("GET", base + "/proxy.pac")
            #expect(response.status == 404)
            #expect(response.text.contains("explicit proxy listener is not configured"))
        }
    }

    @Test func metricsExposesTheRegistry() async throws {
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        let counter = Counter(label: "meshgate_test_requests_total", dimensions: [("listener", "explicit")], factory: factory)
        counter.increment(by: 3)
        try await withAdminServer(registry: registry) { base in
            let response = try await curl("GET", base + "/metrics")
            #expect(response.status == 200)
            #expect(response.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
            #expect(response.text.contains(#"meshgate_test_requests_total{listener="explicit"} 3"#))

            counter.increment()
            #expect(try await curl("GET", base + "/metrics").text.contains(#"meshgate_test_requests_total{listener="explicit"} 4"#))
        }
    }

    @Test func reloadWithoutAHandlerIsUnavailable() async throws {
        try await withAdminServer { base in
            let response = try await curl("POST", base + "/admin/reload", headers: [adminAuthorization])
            #expect(response.status == 503)
            #expect(response.text == #"{"error":"reload is not available yet"}"#)
        }
    }

    @Test func reloadRunsTheHandler() async throws {
        let calls = Calls()
        try await withAdminServer(configure: { server in
            server.setReloadHandler { requestedBy in
                await calls.increment()
                await calls.record(requestedBy)
                try? await Task.sleep(for: .milliseconds(20))
                return .success("3 rulesets, 41 rules")
            }
        }) { base in
            let response = try await curl("POST", base + "/admin/reload", headers: [adminAuthorization])
            #expect(response.status == 200)
            #expect(response.text == #"{"status":"reloaded","message":"3 rulesets, 41 rules"}"#)
            #expect(await calls.count == 1)

            _ = try await curl("POST", base + "/admin/reload", headers: [adminAuthorization, "X-Meshgate-Requested-By: rules update (uid 0)"])
            let requesters = await calls.requesters
            #expect(requesters.first?.hasPrefix("admin API from 127.0.0.1") == true)
            #expect(requesters.last?.hasPrefix("rules update (uid 0) from 127.0.0.1") == true)
        }
    }

    @Test(arguments: [
        ([] as [String], "needs Authorization: Bearer TOKEN"),
        (["Authorization: Bearer not-the-token"], "wrong admin token"),
        (["Authorization: Basic \(testAdminToken)"], "wrong admin token"),
        (["Authorization: Bearer \(testAdminToken)x"], "wrong admin token"),
    ])
    func reloadWithoutTheTokenIs401(headers: [String], message: String) async throws {
        let calls = Calls()
        try await withAdminServer(configure: { server in
            server.setReloadHandler { _ in
                await calls.increment()
                return .success("reloaded")
            }
        }) { base in
            let response = try await curl("POST", base + "/admin/reload", headers: headers)
            #expect(response.status == 401)
            #expect(response.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
            #expect(response.text.contains(message))
            #expect(await calls.count == 0)
            // The public endpoints need no token.
            #expect(try await curl("GET", base + "/healthz").status == 200)
        }
    }

    @Test func reloadWithNoTokenConfiguredIsRefusedToEveryone() async throws {
        try await withAdminServer(AdminConfiguration(bindPort: 0, adminToken: nil), configure: { $0.setReloadHandler { _ in .success("ok") } }) { base in
            let response = try await curl("POST", base + "/admin/reload", headers: [adminAuthorization])
            #expect(response.status == 403)
            #expect(response.text.contains("no admin token"))
        }
    }

    @Test func reloadFailureIs500WithTheError() async throws {
        try await withAdminServer(configure: { server in
            server.setReloadHandler { _ in .failure(ReloadFailed()) }
        }) { base in
            let response = try await curl("POST", base + "/admin/reload", headers: [adminAuthorization])
            #expect(response.status == 500)
            #expect(response.text == #"{"error":"rulesets/shadow-mcp.yaml:7: unknown action \"deny\""}"#)
        }
    }

    @Test func unknownPathsAndWrongMethods() async throws {
        try await withAdminServer { base in
            let missing = try await curl("GET", base + "/nope")
            #expect(missing.status == 404)
            #expect(missing.headers["content-type"] == "application/json")

            let postHealth = try await curl("POST", base + "/healthz")
            #expect(postHealth.status == 405)
            #expect(postHealth.headers["allow"] == "GET, HEAD")

            let getReload = try await curl("GET", base + "/admin/reload")
            #expect(getReload.status == 405)
            #expect(getReload.headers["allow"] == "POST")
        }
    }

    @Test func headAnswersWithoutABody() async throws {
        try await withAdminServer { base in
            let response = try await curl("HEAD", base + "/healthz")
            #expect(response.status == 200)
            #expect(response.body.isEmpty)
            #expect(Int(response.headers["content-length"] ?? "") ?? 0 > 0)
        }
    }

    @Test func bodiesAreIgnoredUpTo64KiB() async throws {
        let dir = FileManager.default.temporaryDirectory
        let small = dir.appendingPathComponent("admin-body-\(UUID().uuidString)")
        let large = dir.appendingPathComponent("admin-body-\(UUID().uuidString)")
        try Data(repeating: 0x61, count: 64 * 1024).write(to: small)
        try Data(repeating: 0x61, count: 64 * 1024 + 1).write(to: large)
        defer {
            try? FileManager.default.removeItem(at: small)
            try? FileManager.default.removeItem(at: large)
        }
        try await withAdminServer(configure: { $0.setReloadHandler { _ in .success("ok") } }) { base in
            let accepted = try await curl("POST", base + "/admin/reload", headers: [adminAuthorization], bodyFile: small.path)
            #expect(accepted.status == 200)
            // The server may close before curl has sent everything; either a 413 or a reset is a refusal.
            do {
                let refused = try await curl("POST", base + "/admin/reload", headers: [adminAuthorization], bodyFile: large.path)
                #expect(refused.status == 413)
            } catch let failure as CurlFailure {
                #expect(failure.exitCode == 55 || failure.exitCode == 56)
            }
        }
    }

    @Test func clientsOutsideAllowClientsGet403() async throws {
        let configuration = AdminConfiguration(allowClients: [CIDR("10.0.0.0/8"), CIDR("::1/128")].compactMap { $0 })
        try await withAdminServer(configuration) { base in
            for path in ["/healthz", "/metrics", "/proxy.pac", "/nope"] {
                let response = try await curl("GET", base + path)
                #expect(response.status == 403, "\(path)")
                #expect(response.text.contains("127.0.0.1"))
            }
            #expect(try await curl("POST", base + "/admin/reload", headers: [adminAuthorization]).status == 403)
        }
    }

    @Test func gracefulShutdownClosesTheListener() async throws {
        let server = AdminServer(
            configuration: AdminConfiguration(bindHost: "127.0.0.1", bindPort: 0),
            registry: PrometheusCollectorRegistry(),
            health: HealthRegistry(),
            group: MultiThreadedEventLoopGroup.singleton,
            logger: Logger(label: "test")
        )
        let group = ServiceGroup(services: [server], logger: Logger(label: "test"))
        let run = Task { try await group.run() }
        let port = try #require(await server.boundPort)
        #expect(try await curl("GET", "http://127.0.0.1:\(port)/healthz").status == 200)

        await group.triggerGracefulShutdown()
        try await run.value
        #expect(await server.boundPort == nil)
        await #expect(throws: CurlFailure.self) {
            _ = try await curl("GET", "http://127.0.0.1:\(port)/healthz")
        }
    }

    @Test func gracefulShutdownFinishesTheRequestInFlight() async throws {
        let gate = Gate()
        let server = AdminServer(
            configuration: AdminConfiguration(bindHost: "127.0.0.1", bindPort: 0, adminToken: testAdminToken),
            registry: PrometheusCollectorRegistry(),
            health: HealthRegistry(),
            group: MultiThreadedEventLoopGroup.singleton,
            logger: Logger(label: "test")
        )
        server.setReloadHandler { _ in
            await gate.enterAndWait()
            return .success("done late")
        }
        let group = ServiceGroup(services: [server], logger: Logger(label: "test"))
        let run = Task { try await group.run() }
        let port = try #require(await server.boundPort)

        async let reload = curl("POST", "http://127.0.0.1:\(port)/admin/reload", headers: [adminAuthorization])
        await gate.waitUntilEntered()
        await group.triggerGracefulShutdown()
        // Only once the listener is gone does the handler finish, so the drain is what delivers it.
        var listenerClosed = false
        for _ in 0..<500 where !listenerClosed {
            do {
                _ = try await curl("GET", "http://127.0.0.1:\(port)/healthz")
                try await Task.sleep(for: .milliseconds(10))
            } catch let failure as CurlFailure where failure.exitCode == 7 {
                listenerClosed = true
            } catch let failure as CurlFailure where failure.exitCode == 52 || failure.exitCode == 56 {
                // Accepted just as the drain began and then closed without an answer: the
                // listener was still there, so look again.
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        #expect(listenerClosed)
        await gate.open()

        let response = try await reload
        #expect(response.status == 200)
        #expect(response.text.contains("done late"))
        try await run.value
    }

    @Test func bindingATakenPortFails() async throws {
        let holder = AdminServer(
            configuration: AdminConfiguration(bindPort: 0), registry: PrometheusCollectorRegistry(),
            health: HealthRegistry(), group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "test")
        )
        let holding = Task { try await holder.run() }
        defer { holding.cancel() }
        let port = try #require(await holder.boundPort)

        let second = AdminServer(
            configuration: AdminConfiguration(bindPort: port), registry: PrometheusCollectorRegistry(),
            health: HealthRegistry(), group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "test")
        )
        await #expect {
            try await second.run()
        } throws: { error in
            "\(error)".contains("cannot listen on 127.0.0.1:\(port) for listeners.admin")
        }
        #expect(await second.boundPort == nil)
        holding.cancel()
        try await holding.value
    }
}

/// Holds the reload handler until the test lets it go.
private actor Gate {
    private var entered = false
    private var isOpen = false
    private var enteredWaiters: [CheckedContinuation<Void, Never>] = []
    private var openWaiters: [CheckedContinuation<Void, Never>] = []

    func enterAndWait() async {
        entered = true
        enteredWaiters.forEach { $0.resume() }
        enteredWaiters = []
        if isOpen { return }
        await withCheckedContinuation { openWaiters.append($0) }
    }

    func waitUntilEntered() async {
        if entered { return }
        await withCheckedContinuation { enteredWaiters.append($0) }
    }

    func open() {
        isOpen = true
        openWaiters.forEach { $0.resume() }
        openWaiters = []
    }
}

private actor Calls {
    var count = 0
    var requesters: [String] = []
    func increment() { count += 1 }
    func record(_ requester: String) { requesters.append(requester) }
}

private struct ReloadFailed: Error, CustomStringConvertible {
    var description: String { #"rulesets/shadow-mcp.yaml:7: unknown action "deny""# }
}
