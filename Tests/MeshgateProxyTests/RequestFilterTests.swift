import Logging
import MeshgateAI
import MeshgateCore
import MeshgatePolicy
import NIOCore
import NIOHTTP1
import Testing

@testable import MeshgateProxy

/// The request filters driven with plain values: a head, then (when a filter holds it) the body,
/// through the filters in their order, as the handler runs them.
@Suite struct RequestFilterTests {
    static let rules = """
        ruleset: t
        version: "1"
        rules:
          - id: portal
            match: { host: ["portal.example.com"] }
            action: allow
          - id: no-shadow
            match: { host: ["shadow.example.com", "mcp.evil.example"] }
            action: block
          - id: to-portal
            match: { host: ["reroute.example.com"] }
            action: reroute
            target: https://portal.example.com/mcp
          - id: no-secrets
            match: { body: [secrets] }
            action: block
        dlp_profiles:
          secrets:
            patterns:
              - { name: AWS Access Key ID, regex: '\\bAKIA[0-9A-Z]{16}\\b' }

        """

    static func exchange(_ method: HTTPMethod, _ url: String, body: String? = nil, headers: [(String, String)] = []) throws -> HTTPTransaction {
        let target = try #require(AbsoluteURL(url))
        let origin = try #require(HostPort(authority: target.authority, defaultPort: 443))
        var all = HTTPHeaders(headers)
        if let body { all.replaceOrAdd(name: "Content-Length", value: String(body.utf8.count)) }
        let tx = HTTPTransaction(head: HTTPRequestHead(version: .http1_1, method: method, uri: url, headers: all), scheme: target.scheme,
                                 host: origin.host, port: origin.port, path: target.pathAndQuery, intercepted: true)
        tx.route.target = ForwardTarget(scheme: target.scheme, origin: origin, path: target.pathAndQuery, serverName: origin.host)
        tx.verdict.policy = try PolicyEngine(rulesets: [Ruleset.parse(yaml: rules, file: "t.yaml")], regexCompiler: PCRE2RegexCompiler())
        if let body {
            tx.requestBody.inspection = ByteBuffer(string: body)
            tx.requestBody.buffered = [.body(.byteBuffer(ByteBuffer(string: body))), .end(nil)]
            tx.progress.requestEnded = true
        }
        return tx
    }

    static func filters(_ configure: (inout ProxyConfiguration) -> Void = { _ in }) -> [any ExchangeFilter] {
        var configuration = ProxyConfiguration()
        configure(&configuration)
        let logger = Logger(label: "test")
        return [
            InspectionFilter(configuration: configuration, identity: nil, logger: logger),
            LLMRequestFilter(routes: nil),
            PolicyFilter(configuration: configuration, inspector: InspectionRequestInspector(), identity: nil, logger: logger),
            MCPServersInLLMFilter(logger: logger),
        ]
    }

    /// Runs the head hooks, then the body hooks when one held the body; the first status that is not `.continue`.
    static func run(_ filters: [any ExchangeFilter], _ tx: HTTPTransaction) -> FilterStatus {
        for filter in filters {
            switch filter.requestHead(exchange: tx) {
            case .continue: continue
            case .holdBody: tx.requestBody.holding = true
            case let status: return status
            }
        }
        guard tx.requestBody.holding else { return .continue }
        for filter in filters {
            let status = filter.requestBody(exchange: tx)
            if case .continue = status { continue }
            return status
        }
        return .continue
    }

    static func replyStatus(_ status: FilterStatus) -> HTTPResponseStatus? {
        if case .reply(let response, _) = status { return response.status }
        return nil
    }

    @Test func aHostRuleDecidesFromTheHeadWithoutHoldingTheBody() throws {
        let tx = try Self.exchange(.GET, "https://shadow.example.com/x")
        let status = Self.run(Self.filters(), tx)
        #expect(Self.replyStatus(status) == .forbidden)
        #expect(!tx.requestBody.holding && tx.verdict.rule == "no-shadow" && tx.verdict.action == .block)
    }

    @Test func aBodyRuleHoldsTheBodyAndBlocksASecret() throws {
        let tx = try Self.exchange(.POST, "https://paste.example.com/", body: "key=AKIAIOSFODNN7EXAMPLE")
        let status = Self.run(Self.filters(), tx)
        #expect(tx.requestBody.holding, "the rule needs the body")
        #expect(Self.replyStatus(status) == .forbidden)
        #expect(tx.verdict.rule == "no-secrets" && tx.verdict.detections.contains("AWS Access Key ID"))
    }

    @Test func aCleanBodyGoesOnWithItsDecisionKept() throws {
        let tx = try Self.exchange(.POST, "https://paste.example.com/", body: "note=nothing to see")
        guard case .continue = Self.run(Self.filters(), tx) else {
            Issue.record("allowed")
            return
        }
        #expect(tx.verdict.action == .allow && tx.verdict.decision != nil && tx.requestBody.inspected == Array("note=nothing to see".utf8))
    }

    @Test func aRerouteChangesWhereTheRequestGoes() throws {
        let tx = try Self.exchange(.GET, "https://reroute.example.com/sse?sessionId=7")
        guard case .continue = Self.run(Self.filters(), tx) else {
            Issue.record("rerouted requests go on")
            return
        }
        #expect(tx.route.target?.origin.host == "portal.example.com")
        #expect(tx.route.target?.path == "/mcp?sessionId=7", "the original query is kept")
        #expect(tx.verdict.redirectTarget == "https://portal.example.com/mcp")
    }

