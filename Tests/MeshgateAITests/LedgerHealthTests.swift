import NIOConcurrencyHelpers
import Testing
@testable import MeshgateAI

@Suite struct LedgerHealthTests {
    @Test func anOutageNamesTheLedgerUntilItRecovers() {
        let clock = NIOLockedValueBox<Int64>(1_772_323_200_000)  // 2026-03-01T00:00:00Z
        let health = LedgerHealth(backend: "postgres", location: "postgres://meshgate:***@db:5432/meshgate",
                                  nowMilliseconds: { clock.withLockedValue { $0 } })
        #expect(health.isAvailable)
        #expect(health.problem == nil)
        #expect(health.details == ["backend": "postgres", "ledger": "postgres://meshgate:***@db:5432/meshgate"])

        health.markUnavailable(LedgerUnavailable(backend: "postgres", reason: "connection refused"))
        clock.withLockedValue { $0 += 60_000 }
        health.markUnavailable(LedgerUnavailable(backend: "postgres", reason: "timed out"))
        #expect(!health.isAvailable)
        #expect(health.problem?.contains("token ledger (postgres) unavailable: timed out") == true)
        #expect(health.problem?.contains("ai.ledger_unavailable: fail_open") == true, "the problem carries the fix")
        #expect(health.details["since"] == "2026-03-01T00:00:00.000Z", "an outage keeps its first moment: \(health.details)")
        #expect(health.details["last_error"]?.contains("timed out") == true)

        clock.withLockedValue { $0 += 1_000 }
        let generation = health.generation
        health.markAvailable()
        #expect(health.isAvailable)
        #expect(health.problem == nil)
        #expect(health.details["since"] == nil)
        #expect(health.details["last_error"] == nil, "a working ledger shows no current error: \(health.details)")
        #expect(health.details["previous_error"]?.contains("timed out") == true, "the outage stays visible as the previous error")
        #expect(health.details["previous_error_at"] == "2026-03-01T00:01:00.000Z")
        #expect(health.details["recovered_at"] == "2026-03-01T00:01:01.000Z")
        #expect(health.generation == generation + 1)

        // A call that started before the recovery and failed after it does not reopen the breaker.
        health.markUnavailable(LedgerUnavailable(backend: "postgres", reason: "late"), generation: generation)
        #expect(health.isAvailable)
        health.markUnavailable(LedgerUnavailable(backend: "postgres", reason: "down again"), generation: health.generation)
        #expect(!health.isAvailable && health.details["last_error"]?.contains("down again") == true)
    }

    @Test func spooledRecordsAreCounted() {
        let health = LedgerHealth(backend: "sqlite", location: "/var/lib/meshgate/ledger.db", initialProblem: "cannot open")
        #expect(health.problem == "cannot open")
        #expect(health.details["spooled"] == nil)
        health.noteSpooled()
        health.noteSpooled()
        #expect(health.details["spooled"] == "2")
        health.setSpooled(0)
        #expect(health.details["spooled"] == nil)
    }
}
