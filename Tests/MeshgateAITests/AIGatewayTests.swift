import Foundation
import NIOCore
import Testing
@testable import MeshgateAI
import MeshgateCore

@Suite struct AIGatewayTests {
    static let chat = LLMCall(provider: "openai", endpoint: .chatCompletions)
    static let messages = LLMCall(provider: "anthropic", endpoint: .messages)

    static func reservation(tokens: Int, remaining: Int) -> LedgerReservation {
        let charge = TokenBudget(subject: .team("platform"), tokens: 10_000, window: .month).charge(at: 0)
        return LedgerReservation(id: "r1", tokens: tokens, charges: [charge], remaining: remaining, resetsAt: 100)
    }

    @Test func aFinishedStreamIsChargedWhatTheProviderReported() {
        var call = MeteredCall(call: Self.chat, facts: LLMRequestFacts(model: "gpt-4o-mini", stream: true, maxOutputTokens: 50),
                               defaultMaxOutputTokens: 4096, hardCap: false)
        #expect(call.reservationTokens == 50)
        call.admitted(Self.reservation(tokens: 50, remaining: 950))
        call.responseStarted(status: 200, contentType: "text/event-stream; charset=utf-8")
        #expect(call.consume(ByteBuffer(string: ProviderFixtures.openAIChatStream)) == false)
        let usage = call.finish()
        #expect(usage == TokenUsage(input: 5, output: 12, cacheRead: 4))
        #expect(call.model == "gpt-4o-mini")
        // 950 left after reserving 50; the call used 21 of its 50.
        #expect(call.remaining(after: usage) == 979)
    }

    @Test func aHardCapCutsAStreamOnceItUsedWhatItHoldsAndMayNotGrow() throws {
        var call = MeteredCall(call: Self.messages, facts: LLMRequestFacts(model: "claude", stream: true, maxOutputTokens: 10),
                               defaultMaxOutputTokens: 4096, hardCap: true)
        call.admitted(Self.reservation(tokens: 10, remaining: 4_400))
        call.responseStarted(status: 200, contentType: "text/event-stream")
        let events = ProviderFixtures.anthropicStream.components(separatedBy: "\n\n").map { ByteBuffer(string: $0 + "\n\n") }
        // message_start reports 4,325 input tokens, far past the 10 held: the call asks to grow by
        // what it used past them plus headroom, one growth at a time, and is not cut meanwhile.
        var index = 0
        while !call.overdrawn {
            #expect(call.consume(events[index]) == false)
            index += 1
        }
        let asked = call.growthWanted()
        let wanted = try #require(asked)
        #expect(wanted == call.usedSoFar - 10 + 32)
        let again = call.growthWanted()
        #expect(again == nil, "one growth at a time")
        let cutNow = call.mustCutAfterGrowth()
        #expect(cutNow == false)
        call.grew(Self.reservation(tokens: 10 + wanted, remaining: 4_400 - wanted))
        #expect(!call.overdrawn)
        // Then the budget has nothing left: the next growth is refused, and the stream is cut at
        // the event that takes it past what it holds (message_delta reporting 89 output tokens).
        var cutAt: Int?
        while index < events.count {
            if call.consume(events[index]) { cutAt = index; break }
            if call.growthWanted() != nil { call.grew(nil) }
            index += 1
        }
        #expect(cutAt == 9, "cut at the message_delta")
        #expect(call.cut)
        #expect(call.cutMessage.contains("could hold \(10 + wanted) tokens"), "\(call.cutMessage)")
        #expect(call.cutEvent.hasPrefix("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\""))
        let usage = call.finish()
        #expect(usage?.estimated == true)
        #expect(usage?.total == 25 + 300 + 4000 + 89)
    }

