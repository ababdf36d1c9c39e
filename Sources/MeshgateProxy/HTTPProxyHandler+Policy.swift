import MeshgateAI
import MeshgateCore
import MeshgateInspection
import MeshgateJSON
import MeshgatePolicy
import NIOCore
import NIOHTTP1

extension HTTPProxyHandler {
    /// Decides a forwardable request: from its head when no rule needs the body, otherwise after
    /// holding the body (up to `inspection.max_body_bytes`) and inspecting it. The held body is then
    /// forwarded unchanged.
    func applyPolicy(_ tx: HTTPTransaction, context: ChannelHandlerContext) {
        let policy = services.policy.current
        tx.policy = policy
        if let ai = services.ai, tx.llmCall == nil {
            tx.llmCall = ai.recognizer.recognize(method: tx.head.method.rawValue, host: tx.host, port: tx.port, path: tx.path)
        }
        // With no rules loaded (the default config) every request is allowed: skip building the
        // policy request unless a small JSON body is read for the audit's mcp_method.
        if policy.ruleCount == 0, tx.llmCall == nil, !(Self.hasBody(tx.head) && Self.isSmallJSON(tx.head)) {
            startForward(tx, context: context)
            return
        }
        let request = policyRequest(for: tx)
        // Small JSON bodies are read even when the head decides, so the audit line can name the
        // JSON-RPC method (seeing which MCP servers agents use is half the point).
        // An LLM call's body sizes its token reservation, so it is held too.
        if Self.hasBody(tx.head), (policy.needsBody && policy.requiresBody(for: request)) || Self.isSmallJSON(tx.head) || tx.llmCall != nil {
            tx.inspection = Self.inspectionBuffer(for: tx.head, cap: configuration.maxInspectedBodyBytes)
            state = .inspecting(tx)
            return
        }
        decide(tx, request: request, body: nil, context: context)
    }

    /// A body part arrived while the request is held for inspection.
    func inspectBody(_ tx: HTTPTransaction, _ buffer: ByteBuffer) {
        tx.bytesIn += buffer.readableBytes
        tx.buffered.append(.body(.byteBuffer(buffer)))
        tx.bufferedBytes += buffer.readableBytes
        var incoming = buffer
        tx.inspection?.writeBuffer(&incoming)
        if case .aiGateway = mode {
            // The ai listener routes and translates whole requests, so it holds them to the end
            // (images make LLM requests large); providers themselves refuse more than 32 MB.
            guard tx.bufferedBytes > Self.maxAIRequestBytes else { return }
            tx.action = .block
            respondAI(tx, format: tx.llmCall?.format ?? .openai, status: .payloadTooLarge,
                      message: "meshgate: the request body is over \(Self.maxAIRequestBytes / 1_048_576) MiB, more than providers accept")
            return
        }
        guard tx.bufferedBytes > configuration.maxInspectedBodyBytes, let context else { return }
        switch configuration.overLimit {
        case .block:
            tx.action = .block
            tx.detections.append("Body over inspection limit")
            respondLocally(tx, LocalResponse(
                status: .payloadTooLarge,
                message: "request body exceeds \(configuration.maxInspectedBodyBytes) bytes and inspection.over_limit is block"
            ), close: true)
        case .inspectPrefix:
            // Decide on what we have; the rest streams through unchanged.
            decideHeld(tx, context: context)
        }
    }

    /// The whole held body arrived (or the inspection limit was reached).
    func decideHeld(_ tx: HTTPTransaction, context: ChannelHandlerContext) {
        let raw = tx.inspection.map { Array($0.readableBytesView) } ?? []
        tx.inspection = nil
        let cap = configuration.maxInspectedBodyBytes
        var body = raw
        // Every Content-Encoding line counts: the origin applies them all, in order.
        let encodings = tx.head.headers["content-encoding"]
        if !encodings.isEmpty {
            switch Self.decodeHeldBody(raw, contentEncoding: encodings.joined(separator: ", "), cap: cap, complete: tx.requestEnded) {
            case .success(let decoded):
                body = decoded
            case .failure(let error):
                tx.detections.append(PolicyEngine.undecodableBodyDetection)
                if refuseUndecodableBody(tx, error: error) { return }
                // inspection.undecodable: allow (or no rule needs the body): inspected as sent.
            }
        }
        if tx.llmCall != nil {
            var facts = LLMRequestFacts(body: body)
            // Past the inspection limit only a prefix was read: size the reservation by the whole body.
            if !tx.requestEnded, let length = tx.head.headers.first(name: "content-length").flatMap({ Int($0) }) {
                facts.textBytes = max(facts.textBytes, length)
            }
            tx.llmFacts = facts
            if case .aiGateway = mode, !routeAICall(tx, context: context) { return }
        }
        tx.noteInspectedBody(decodedBytes: body.count, cap: cap)
        decide(tx, request: policyRequest(for: tx), body: body.count <= cap ? body : Array(body.prefix(cap)), context: context)
    }

