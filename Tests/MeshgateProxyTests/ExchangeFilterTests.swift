import MeshgateAI
import MeshgateCore
import MeshgatePolicy
import Logging
import NIOCore
import NIOHTTP1
import Testing

@testable import MeshgateProxy

/// Each response filter driven with plain values: heads, body parts drip-fed byte by byte where
/// framing matters, and a stand-in for the handler's callbacks.
@Suite struct ExchangeFilterTests {
    /// Records what filters ask of the handler; runs started work when told to.
    final class Callbacks: ExchangeFilterCallbacks {
        var started: [() async -> FilterStatus] = []
        var readsHeld = false
        func start<T: Sendable>(_ work: @escaping @Sendable () async -> T, then: @escaping (T) -> FilterStatus) {
            started.append { then(await work()) }
        }
        func holdUpstreamReads() { readsHeld = true }
    }

    static func exchange(_ method: HTTPMethod = .POST) -> HTTPTransaction {
        HTTPTransaction(head: HTTPRequestHead(version: .http1_1, method: method, uri: "/"), scheme: "https", host: "mcp.example.com",
                        port: 443, path: "/sse", intercepted: true)
    }

    static func head(_ headers: [(String, String)], status: HTTPResponseStatus = .ok) -> HTTPResponseHead {
        HTTPResponseHead(version: .http1_1, status: status, headers: HTTPHeaders(headers))
    }

    /// Feeds `text` to a body hook one byte at a time; returns what came out and the statuses that were not `.continue`.
    static func dripFeed(_ text: String, _ hook: (inout ByteBuffer) -> FilterStatus) -> (out: String, statuses: [FilterStatus]) {
        var out = ""
        var statuses: [FilterStatus] = []
        for byte in text.utf8 {
            var part = ByteBuffer(bytes: [byte])
            let status = hook(&part)
            if case .continue = status { out += String(buffer: part) } else { statuses.append(status) }
        }
        return (out, statuses)
    }

    // MARK: legacy SSE

    static let handshake = "event: endpoint\ndata: /messages?sessionId=abc\n\n"

    static func policy(_ rules: String) throws -> PolicyEngine {
        let ruleset = try Ruleset.parse(yaml: "ruleset: t\nversion: \"1\"\nrules:\n" + rules, file: "t.yaml")
        return try PolicyEngine(rulesets: [ruleset], regexCompiler: PCRE2RegexCompiler())
    }

    @Test func theLegacyHandshakeIsCutWhereThePolicyRefusesMCP() throws {
        let tx = Self.exchange(.GET)
        tx.verdict.policy = try Self.policy("  - id: no-mcp\n    match: { mcp: any }\n    action: block\n")
        let filter = LegacySSEFilter(identity: nil, logger: Logger(label: "test"))
        let (out, statuses) = Self.dripFeed(Self.handshake) { filter.responseBody(&$0, exchange: tx) }
        guard statuses.count == 1, case .cut = statuses[0] else {
            Issue.record("one cut, at the end of the endpoint event: \(statuses)")
            return
        }
        // Parts pass while the event is incomplete; the blank line that would dispatch it never does.
        #expect(out == String(Self.handshake.dropLast()), "the client never gets a complete endpoint event")
        #expect(tx.verdict.action == .block && tx.verdict.rule == "no-mcp")
        #expect(tx.verdict.detections == ["MCP SSE"])
    }

    @Test func theHandshakeIsOnlyNotedWhereMCPIsAllowed() throws {
        let tx = Self.exchange(.GET)
        tx.verdict.policy = try Self.policy("  - id: other\n    match: { host: [\"elsewhere.example\"] }\n    action: block\n")
        let filter = LegacySSEFilter(identity: nil, logger: Logger(label: "test"))
        let (out, statuses) = Self.dripFeed(Self.handshake) { filter.responseBody(&$0, exchange: tx) }
        #expect(statuses.isEmpty)
        #expect(out == Self.handshake)
        #expect(tx.verdict.detections == ["MCP SSE"] && tx.verdict.action == .allow)
    }

    @Test func anEventStreamThatIsNotTheHandshakeFlowsUntouched() throws {
        let tx = Self.exchange(.GET)
        tx.verdict.policy = try Self.policy("  - id: no-mcp\n    match: { mcp: any }\n    action: block\n")
        let filter = LegacySSEFilter(identity: nil, logger: Logger(label: "test"))
        let ticker = "event: price\ndata: {\"AAPL\": 1}\n\n" + String(repeating: "data: tick\n\n", count: 500)
        let (out, statuses) = Self.dripFeed(ticker) { filter.responseBody(&$0, exchange: tx) }
        #expect(statuses.isEmpty && out == ticker && tx.verdict.detections.isEmpty)
        #expect(LegacySSEFilter.applies(to: Self.head([("Content-Type", "text/event-stream; charset=utf-8")])))
        #expect(!LegacySSEFilter.applies(to: Self.head([("Content-Type", "application/json")])))
    }