    @Test func anUndecodableBodyIsRefusedUnderTheRuleThatNeedsIt() throws {
        let tx = try Self.exchange(.POST, "https://paste.example.com/", body: "not gzip at all", headers: [("Content-Encoding", "gzip")])
        let status = Self.run(Self.filters(), tx)
        #expect(Self.replyStatus(status) == .forbidden)
        #expect(tx.verdict.detections.contains(PolicyEngine.undecodableBodyDetection) && tx.audit.error?.contains("not inspected") == true)
    }

    @Test func anUndecodableBodyIsInspectedAsSentWhenAllowed() throws {
        let tx = try Self.exchange(.POST, "https://paste.example.com/", body: "not gzip at all", headers: [("Content-Encoding", "gzip")])
        guard case .continue = Self.run(Self.filters { $0.undecodable = .allow }, tx) else {
            Issue.record("inspection.undecodable: allow lets it through")
            return
        }
        #expect(tx.verdict.detections.contains(PolicyEngine.undecodableBodyDetection))
    }

    @Test func anLLMCallNamingARefusedMCPServerIsRefusedInTheProvidersShape() throws {
        let body = #"{"model":"gpt-4o","tools":[{"type":"mcp","server_label":"evil","server_url":"https://mcp.evil.example/mcp"}],"input":"hi"}"#
        let tx = try Self.exchange(.POST, "https://api.openai.com/v1/responses", body: body, headers: [("Content-Type", "application/json")])
        tx.llm.call = LLMCall(provider: "openai", endpoint: .responses)
        let status = Self.run(Self.filters(), tx)
        guard case .reply(let response, _) = status else {
            Issue.record("refused: \(status)")
            return
        }
        #expect(response.status == .forbidden)
        #expect(response.body.contains("blocked_by_policy") && response.body.contains("mcp.evil.example"))
        #expect(tx.llm.facts?.model == "gpt-4o", "the call's body was read for its reservation")
    }

    @Test func aPlainRequestWithNoRulesHasNoFilters() throws {
        let tx = try Self.exchange(.GET, "https://example.com/")
        tx.verdict.policy = PolicyHolder().current
        let services = try HTTPProxyHandlerTests.makeServices()
        let filters = ExchangeFilterOrder.requestFilters(for: tx, mode: .explicit, services: services, identity: nil, callbacks: ExchangeFilterTests.Callbacks())
        #expect(filters.isEmpty, "nothing to decide, nothing allocated")
    }

    // MARK: admission

    static func admission(budget: Int) -> (LLMAdmissionFilter, ExchangeFilterTests.Callbacks) {
        let gateway = AIGateway(recognizer: LLMCallRecognizer(), budgets: [TokenBudget(subject: .team("t"), tokens: budget, window: .month, hardEnforcement: true)],
                                ledger: InMemoryTokenLedger(), spool: nil, failOpen: false)
        let callbacks = ExchangeFilterTests.Callbacks()
        return (LLMAdmissionFilter(ai: gateway, identity: Identity(name: "a", team: "t"), callbacks: callbacks), callbacks)
    }

    @Test func aCallLargerThanTheWholeCapIsRefused413NotToBeRetried() async throws {
        let (filter, callbacks) = Self.admission(budget: 10)
        let tx = try Self.exchange(.POST, "https://api.openai.com/v1/chat/completions", body: #"{"model":"gpt-4o","max_tokens":500,"messages":[]}"#)
        tx.llm.call = LLMCall(provider: "openai", endpoint: .chatCompletions)
        tx.llm.facts = LLMRequestFacts(model: "gpt-4o", maxOutputTokens: 500, textBytes: 40)
        tx.requestBody.holding = true
        guard case .pause = filter.requestBody(exchange: tx), callbacks.started.count == 1 else {
            Issue.record("the call waits for the ledger")
            return
        }
        guard case .continue = await callbacks.started[0]() else {
            Issue.record("the ledger answered")
            return
        }
        guard case .reply(let response, _) = filter.requestBody(exchange: tx) else {
            Issue.record("offered again, the refusal is the answer")
            return
        }
        // 500 output tokens can never fit a 10-token cap: waiting for the window would not help.
        #expect(response.status == .payloadTooLarge && response.headers.first(name: "x-should-retry") == "false")
        #expect(tx.verdict.action == .limit)
    }

    @Test func anAdmittedStreamIsAskedForItsUsage() async throws {
        let (filter, callbacks) = Self.admission(budget: 100_000)
        let body = #"{"model":"gpt-4o","stream":true,"max_tokens":50,"messages":[]}"#
        let tx = try Self.exchange(.POST, "https://api.openai.com/v1/chat/completions", body: body)
        tx.llm.call = LLMCall(provider: "openai", endpoint: .chatCompletions)
        tx.llm.facts = LLMRequestFacts(body: Array(body.utf8))
        tx.requestBody.holding = true
        _ = filter.requestBody(exchange: tx)
        _ = await callbacks.started[0]()
        guard case .continue = filter.requestBody(exchange: tx) else {
            Issue.record("admitted")
            return
        }
        #expect(tx.llm.metered?.reservation != nil)
        #expect(tx.heldBody.map { String(buffer: $0) }?.contains("include_usage") == true && tx.llm.stripUsageChunk)
    }
}
