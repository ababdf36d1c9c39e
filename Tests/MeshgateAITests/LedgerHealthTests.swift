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

@Suite struct DeferredTokenLedgerTests {
    private final class FlakyOpener: Sendable {
        let attempts = NIOLockedValueBox(0)
        let failuresLeft: NIOLockedValueBox<Int>
        let ledger = InMemoryTokenLedger()
        init(failures: Int) { failuresLeft = NIOLockedValueBox(failures) }

        func open() throws -> any TokenLedger {
            attempts.withLockedValue { $0 += 1 }
            let fail = failuresLeft.withLockedValue { left in
                defer { left -= 1 }
                return left > 0
            }
            if fail { throw LedgerUnavailable(backend: "postgres", reason: "connection refused") }
            return ledger
        }
    }

    @Test func failsAsUnavailableAndDoesNotRetryWithinTheInterval() async throws {
        let opener = FlakyOpener(failures: 1)
        let ledger = DeferredTokenLedger(backend: "postgres", retryInterval: .seconds(3600)) { try opener.open() }
        for _ in 0..<3 {
            await #expect(throws: LedgerUnavailable.self) { try await ledger.ping() }
        }
        #expect(opener.attempts.withLockedValue { $0 } == 1, "a dead database is tried once per interval, not per request")
        #expect(!ledger.isOpen)
        do {
            try await ledger.ping()
        } catch let error as LedgerUnavailable {
            #expect(error.description.contains("connection refused"), "the last failure is the reason: \(error)")
        }
    }

    @Test func opensOnceTheBackendAnswersAndThenDelegates() async throws {
        let opener = FlakyOpener(failures: 2)
        let ledger = DeferredTokenLedger(backend: "postgres", retryInterval: .zero) { try opener.open() }
        await #expect(throws: LedgerUnavailable.self) { try await ledger.ping() }
        await #expect(throws: LedgerUnavailable.self) { try await ledger.ping() }
        try await ledger.ping()
        #expect(ledger.isOpen)

        let budget = TokenBudget(subject: .team("platform"), tokens: 100, window: .month)
        let charges = TokenBudget.charges([budget], identity: "a", team: "platform", at: 1_000)
        guard case .reserved(let reservation) = try await ledger.reserve(40, charges: charges, now: 1_000) else {
            Issue.record("a reservation under the cap is granted")
            return
        }
        try await ledger.settle(reservation, usage: UsageRecord(id: "x", timestampMilliseconds: 1_000_000, identity: "a", team: "platform",
                                                                provider: "openai", model: "gpt-4o", usage: TokenUsage(input: 10, output: 20),
                                                                charges: charges))
        let report = try await opener.ledger.report(budgets: [budget], now: 1_000)
        #expect(report.teams.first?.used == 30, "calls reach the opened ledger")
        #expect(opener.attempts.withLockedValue { $0 } == 3)
    }
}
