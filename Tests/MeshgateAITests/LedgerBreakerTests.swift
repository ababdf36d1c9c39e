import Foundation
import MeshgateCore
import NIOConcurrencyHelpers
import Testing
@testable import MeshgateAI

/// The AI gateway's ledger circuit breaker and deadline, and the default reservation fitted to
/// the remaining budget (issue 18, findings 5 and 9).
@Suite struct LedgerBreakerTests {
    static let member = Identity(name: "a", team: "platform")
    static let chat = LLMCall(provider: "openai", endpoint: .chatCompletions)

    /// A ledger whose calls answer after `delay` (an in-memory ledger behind a slow link).
    final class SlowLedger: TokenLedger {
        let inner = InMemoryTokenLedger()
        let delay: Duration
        let calls = NIOLockedValueBox(0)
        init(delay: Duration) { self.delay = delay }
        func wait() async throws {
            calls.withLockedValue { $0 += 1 }
            try await Task.sleep(for: delay)
        }
        func reserve(_ tokens: Int, charges: [BudgetCharge], now: Int64) async throws -> ReservationOutcome {
            try await wait()
            return await inner.reserve(tokens, charges: charges, now: now)
        }
        func settle(_ reservation: LedgerReservation, usage: UsageRecord) async throws { try await wait(); await inner.settle(reservation, usage: usage) }
        func release(_ reservation: LedgerReservation) async throws { try await wait(); await inner.release(reservation) }
        func record(_ usage: UsageRecord) async throws { try await wait(); await inner.record(usage) }
        func grow(_ reservation: LedgerReservation, by tokens: Int, now: Int64) async throws -> ReservationOutcome {
            try await wait()
            return await inner.grow(reservation, by: tokens, now: now)
        }
        func reclaimAbandoned(now: Int64, staleBefore: Int64) async throws -> Int { 0 }
        func renewLease(now: Int64) async throws {}
        func releaseHeld() async throws -> Int { 0 }
        func report(budgets: [TokenBudget], now: Int64) async throws -> UsageReport { try await inner.report(budgets: budgets, now: now) }
        func ping() async throws { try await wait() }
    }

    static let budgets = [TokenBudget(subject: .team("platform"), tokens: 1000, window: .month)]

    @Test(arguments: [false, true])
    func aLedgerThatStallsCostsOneDeadlineThenNothing(failOpen: Bool) async {
        let ledger = SlowLedger(delay: .seconds(5))
        let health = LedgerHealth(backend: "sqlite", location: "test")
        let gateway = AIGateway(recognizer: LLMCallRecognizer(), budgets: Self.budgets, ledger: ledger, spool: nil, failOpen: failOpen,
                                health: health, ledgerTimeout: .milliseconds(200))
        let clock = ContinuousClock()
        let first = await clock.measure {
            let admission = await gateway.admit(tokens: 10, identity: Self.member)
            switch admission {
            case .unavailable(let reason): #expect(!failOpen && reason.contains("no answer within 200ms"), "\(reason)")
            case .admitted(nil): #expect(failOpen)
            default: Issue.record("\(admission)")
            }
        }
        // The outcome proves the deadline decided (the ledger would have admitted after 5 s); the
        // time is printed, not asserted, since a loaded test machine can starve any timer.
        print("first call with a stalled ledger (failOpen: \(failOpen)): \(first)")
        #expect(!health.isAvailable)
        let rest = await clock.measure {
            for _ in 0..<20 {
                let admission = await gateway.admit(tokens: 10, identity: Self.member)
                switch admission {
                case .unavailable(let reason): #expect(!failOpen && reason.contains("fail_open"), "the fix is named: \(reason)")
                case .admitted(nil): #expect(failOpen)
                default: Issue.record("\(admission)")
                }
            }
        }
        print("20 calls with the breaker open (failOpen: \(failOpen)): \(rest)")
        #expect(ledger.calls.withLockedValue { $0 } == 1, "an open breaker decides without the ledger")

        health.markAvailable()  // what the monitor's probe does once the ledger answers
        guard case .unavailable = await gateway.admit(tokens: 10, identity: Self.member) else {
            if !failOpen { Issue.record("the ledger is still slow, so the next call trips the breaker again") }
            return
        }
    }