    @Test func aRefusedGrowthCutsAHardCappedStreamThatIsAlreadyOverdrawn() {
        var call = MeteredCall(call: Self.messages, facts: LLMRequestFacts(model: "claude", stream: true, maxOutputTokens: 10),
                               defaultMaxOutputTokens: 4096, hardCap: true)
        call.admitted(Self.reservation(tokens: 10, remaining: 0))
        call.responseStarted(status: 200, contentType: "text/event-stream")
        let events = ProviderFixtures.anthropicStream.components(separatedBy: "\n\n").map { ByteBuffer(string: $0 + "\n\n") }
        var index = 0
        while !call.overdrawn, index < events.count {
            _ = call.consume(events[index])
            index += 1
        }
        let asked = call.growthWanted()
        #expect(asked != nil)
        call.grew(nil)
        let cutNow = call.mustCutAfterGrowth()
        #expect(cutNow, "no chunk needs to arrive for the cut")
        #expect(call.cut)
    }

    @Test func aGrowthThatCannotBeDecidedLetsTheStreamGoOnUngrown() {
        var call = MeteredCall(call: Self.messages, facts: LLMRequestFacts(model: "claude", stream: true, maxOutputTokens: 10),
                               defaultMaxOutputTokens: 4096, hardCap: true)
        let held = Self.reservation(tokens: 10, remaining: 100)
        call.admitted(held)
        call.responseStarted(status: 200, contentType: "text/event-stream")
        let events = ProviderFixtures.anthropicStream.components(separatedBy: "\n\n").map { ByteBuffer(string: $0 + "\n\n") }
        var cut = false
        for event in events {
            cut = cut || call.consume(event)
            // The ledger is down under fail_open: the reservation comes back as it was.
            if call.growthWanted() != nil { call.grew(held) }
        }
        #expect(!cut && !call.cut)
    }

    @Test func softCapsNeverCut() {
        var call = MeteredCall(call: Self.messages, facts: LLMRequestFacts(stream: true), defaultMaxOutputTokens: 10, hardCap: false)
        call.admitted(Self.reservation(tokens: 10, remaining: 0))
        call.responseStarted(status: 200, contentType: "text/event-stream")
        #expect(call.consume(ByteBuffer(string: ProviderFixtures.anthropicStream)) == false)
        #expect(call.finish()?.output == 89)
    }

    @Test func aCancelledStreamIsChargedAnEstimateOfWhatWasProduced() {
        var call = MeteredCall(call: Self.chat, facts: LLMRequestFacts(stream: true, textBytes: 400), defaultMaxOutputTokens: 10, hardCap: false)
        call.responseStarted(status: 200, contentType: "text/event-stream")
        let firstThree = ProviderFixtures.openAIChatStream.components(separatedBy: "\n\n").prefix(3).joined(separator: "\n\n") + "\n\n"
        _ = call.consume(ByteBuffer(string: firstThree))
        let usage = call.finish()
        #expect(usage?.estimated == true)
        #expect(usage?.input == 100, "the request's estimate: 400 bytes / 4")
        #expect(usage?.output == 7, "\"Hello there, how are you?\" is 25 bytes, ceil(25 / 4)")
    }

