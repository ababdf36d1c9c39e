import MeshgateAI
import MeshgateCore
import NIOCore
import NIOHTTP1

/// The `ai` listener inside the proxy: the caller's identity token decides who pays, the body's
/// model picks its candidates (provider, then fallbacks), each attempt's body is translated into
/// its provider's format, and the answer is translated back into the caller's.
extension HTTPProxyHandler {
    // MARK: the ai listener

    /// A request head on the `ai` listener: the caller's identity token decides who pays, the path
    /// picks the endpoint, and the body (held) will name the model that picks the provider.
    func receivedAIGatewayHead(_ tx: HTTPTransaction, context: ChannelHandlerContext) {
        let head = tx.head
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let format: LLMFormat = path.hasSuffix("/messages") || head.headers.contains(name: "anthropic-version") ? .anthropic : .openai
        tx.path = head.uri
        let credentials = head.headers.first(name: "authorization") ?? head.headers.first(name: "x-api-key").map { "Bearer " + $0 }
        switch services.identities.identify(client: clientAddress, credentials: credentials) {
        case .identified(let found):
            identity = found
        case .anonymous:
            return respondAI(tx, format: format, status: .unauthorized,
                             message: "meshgate: send your identity token as Authorization: Bearer TOKEN or x-api-key (identities[].token_sha256); provider keys stay on the gateway")
        case .invalidCredentials:
            return respondAI(tx, format: format, status: .unauthorized, message: "meshgate: unknown identity token")
        }
        guard let ai = services.ai else {
            return respondAI(tx, format: format, status: .serviceUnavailable, message: "meshgate: the AI gateway is not configured (ai:)")
        }
        if head.method == .GET, path == "/v1/models" {
            return respondModels(tx, routes: ai.routes, format: format)
        }
        guard head.method == .POST, let endpoint = LLMEndpoint.allCases.first(where: { $0.path == path }) else {
            return respondAI(tx, format: format, status: .notFound,
                             message: "meshgate: \(head.method.rawValue) \(path) is not an endpoint of the ai listener; use POST /v1/chat/completions, POST /v1/messages or GET /v1/models")
        }
        tx.llmCall = LLMCall(provider: "", endpoint: endpoint)
        tx.policy = services.policy.current
        // Routed and translated whole, so the body is always held.
        tx.holdingBody = true
        tx.inspection = ByteBuffer()
        runRequestFilters(tx)
    }

    /// Starts the current attempt, with a deadline for the provider's response head.
    func startAttempt(_ tx: HTTPTransaction, context: ChannelHandlerContext) {
        if let ai = services.ai, tx.aiAttempts != nil {
            tx.attemptTimer?.cancel()
            tx.attemptTimer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(ai.requestTimeout)) { [self] in
                attemptTimedOut(tx)
            }
        }
        startForward(tx, context: context)
    }

    private func attemptTimedOut(_ tx: HTTPTransaction) {
        guard !tx.responseHeadSent, !tx.audited, let context else { return }
        if case .forwarding(let current, let connection) = state, current === tx {
            connection.delegate = nil
            connection.close()
        }
        let seconds = services.ai.map { $0.requestTimeout.components.seconds } ?? 0
        if retryAttempt(tx, outcome: "no response within \(seconds)s", retryAfter: nil, context: context) { return }
        tx.aiAttempts?.answered("no response within \(seconds)s")
        respondAI(tx, format: tx.aiAttempts?.callerFormat ?? .openai, status: .gatewayTimeout,
                  message: "meshgate: the provider sent no response within \(seconds)s (ai.request_timeout)")
    }

    /// Moves a failed attempt on to the next candidate after a backoff, when there is one and the
    /// caller has seen nothing yet. Returns false when the failure must be answered as it is.
    func retryAttempt(_ tx: HTTPTransaction, outcome: String, retryAfter: String?, context: ChannelHandlerContext) -> Bool {
        // A provider that answered and then failed mid-body is not retried, even while its head is held.
        guard var attempts = tx.aiAttempts, attempts.canFallBack, !tx.responseHeadSent, !tx.responseHeadHeld else { return false }
        tx.attemptTimer?.cancel()
        let delay = attempts.backoff(retryAfter: retryAfter)
        let failed = attempts.current.label
        attempts.fail(outcome)
        tx.aiAttempts = attempts
        logger.info("LLM provider failed; trying the model's fallback", metadata: [
            "failed": "\(failed)", "outcome": "\(outcome)", "next": "\(attempts.current.label)",
        ])
        machine.enter(.admitting(tx))
        context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            guard case .admitting(let current) = state, current === tx, let context = self.context else { return }
            if let refusal = AIAttemptPlan.prepare(tx) { return respondLocally(tx, refusal, close: false) }
            LLMAdmissionFilter.askForStreamUsage(tx)
            startAttempt(tx, context: context)
        }
        return true
    }

    /// A failure before the provider answered, in the caller's format on the `ai` listener.
    func respondUpstreamFailure(_ tx: HTTPTransaction, status: HTTPResponseStatus, message: String, close: Bool) {
        if var attempts = tx.aiAttempts {
            attempts.answered(message)
            tx.aiAttempts = attempts
            tx.error = message
            respondAI(tx, format: attempts.callerFormat, status: status, message: "meshgate: \(message)")
        } else {
            respondLocally(tx, LocalResponse(status: status, message: message), close: close)
        }
    }

    /// `GET /v1/models`: the configured model names, in the caller's dialect.
    private func respondModels(_ tx: HTTPTransaction, routes: AIRoutes, format: LLMFormat) {
        let items: [String] = routes.catalogue.map { entry in
            let id = UsageReport.quote(entry.model), owner = UsageReport.quote(entry.provider)
            return format == .anthropic
                ? #"{"type":"model","id":"# + id + #","display_name":"# + id + "}"
                : #"{"id":"# + id + #","object":"model","created":0,"owned_by":"# + owner + "}"
        }
        let body = format == .anthropic
            ? #"{"data":["# + items.joined(separator: ",") + #"],"has_more":false}"#
            : #"{"object":"list","data":["# + items.joined(separator: ",") + "]}"
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "X-Meshgate-Action", value: tx.action.rawValue)
        respondLocally(tx, LocalResponse(status: .ok, headers: headers, body: body + "\n"), close: false)
    }
}