    // MARK: usage chunk

    static let openAIStreamWithUsage = #"data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi"}}]}"# + "\n\n"
        + #"data: {"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"# + "\n\n"
        + "data: [DONE]\n\n"

    @Test func theUsageChunkMeshgateAskedForIsDroppedWhereverTheStreamSplits() {
        let tx = Self.exchange()
        tx.llm.stripUsageChunk = true
        let filter = UsageChunkStripFilter()
        var head = Self.head([("Content-Type", "text/event-stream")])
        _ = filter.responseHead(&head, exchange: tx)
        #expect(!filter.passesBodyThrough)
        var (out, statuses) = Self.dripFeed(Self.openAIStreamWithUsage) { filter.responseBody(&$0, exchange: tx) }
        var tail = ResponseTail()
        _ = filter.responseEnd(&tail, exchange: tx)
        out += tail.body.map { String(buffer: $0) } ?? ""
        #expect(statuses.isEmpty)
        #expect(out.contains(#""content":"hi""#) && out.hasSuffix("data: [DONE]\n\n"))
        #expect(!out.contains("usage"))
    }

    @Test func withoutTheFlagTheStreamPassesThrough() {
        let filter = UsageChunkStripFilter()
        var head = Self.head([("Content-Type", "text/event-stream")])
        _ = filter.responseHead(&head, exchange: Self.exchange())
        #expect(filter.passesBodyThrough)
    }

    // MARK: AI attempts and translation