    @Test func providerErrorsAndCallsWithoutAResponseAreNotCharged() {
        var failed = MeteredCall(call: Self.chat, facts: LLMRequestFacts(), defaultMaxOutputTokens: 10, hardCap: false)
        failed.responseStarted(status: 500, contentType: "application/json")
        _ = failed.consume(ByteBuffer(string: #"{"error":{"message":"boom","type":"server_error"}}"#))
        #expect(failed.finish() == nil)
        var unanswered = MeteredCall(call: Self.chat, facts: LLMRequestFacts(), defaultMaxOutputTokens: 10, hardCap: false)
        #expect(unanswered.finish() == nil)
    }

    @Test func routesFollowTheModelThenItsFallbacksAcrossFormats() throws {
        let openai = try #require(AIRoutes.Provider(name: "openai", format: .openai, baseURL: "https://api.openai.com/v1", apiKey: "k"))
        let local = try #require(AIRoutes.Provider(name: "local", format: .anthropic, baseURL: "http://127.0.0.1:9000/proxy", apiKey: nil))
        let routes = AIRoutes(providers: [openai, local], models: [
            "gpt-4o": AIRoutes.Model(provider: "openai", fallback: ["claude", "gpt-4o"]),
            "claude": AIRoutes.Model(provider: "local", upstreamModel: "claude-sonnet-4-20250514"),
            "ghost": AIRoutes.Model(provider: "nowhere"),
        ])
        #expect(routes.resolve(model: "gpt-4o", format: .openai) == .candidates([
            AIRoutes.Candidate(provider: openai, upstreamModel: "gpt-4o", model: "gpt-4o"),
            AIRoutes.Candidate(provider: local, upstreamModel: "claude-sonnet-4-20250514", model: "claude"),
        ]), "the fallback naming the model itself is skipped")
        // An OpenAI-format caller may name an Anthropic model: the gateway translates.
        #expect(routes.resolve(model: "claude", format: .openai) == .candidates([
            AIRoutes.Candidate(provider: local, upstreamModel: "claude-sonnet-4-20250514", model: "claude"),
        ]))
        // One provider speaks the dialect, so an unlisted model goes there under its own name.
        #expect(routes.resolve(model: "gpt-5", format: .openai) == .candidates([AIRoutes.Candidate(provider: openai, upstreamModel: "gpt-5", model: "gpt-5")]))
        #expect(routes.resolve(model: nil, format: .openai) == .unknownModel(nil, known: ["claude", "gpt-4o"]))
        #expect(routes.catalogue.map(\.model) == ["claude", "gpt-4o"], "a model naming an unknown provider is dropped")
        #expect(local.scheme == "http" && local.port == 9000 && local.pathPrefix == "/proxy")
        #expect(openai.pathPrefix == "" && openai.port == 443)
    }

    @Test func admissionReservesRefusesAndAppliesLedgerUnavailable() async {
        let budgets = [TokenBudget(subject: .team("platform"), tokens: 100, window: .month)]
        let member = Identity(name: "a", team: "platform")
        let ledger = InMemoryTokenLedger()
        let gateway = AIGateway(recognizer: LLMCallRecognizer(), budgets: budgets, ledger: ledger, spool: nil, failOpen: false, clock: { 1_000 })
        guard case .admitted(let first?) = await gateway.admit(tokens: 60, identity: member) else { Issue.record("not admitted: \(await gateway.admit(tokens: 1, identity: member))"); return }
        #expect(first.remaining == 40)
        guard case .refused(let refusal) = await gateway.admit(tokens: 60, identity: member) else { Issue.record("not refused"); return }
        #expect(refusal.remaining == 40)
        // Nobody caps an unidentified caller, so nothing is reserved.
        guard case .admitted(nil) = await gateway.admit(tokens: 60, identity: nil) else { Issue.record("anonymous"); return }
        await gateway.settle(first, call: Self.chat, model: "m", usage: TokenUsage(input: 10, output: 5), identity: member)
        guard case .admitted(let second?) = await gateway.admit(tokens: 60, identity: member) else { Issue.record("settled"); return }
        #expect(second.remaining == 100 - 15 - 60)

        let down = AIGateway(recognizer: LLMCallRecognizer(), budgets: budgets, ledger: BrokenLedger(), spool: nil, failOpen: false)
        guard case .unavailable(let reason) = await down.admit(tokens: 1, identity: member) else { Issue.record("fail closed"); return }
        #expect(reason.contains("unavailable"))
        let open = AIGateway(recognizer: LLMCallRecognizer(), budgets: budgets, ledger: BrokenLedger(), spool: nil, failOpen: true)
        guard case .admitted(nil) = await open.admit(tokens: 1, identity: member) else { Issue.record("fail open"); return }
    }

    /// Failing closed too: a call admitted before the ledger went away was billed by the provider.
    @Test(arguments: [true, false])
    func usageTheLedgerCannotTakeIsSpooled(failOpen: Bool) async {
        let spool = MemorySpool()
        let gateway = AIGateway(recognizer: LLMCallRecognizer(), budgets: [TokenBudget(subject: .team("t"), tokens: 9, window: .month)],
                                ledger: BrokenLedger(), spool: spool, failOpen: failOpen)
        await gateway.settle(nil, call: Self.chat, model: "m", usage: TokenUsage(input: 3, output: 4), identity: Identity(name: "a", team: "t"))
        let pending = await spool.records
        #expect(pending.map(\.usage.total) == [7])
        #expect(pending.first?.charges.map(\.subject) == [.team("t")])
    }
}

