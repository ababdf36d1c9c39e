import MeshgateAI
import MeshgateAudit
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
        tx.inspection = ByteBuffer()
        machine.enter(.inspecting(tx))
    }

    /// Resolves a held `ai` listener call's model to its candidates (the provider, then the
    /// fallbacks) and points it at the first. Returns false when it answered the call itself.
    func routeAICall(_ tx: HTTPTransaction, context: ChannelHandlerContext) -> Bool {
        guard let ai = services.ai, let call = tx.llmCall else { return false }
        guard let model = tx.llmFacts?.model, !model.isEmpty else {
            // Both providers answer a request without a model 400 (invalid_request_error).
            respondAI(tx, format: call.format, status: .badRequest, message: "meshgate: the request names no model (the body's \"model\" field)")
            return false
        }
        switch ai.routes.resolve(model: model, format: call.format) {
        case .unknownModel(let model, let known):
            let named = model.map { "model '\($0)' is not configured" } ?? "the request names no model"
            let list = known.isEmpty ? "none are configured (ai.models)" : "configured: " + known.joined(separator: ", ")
            respondAI(tx, format: call.format, status: .notFound, message: "meshgate: \(named); \(list)")
            return false
        case .candidates(let candidates):
            tx.aiAttempts = AIAttempts(callerFormat: call.format, callerEndpoint: call.endpoint, callerModel: tx.llmFacts?.model ?? "",
                                       body: tx.heldBody.map { Array($0.readableBytesView) } ?? [], candidates: candidates)
            tx.aiAttempts?.headers = tx.head.headers
            return prepareAttempt(tx)
        }
    }

    /// Points the call at its current candidate: the body translated into the provider's format
    /// (and model name), the provider's target and key instead of the caller's token.
    func prepareAttempt(_ tx: HTTPTransaction) -> Bool {
        guard let attempts = tx.aiAttempts else { return false }
        let candidate = attempts.current
        let provider = candidate.provider
        let translating = provider.format != attempts.callerFormat
        let endpoint: LLMEndpoint = translating ? (provider.format == .anthropic ? .messages : .chatCompletions) : attempts.callerEndpoint
        let body: [UInt8]
        if !translating, candidate.upstreamModel == attempts.callerModel {
            body = attempts.body
        } else if translating, attempts.callerEndpoint != .chatCompletions, attempts.callerEndpoint != .messages {
            respondAI(tx, format: attempts.callerFormat, status: .badRequest,
                      message: "meshgate: \(attempts.callerEndpoint.path) cannot be translated for provider '\(provider.name)' (\(provider.format.rawValue) format); only chat completions and messages translate")
            return false
        } else {
            do {
                body = try RequestTranslator.translate(attempts.body, from: attempts.callerFormat, to: provider.format, model: candidate.upstreamModel)
            } catch {
                respondAI(tx, format: attempts.callerFormat, status: .badRequest, message: "meshgate: \(error)")
                return false
            }
        }
        tx.replaceHeldBody(ByteBuffer(bytes: body))
        tx.bodyForwarded = false
        tx.llmCall = LLMCall(provider: provider.name, endpoint: endpoint)
        tx.metered?.retarget(LLMCall(provider: provider.name, endpoint: endpoint))
        let origin = HostPort(host: provider.host, port: provider.port)
        let query = tx.head.uri.firstIndex(of: "?").map { String(tx.head.uri[$0...]) } ?? ""
        let target = ForwardTarget(scheme: provider.scheme, origin: origin, path: provider.pathPrefix + endpoint.path + query,
                                   serverName: provider.scheme == "https" && !origin.isIPLiteral ? provider.host : nil, configured: true)
        tx.target = target
        tx.scheme = target.scheme
        tx.host = origin.host
        tx.port = origin.port
        tx.path = target.path
        var headers = attempts.headers
        for name in ["authorization", "x-api-key", "proxy-authorization", "api-key"] { headers.remove(name: name) }
        // The other format's headers (anthropic-version, anthropic-beta; openai-organization,
        // openai-beta) mean nothing to this provider or, worse, select behaviour by accident.
        let foreign = provider.format == .openai ? "anthropic-" : "openai-"
        for (name, _) in headers where name.lowercased().hasPrefix(foreign) { headers.remove(name: name) }
        // The caller's framing described its own body; this attempt sends `body`.
        headers.remove(name: "transfer-encoding")
        headers.replaceOrAdd(name: "Content-Length", value: String(body.count))
        if let key = provider.apiKey {
            switch provider.format {
            case .openai: headers.add(name: "Authorization", value: "Bearer \(key)")
            case .anthropic: headers.add(name: "x-api-key", value: key)
            }
        }
        if provider.format == .anthropic, !headers.contains(name: "anthropic-version") {
            headers.add(name: "anthropic-version", value: "2023-06-01")
        }
        tx.head.headers = headers
        return true
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
            if prepareAttempt(tx) {
                askForStreamUsage(tx)
                startAttempt(tx, context: context)
            }
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