    @Test func aReservationGrantedAfterTheDeadlineIsGivenBack() async throws {
        // 2 s against 50 ms: wide enough to hold on a loaded runner.
        let ledger = SlowLedger(delay: .seconds(2))
        let gateway = AIGateway(recognizer: LLMCallRecognizer(), budgets: Self.budgets, ledger: ledger, spool: nil, failOpen: false,
                                health: LedgerHealth(backend: "sqlite", location: "test"), ledgerTimeout: .milliseconds(50))
        let admission = await gateway.admit(tokens: 100, identity: Self.member)
        guard case .unavailable = admission else { Issue.record("not timed out: \(admission)"); return }
        let deadline = ContinuousClock.now + .seconds(30)
        var reserved = -1
        repeat {
            try await Task.sleep(for: .milliseconds(100))
            let report = try await ledger.inner.report(budgets: Self.budgets, now: Int64(Date().timeIntervalSince1970))
            reserved = report.teams.first?.reserved ?? 0
        } while (reserved != 0 || ledger.calls.withLockedValue { $0 } < 2) && ContinuousClock.now < deadline
        #expect(reserved == 0, "the late reservation is released")
        #expect(ledger.calls.withLockedValue { $0 } == 2, "reserve, then the release of what came late")
    }

    @Test func aCallWithoutMaxTokensReservesTheDefaultFittedToTheBudget() async throws {
        let gateway = AIGateway(recognizer: LLMCallRecognizer(), budgets: Self.budgets, ledger: InMemoryTokenLedger(), spool: nil,
                                failOpen: false, health: LedgerHealth(backend: "sqlite", location: "test"))
        let facts = LLMRequestFacts(model: "m", textBytes: 40)  // about 10 input tokens, no max_tokens
        guard case .admitted(let first?) = await gateway.admit(facts: facts, endpoint: .chatCompletions, identity: Self.member) else {
            Issue.record("a 1000-token cap admits a call without max_tokens"); return
        }
        #expect(first.tokens == 1000, "fitted to the cap, not 4096 + input")
        await gateway.settle(first, call: Self.chat, model: "m", usage: TokenUsage(input: 10, output: 90), identity: Self.member)
        guard case .admitted(let second?) = await gateway.admit(facts: facts, endpoint: .chatCompletions, identity: Self.member) else {
            Issue.record("fitted to what is left"); return
        }
        #expect(second.tokens == 900)
        guard case .refused(let refusal) = await gateway.admit(facts: facts, endpoint: .chatCompletions, identity: Self.member) else {
            Issue.record("nothing left"); return
        }
        #expect(refusal.requested == 10 + ReservationRequest.minimumFittedOutput, "\(refusal)")
        // A caller's own max_tokens is not shrunk.
        let asked = LLMRequestFacts(model: "m", maxOutputTokens: 50, textBytes: 40)
        guard case .refused = await gateway.admit(facts: asked, endpoint: .chatCompletions, identity: Self.member) else {
            Issue.record("max_tokens is kept"); return
        }
    }

    @Test func aCallThatCanNeverFitIsTooLargeWithoutAskingTheLedger() async {
        let ledger = SlowLedger(delay: .zero)
        let gateway = AIGateway(recognizer: LLMCallRecognizer(), budgets: Self.budgets, ledger: ledger, spool: nil, failOpen: false)
        let facts = LLMRequestFacts(model: "m", maxOutputTokens: 2000, textBytes: 40)
        guard case .tooLarge(let oversized) = await gateway.admit(facts: facts, endpoint: .chatCompletions, identity: Self.member) else {
            Issue.record("2010 tokens never fit a 1000-token cap"); return
        }
        #expect(oversized.description.contains("team 'platform'") && oversized.description.contains("1000 per month"), "\(oversized)")
        #expect(oversized.description.contains("2010 tokens") && oversized.description.contains("max_tokens 2000"), "\(oversized)")
        #expect(oversized.description.contains("lower max_tokens"), "\(oversized)")
        let huge = LLMRequestFacts(model: "m", textBytes: 8000)  // 2000 input tokens, no max_tokens
        guard case .tooLarge(let input) = await gateway.admit(facts: huge, endpoint: .chatCompletions, identity: Self.member) else {
            Issue.record("input alone over the cap"); return
        }
        #expect(input.description.contains("shorten the input"), "\(input)")
        #expect(ledger.calls.withLockedValue { $0 } == 0)
    }
}