    /// Undoes the held body's Content-Encoding up to `cap`. When the request has not ended (only a
    /// prefix was held, `over_limit: inspect_prefix`) the stream is cut off on purpose, so that is
    /// no error: what was decoded is inspected.
    static func decodeHeldBody(_ raw: [UInt8], contentEncoding: String, cap: Int, complete: Bool) -> Result<[UInt8], BodyDecodingError> {
        Result { () throws(BodyDecodingError) in
            let decoder = try BodyDecoder(contentEncoding: contentEncoding, maxDecodedBytes: cap)
            let bytes = try decoder.decode(raw)
            if complete { try decoder.finish() }
            return bytes
        }
    }

    /// `inspection.undecodable: block`: a body a rule needs but meshgate cannot decode is refused
    /// under that rule, since the origin may decode what the rules could not see. Returns false
    /// when the request goes on (allowed by configuration, or no rule needs its body).
    private func refuseUndecodableBody(_ tx: HTTPTransaction, error: BodyDecodingError) -> Bool {
        guard configuration.undecodable == .block, let policy = tx.policy,
              let verdict = policy.undecodableBodyVerdict(for: policyRequest(for: tx)) else { return false }
        tx.action = .block
        tx.rule = verdict.rule
        tx.ruleset = verdict.ruleset
        tx.error = "request body not inspected: \(error)"
        // Client-controlled and possibly frequent: debug, not info.
        logger.debug("refused a body that could not be decoded", metadata: [
            "rule_id": "\(verdict.rule ?? "-")", "error": "\(error)",
        ])
        let response = PolicyResponse.block(rule: verdict.rule, portal: policy.portal, jsonRPC: nil, accept: tx.head.headers.first(name: "accept"))
        respondLocally(tx, response, close: Self.hasBody(tx.head) && !tx.requestEnded)
        return true
    }

    /// An empty buffer for a held body, sized up front when the length is announced so a 64 KiB
    /// body is not copied through every power of two on its way in.
    static func inspectionBuffer(for head: HTTPRequestHead, cap: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        if let length = head.headers.first(name: "content-length").flatMap({ Int($0) }), length > 0 {
            buffer.reserveCapacity(min(length, cap + 16 * 1024))
        }
        return buffer
    }

    private func decide(_ tx: HTTPTransaction, request: PolicyRequest, body: [UInt8]?, context: ChannelHandlerContext) {
        guard let policy = tx.policy else { return }
        let inspector = services.inspector
        var facts: BodyFacts?
        var evaluated = request
        if let body {
            let bodyFacts = inspector.facts(for: request, body: body, patternLiterals: policy.canonicalLiterals)
            facts = bodyFacts
            evaluated = request.withBody(bodyFacts)
        } else {
            // Header-only MCP (Mcp-Method, MCP-Protocol-Version, SSE handshake) needs no body.
            evaluated.bodyFacts = { inspector.facts(for: request, body: []) }
        }
        // The same call `meshgate rules test` makes, so the two cannot disagree.
        let decision = policy.decide(evaluated, isLLMCall: tx.llmCall != nil && body != nil, connectors: configuration.mcpConnectors)
        let verdict = decision.verdict
        let effective = decision.effective
        tx.action = effective.action
        tx.rule = effective.rule
        tx.ruleset = effective.ruleset
        tx.detections += effective.detections
        tx.mcpMethod = verdict.mcpMethod ?? facts?.mcp.methods.first ?? facts.flatMap { Self.jsonRPCMethod($0.canonicalValue) }
        for failure in verdict.matchErrors {
            // The engine applied inspection.on_match_error (under `block` a refusing rule counted the
            // pattern as matching and its detections say `Match limit: …`); the audit line notes the
            // error either way.
            tx.detections.append("Detection error: \(failure.rule)")
            logger.warning("pattern match limit hit", metadata: [
                "rule_id": "\(failure.rule)", "selector": "\(failure.selector)", "error": "\(failure.message)",
                "on_match_error": "\(policy.onMatchError.rawValue)",
            ])
        }

        switch verdict.action {
        case .allow, .log, .limit:
            if carryOutServerOutcomes(tx, decision) { return }
            admitAndForward(tx, context: context)
        case .block:
            let response = PolicyResponse.block(
                rule: verdict.rule,
                portal: policy.portal,
                jsonRPC: facts.flatMap { Self.jsonRPCShape($0.canonicalValue) },
                accept: tx.head.headers.first(name: "accept")
            )
            respondLocally(tx, response, close: Self.hasBody(tx.head) && !tx.requestEnded)
        case .redirect:
            guard let target = verdict.target else { return startForward(tx, context: context) }
            tx.redirectTarget = target
            respondLocally(tx, PolicyResponse.redirect(rule: verdict.rule, location: target), close: Self.hasBody(tx.head) && !tx.requestEnded)
        case .reroute:
            guard let target = verdict.target, let rerouted = Self.reroute(tx.target, to: target) else {
                tx.error = "reroute target '\(verdict.target ?? "")' is not an absolute http(s) URL"
                return respondLocally(tx, LocalResponse(status: .badGateway, message: tx.error ?? ""), close: true)
            }
            tx.redirectTarget = target
            tx.target = rerouted
            // Sent somewhere else, so it is no longer a call to the provider that was recognised.
            tx.llmCall = nil
            startForward(tx, context: context)
        }
    }