/// A spool in memory: what the gateway hands it is what these tests check (the file-backed
/// `UsageSpool` has tests of its own in MeshgateLedgerTests).
actor MemorySpool: UsageSpoolSink {
    private(set) var records: [UsageRecord] = []
    func append(_ record: UsageRecord) { records.append(record) }
}

struct BrokenLedger: TokenLedger {
    func fail() -> LedgerUnavailable { LedgerUnavailable(backend: "test", reason: "down") }
    func reserve(_ tokens: Int, charges: [BudgetCharge], now: Int64) async throws -> ReservationOutcome { throw fail() }
    func settle(_ reservation: LedgerReservation, usage: UsageRecord) async throws { throw fail() }
    func release(_ reservation: LedgerReservation) async throws { throw fail() }
    func record(_ usage: UsageRecord) async throws { throw fail() }
    func grow(_ reservation: LedgerReservation, by tokens: Int, now: Int64) async throws -> ReservationOutcome { throw fail() }
    func reclaimAbandoned(now: Int64, staleBefore: Int64) async throws -> Int { throw fail() }
    func renewLease(now: Int64) async throws { throw fail() }
    func releaseHeld() async throws -> Int { throw fail() }
    func report(budgets: [TokenBudget], now: Int64) async throws -> UsageReport { throw fail() }
    func ping() async throws { throw fail() }
}


@Suite struct UsageChunkFilterTests {
    /// Feeds `stream` split into pieces of `size` bytes; returns what passed.
    static func run(_ stream: String, size: Int) -> String {
        var filter = UsageChunkFilter()
        var out = ""
        let bytes = Array(stream.utf8)
        var index = 0
        while index < bytes.count {
            let piece = ByteBuffer(bytes: bytes[index..<min(bytes.count, index + size)])
            out += String(buffer: filter.filter(piece))
            index += size
        }
        return out + String(buffer: filter.flush())
    }

    @Test(arguments: [1, 2, 7, 64, 100_000])
    func theUsageOnlyChunkIsRemovedWhereverTheStreamSplits(size: Int) {
        let stream = ProviderFixtures.openAIChatStream
        let out = Self.run(stream, size: size)
        #expect(!out.contains(#""prompt_tokens""#))
        #expect(out.contains("data: [DONE]"))
        #expect(out.components(separatedBy: "\n\n").count == stream.components(separatedBy: "\n\n").count - 1)
        #expect(out.contains(#""usage":null"#), "chunks carrying usage: null are content chunks and stay")
    }

    @Test func crlfFramingAndUnframedBodiesPassThrough() {
        let crlf = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\r\n\r\ndata: {\"choices\": [ ], \"usage\": {\"prompt_tokens\":1}}\r\n\r\ndata: [DONE]\r\n\r\n"
        #expect(Self.run(crlf, size: 5) == "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\r\n\r\ndata: [DONE]\r\n\r\n")
        let json = #"{"error":{"message":"bad","type":"invalid_request_error"}}"#
        #expect(Self.run(json, size: 3) == json)
    }
}
