import NIOConcurrencyHelpers
import Testing
@testable import MeshgateAI
@testable import MeshgateLedger

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
