import Testing

@testable import MeshgateAdmin

@Suite("HealthRegistry")
struct HealthRegistryTests {
    @Test func emptyRegistryIsHealthy() {
        let report = HealthRegistry().report()
        #expect(report.ok)
        #expect(report.json() == #"{"status":"ok","checks":{}}"#)
    }

    @Test func oneFailingCheckFailsTheReport() {
        let registry = HealthRegistry()
        registry.register("b") { .healthy }
        registry.register("a") { .failing("queue \"full\"", details: ["z": "1", "since": "2026-11-29T10:51:58.123Z"]) }
        let report = registry.report()
        #expect(!report.ok)
        #expect(report.checks.map(\.name) == ["a", "b"])
        #expect(
            report.json()
                == #"{"status":"failing","checks":{"a":{"ok":false,"reason":"queue \"full\"","details":{"since":"2026-11-29T10:51:58.123Z","z":"1"}},"b":{"ok":true}}}"#
        )
    }

    @Test func reRegisteringReplacesAndUnregisterRemoves() {
        let registry = HealthRegistry()
        registry.register("audit") { .failing("x") }
        registry.register("audit") { .healthy }
        #expect(registry.report().ok)
        registry.register("ledger") { .failing("down") }
        #expect(!registry.report().ok)
        registry.unregister("ledger")
        #expect(registry.report().ok)
    }
}