    func policyRequest(for tx: HTTPTransaction) -> PolicyRequest {
        PolicyRequest(
            scheme: tx.scheme,
            host: tx.host,
            port: tx.port,
            method: tx.head.method.rawValue,
            path: tx.path,
            headers: tx.head.headers.map { ($0.name, $0.value) },
            identity: identity
        )
    }

    /// Whether a JSON body is held for the audit's mcp_method when no rule needs it: when it is
    /// small (MCP messages nearly always are) or announces MCP (Streamable HTTP clients send
    /// `Accept: text/event-stream` or `Mcp-*` headers), up to 64 KiB. Other large JSON (LLM
    /// prompts, uploads) streams through without being held and scanned.
    /// The most the `ai` listener holds of one request.
    static let maxAIRequestBytes = 32 * 1_048_576

    static func isSmallJSON(_ head: HTTPRequestHead) -> Bool {
        guard let type = head.headers.first(name: "content-type"), type.containsASCIICaseInsensitive("json"),
              let length = head.headers.first(name: "content-length").flatMap({ Int($0) }) else { return false }
        if length <= 8 * 1024 { return true }
        return length <= 64 * 1024 && looksLikeMCP(head)
    }

    static func looksLikeMCP(_ head: HTTPRequestHead) -> Bool {
        head.headers.contains(name: "mcp-protocol-version") || head.headers.contains(name: "mcp-session-id")
            || head.headers[canonicalForm: "accept"].contains { $0.hasASCIICaseInsensitivePrefix("text/event-stream") }
    }

    static func hasBody(_ head: HTTPRequestHead) -> Bool {
        if head.headers.contains(name: "transfer-encoding") { return true }
        if let length = head.headers.first(name: "content-length"), let n = Int(length) { return n > 0 }
        return false
    }

    /// The target's scheme, host, port and path replace the original's; the original query is kept
    /// when the target has none (legacy MCP `/messages?sessionId=` keeps its session).
    static func reroute(_ original: ForwardTarget?, to url: String) -> ForwardTarget? {
        guard let parsed = AbsoluteURL(url), parsed.scheme == "http" || parsed.scheme == "https",
              let origin = HostPort(authority: parsed.authority, defaultPort: parsed.scheme == "https" ? 443 : 80) else { return nil }
        var path = parsed.pathAndQuery
        if !path.contains("?"), let query = original?.path.split(separator: "?", maxSplits: 1).dropFirst().first {
            path += "?" + query
        }
        return ForwardTarget(scheme: parsed.scheme, origin: origin, path: path, serverName: origin.isIPLiteral ? nil : origin.host, configured: true)
    }

    static func jsonRPCShape(_ value: JSONValue?) -> JSONRPCShape? {
        guard let value else { return nil }
        func isRequest(_ v: JSONValue) -> Bool { v["jsonrpc"]?.stringValue == "2.0" && v["method"]?.stringValue != nil }
        if let items = value.arrayValue {
            let requests = items.filter(isRequest)
            guard !requests.isEmpty else { return nil }
            return .batch(ids: requests.compactMap { $0["id"].map(\.description) })
        }
        guard isRequest(value) else { return nil }
        return .single(id: value["id"].map(\.description))
    }

    static func jsonRPCMethod(_ value: JSONValue?) -> String? {
        guard let value else { return nil }
        let first = value.arrayValue?.first ?? value
        guard first["jsonrpc"]?.stringValue == "2.0" else { return nil }
        return first["method"]?.stringValue
    }
}

extension BodyFacts {
    /// The parsed body when it is JSON-RPC (re-parsed from the canonical text). Bodies whose canonical
    /// form never says `"jsonrpc"` are not parsed again: escapes are decoded there, so the check is exact.
    var canonicalValue: JSONValue? {
        guard let canonical, ByteSearch.contains(canonical, Self.jsonrpcKey) else { return nil }
        return try? JSONParser.parse(canonical)
    }

    private static let jsonrpcKey = Array(#""jsonrpc""#.utf8)
}