    static func aiExchange(candidates: Int = 1) throws -> HTTPTransaction {
        let anthropic = try #require(AIRoutes.Provider(name: "anthropic", format: .anthropic, baseURL: "https://api.anthropic.com/v1", apiKey: "k"))
        let tx = Self.exchange()
        tx.llm.attempts = AIAttempts(callerFormat: .openai, callerEndpoint: .chatCompletions, callerModel: "claude",
                                   body: Array(#"{"model":"claude","stream":true,"messages":[]}"#.utf8),
                                   candidates: Array(repeating: AIRoutes.Candidate(provider: anthropic, upstreamModel: "claude-x", model: "claude"), count: candidates))
        return tx
    }

    @Test func aRetryableAnswerMovesOnWhileThereIsAFallback() throws {
        let tx = try Self.aiExchange(candidates: 2)
        var head = Self.head([("Retry-After", "1")], status: .serviceUnavailable)
        guard case .retry(let outcome, let retryAfter) = AIAttemptFilter().responseHead(&head, exchange: tx) else {
            Issue.record("a 503 with a fallback left is retried")
            return
        }
        #expect(outcome == "503" && retryAfter == "1")
    }

    @Test func anyOtherAnswerIsTheCallsAndSaysWhatMeshgateDecided() throws {
        let tx = try Self.aiExchange(candidates: 1)
        var head = Self.head([], status: .serviceUnavailable)
        guard case .continue = AIAttemptFilter().responseHead(&head, exchange: tx) else {
            Issue.record("the last candidate's 503 is the caller's")
            return
        }
        #expect(head.headers.first(name: "X-Meshgate-Action") == "allow")
        #expect(tx.llm.attempts?.outcomes == ["anthropic/claude-x: 503"])
    }

    static let anthropicAnswer = #"{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"hello there"}],"stop_reason":"end_turn","usage":{"input_tokens":3,"output_tokens":2}}"#

    @Test func aWholeAnswerKeepsItsHeadUntilItIsTranslated() throws {
        let tx = try Self.aiExchange()
        let filter = ResponseTranslationFilter(maxResponseBytes: 1 << 20, callbacks: Callbacks())
        var head = Self.head([("Content-Type", "application/json"), ("Content-Length", "\(Self.anthropicAnswer.utf8.count)")])
        guard case .consumed = filter.responseHead(&head, exchange: tx) else {
            Issue.record("the head is held")
            return
        }
        let (out, statuses) = Self.dripFeed(Self.anthropicAnswer) { filter.responseBody(&$0, exchange: tx) }
        #expect(out.isEmpty && statuses.count == Self.anthropicAnswer.utf8.count, "every part is kept")
        var tail = ResponseTail()
        guard case .continue = filter.responseEnd(&tail, exchange: tx), let sent = tail.head, let body = tail.body else {
            Issue.record("the end sends the held head and the translation")
            return
        }
        let text = String(buffer: body)
        #expect(text.contains(#""object":"chat.completion""#) && text.contains("hello there"))
        #expect(sent.headers.first(name: "Content-Length") == String(body.readableBytes), "the head announces the translated length")
    }

    @Test func anAnswerLargerThanTheCapIs502() throws {
        let tx = try Self.aiExchange()
        let filter = ResponseTranslationFilter(maxResponseBytes: 16, callbacks: Callbacks())
        var head = Self.head([("Content-Type", "application/json")])
        _ = filter.responseHead(&head, exchange: tx)
        var part = ByteBuffer(string: Self.anthropicAnswer)
        guard case .respond(let status, let message) = filter.responseBody(&part, exchange: tx) else {
            Issue.record("refused in the caller's format")
            return
        }
        #expect(status == .badGateway && message.contains("ai.max_response_bytes"))
    }

    @Test func anAnswerThatIsNotTheProvidersJSONIs502NamingWhy() throws {
        let tx = try Self.aiExchange()
        let filter = ResponseTranslationFilter(maxResponseBytes: 1 << 20, callbacks: Callbacks())
        var head = Self.head([("Content-Type", "application/json")])
        _ = filter.responseHead(&head, exchange: tx)
        var part = ByteBuffer(string: "<html>oops</html>")
        _ = filter.responseBody(&part, exchange: tx)
        var tail = ResponseTail()
        guard case .respond(.badGateway, let message) = filter.responseEnd(&tail, exchange: tx) else {
            Issue.record("502")
            return
        }
        #expect(message.contains("openai format") && tx.audit.error?.contains("could not be translated") == true)
        #expect(tail.head == nil, "the held 200 never goes out")
    }

    @Test func aLargeAnswerIsTranslatedOffTheEventLoop() async throws {
        let tx = try Self.aiExchange()
        let callbacks = Callbacks()
        let filter = ResponseTranslationFilter(maxResponseBytes: 1 << 24, callbacks: callbacks)
        var head = Self.head([("Content-Type", "application/json")])
        _ = filter.responseHead(&head, exchange: tx)
        let long = String(repeating: "x", count: ResponseTranslationFilter.offLoopTranslationBytes)
        var part = ByteBuffer(string: Self.anthropicAnswer.replacingOccurrences(of: "hello there", with: long))
        _ = filter.responseBody(&part, exchange: tx)
        var tail = ResponseTail()
        guard case .pause = filter.responseEnd(&tail, exchange: tx), callbacks.started.count == 1 else {
            Issue.record("the end waits for the translation")
            return
        }
        guard case .continue = await callbacks.started[0]() else {
            Issue.record("the translation is back")
            return
        }
        guard case .continue = filter.responseEnd(&tail, exchange: tx), let body = tail.body else {
            Issue.record("offered again, the end sends it")
            return
        }
        #expect(tail.head != nil && body.readableBytes > long.utf8.count)
    }

    static let anthropicStream = [
        #"event: message_start"# + "\n" + #"data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[],"usage":{"input_tokens":3,"output_tokens":1}}}"#,
        #"event: content_block_start"# + "\n" + #"data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        #"event: content_block_delta"# + "\n" + #"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hello there"}}"#,
        #"event: content_block_stop"# + "\n" + #"data: {"type":"content_block_stop","index":0}"#,
        #"event: message_delta"# + "\n" + #"data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}"#,
        #"event: message_stop"# + "\n" + #"data: {"type":"message_stop"}"#,
    ].joined(separator: "\n\n") + "\n\n"

    @Test func aStreamIsTranslatedEventByEventHoweverItIsSplit() throws {
        let tx = try Self.aiExchange()
        let filter = ResponseTranslationFilter(maxResponseBytes: 1 << 20, callbacks: Callbacks())
        var head = Self.head([("Content-Type", "text/event-stream"), ("Content-Length", "999")])
        guard case .continue = filter.responseHead(&head, exchange: tx) else {
            Issue.record("a stream's head goes out at once")
            return
        }
        #expect(!head.headers.contains(name: "content-length"), "a translated body has another length")
        #expect(!filter.passesBodyThrough)
        var (out, statuses) = Self.dripFeed(Self.anthropicStream) { filter.responseBody(&$0, exchange: tx) }
        var tail = ResponseTail()
        _ = filter.responseEnd(&tail, exchange: tx)
        out += tail.body.map { String(buffer: $0) } ?? ""
        #expect(statuses.isEmpty)
        #expect(out.contains("chat.completion.chunk") && out.contains("hello there") && out.hasSuffix("data: [DONE]\n\n"))
        #expect(tx.llm.stripUsageChunk, "the caller did not ask for the usage chunk the translation ends with")
    }

    @Test func aStreamEventThatCannotBeTranslatedEndsTheResponse() throws {
        let tx = try Self.aiExchange()
        let filter = ResponseTranslationFilter(maxResponseBytes: 1 << 20, callbacks: Callbacks())
        var head = Self.head([("Content-Type", "text/event-stream")])
        _ = filter.responseHead(&head, exchange: tx)
        var part = ByteBuffer(string: "event: message_start\ndata: not json\n\n")
        guard case .end = filter.responseBody(&part, exchange: tx) else {
            Issue.record("the response ends with the error event")
            return
        }
        #expect(tx.audit.error?.contains("could not be translated") == true)
    }

    @Test func callsInTheCallersOwnFormatAreNotTranslated() throws {
        let tx = try Self.aiExchange()
        tx.llm.attempts = AIAttempts(callerFormat: .anthropic, callerEndpoint: .messages, callerModel: "claude", body: [],
                                   candidates: tx.llm.attempts?.candidates ?? [])
        let filter = ResponseTranslationFilter(maxResponseBytes: 1 << 20, callbacks: Callbacks())
        var head = Self.head([("Content-Type", "application/json"), ("Content-Length", "5")])
        guard case .continue = filter.responseHead(&head, exchange: tx) else {
            Issue.record("passed on")
            return
        }
        #expect(filter.passesBodyThrough && head.headers.contains(name: "content-length"))
    }

    // MARK: metering

    static let hardCapped = [TokenBudget(subject: .team("t"), tokens: 10_000, window: .month, hardEnforcement: true)]
    static let charge = TokenBudget(subject: .team("t"), tokens: 10_000, window: .month).charge(at: 0)

    /// A hard-capped streaming Anthropic call admitted with `reservation`, and its gateway.
    static func meteredExchange(_ reservation: LedgerReservation) -> (HTTPTransaction, AIGateway) {
        let gateway = AIGateway(recognizer: LLMCallRecognizer(), budgets: hardCapped, ledger: InMemoryTokenLedger(), spool: nil, failOpen: false)
        let tx = exchange()
        var metered = MeteredCall(call: LLMCall(provider: "anthropic", endpoint: .messages),
                                  facts: LLMRequestFacts(model: "claude", stream: true, maxOutputTokens: 10), defaultMaxOutputTokens: 4096, hardCap: true)
        metered.admitted(reservation)
        tx.llm.metered = metered
        return (tx, gateway)
    }

    @Test func aHardCappedStreamPastWhatItHoldsWaitsForTheLedgerAndIsCutWhenItMayNotGrow() async throws {
        let (tx, gateway) = Self.meteredExchange(LedgerReservation(id: "gone", tokens: 10, charges: [Self.charge], remaining: 0, resetsAt: 100))
        let callbacks = Callbacks()
        let filter = LLMMeteringFilter(ai: gateway, identity: Identity(name: "a", team: "t"), logger: Logger(label: "test"), callbacks: callbacks)
        var head = Self.head([("Content-Type", "text/event-stream")])
        _ = filter.responseHead(&head, exchange: tx)
        #expect(head.headers.first(name: "X-Meshgate-Budget-Remaining") == "0")
        // message_start alone reports more input tokens than the 10 held.
        var first = ByteBuffer(string: Self.anthropicStream.replacingOccurrences(of: #""input_tokens":3"#, with: #""input_tokens":4000"#))
        guard case .pause = filter.responseBody(&first, exchange: tx) else {
            Issue.record("nothing more reaches the client before the ledger answers")
            return
        }
        #expect(callbacks.readsHeld && callbacks.started.count == 1)
        // The ledger does not know the reservation (it cannot grow): the stream ends with the error event.
        guard case .end(let event) = await callbacks.started[0]() else {
            Issue.record("cut")
            return
        }
        #expect(String(buffer: event).contains("rate_limit"))
        #expect(tx.verdict.action == .limit && tx.audit.error != nil)
    }

    @Test func aStreamWithinWhatItHoldsFlows() throws {
        let (tx, gateway) = Self.meteredExchange(LedgerReservation(id: "r", tokens: 5000, charges: [Self.charge], remaining: 5000, resetsAt: 100))
        let callbacks = Callbacks()
        let filter = LLMMeteringFilter(ai: gateway, identity: nil, logger: Logger(label: "test"), callbacks: callbacks)
        var head = Self.head([("Content-Type", "text/event-stream")])
        _ = filter.responseHead(&head, exchange: tx)
        let (out, statuses) = Self.dripFeed(Self.anthropicStream) { filter.responseBody(&$0, exchange: tx) }
        #expect(statuses.isEmpty && out == Self.anthropicStream && !callbacks.readsHeld)
        #expect(!filter.passesBodyThrough, "charged at the end")
    }
}
