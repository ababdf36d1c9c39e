import MeshgateAI
import MeshgateAudit
import MeshgateCore
import NIOCore
import NIOHTTP1

/// The AI gateway inside the proxy: the `ai` listener's authentication and routing, and for every
/// recognised LLM call (there or intercepted on its way to a provider) the token reservation before
/// it starts, the metering of its response, the hard cut at a cap, and the charge when it ends.
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
        state = .inspecting(tx)
    }

    /// Resolves a held `ai` listener call's model to its candidates (the provider, then the
    /// fallbacks) and points it at the first. Returns false when it answered the call itself.
    func routeAICall(_ tx: HTTPTransaction, context: ChannelHandlerContext) -> Bool {
        guard let ai = services.ai, let call = tx.llmCall else { return false }
        switch ai.routes.resolve(model: tx.llmFacts?.model, format: call.format) {
        case .unknownModel(let model, let known):
            let named = model.map { "model '\($0)' is not configured" } ?? "the request names no model"
            let list = known.isEmpty ? "none are configured (ai.models)" : "configured: " + known.joined(separator: ", ")
            respondAI(tx, format: call.format, status: .notFound, message: "meshgate: \(named); \(list)")
            return false
        case .candidates(let candidates):
            var body: [UInt8] = []
            for case .body(.byteBuffer(let chunk)) in tx.buffered { body += chunk.readableBytesView }
            tx.aiAttempts = AIAttempts(callerFormat: call.format, callerEndpoint: call.endpoint,
                                       callerModel: tx.llmFacts?.model ?? "", body: body, candidates: candidates)
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
        tx.buffered = [.body(.byteBuffer(ByteBuffer(bytes: body))), .end(nil)]
        tx.bufferedBytes = body.count
        tx.bodyForwarded = false
        tx.llmCall = LLMCall(provider: provider.name, endpoint: endpoint)
        tx.metered?.retarget(LLMCall(provider: provider.name, endpoint: endpoint))
        let origin = HostPort(host: provider.host, port: provider.port)
        let query = tx.head.uri.firstIndex(of: "?").map { String(tx.head.uri[$0...]) } ?? ""
        let target = ForwardTarget(scheme: provider.scheme, origin: origin, path: provider.pathPrefix + endpoint.path + query,
                                   serverName: provider.scheme == "https" && !origin.isIPLiteral ? provider.host : nil)
        tx.target = target
        tx.scheme = target.scheme
        tx.host = origin.host
        tx.port = origin.port
        tx.path = target.path
        var headers = tx.head.headers
        for name in ["authorization", "x-api-key", "proxy-authorization", "api-key", "transfer-encoding"] { headers.remove(name: name) }
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
        tx.responseTranslation = nil
        return true
    }

    /// Starts the current attempt, with a deadline for the provider's response head.
    func startAttempt(_ tx: HTTPTransaction, context: ChannelHandlerContext) {
        if let ai = services.ai, tx.aiAttempts != nil {
            tx.attemptTimer?.cancel()
            tx.attemptTimer = context.eventLoop.scheduleTask(in: TimeAmount(ai.requestTimeout)) { [self] in
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
        guard var attempts = tx.aiAttempts, attempts.canFallBack, !tx.responseHeadSent else { return false }
        tx.attemptTimer?.cancel()
        let delay = attempts.backoff(retryAfter: retryAfter)
        let failed = attempts.current.label
        attempts.fail(outcome)
        tx.aiAttempts = attempts
        logger.info("LLM provider failed; trying the model's fallback", metadata: [
            "failed": "\(failed)", "outcome": "\(outcome)", "next": "\(attempts.current.label)",
        ])
        state = .admitting(tx)
        context.eventLoop.scheduleTask(in: delay) { [self] in
            guard case .admitting(let current) = state, current === tx, let context = self.context else { return }
            if prepareAttempt(tx) {
                askForStreamUsage(tx)
                startAttempt(tx, context: context)
            }
        }
        return true
    }

    /// Decides at a provider's response head whether the caller gets it (translated as needed) or
    /// the call moves on to a fallback. Returns true when it moved on.
    func providerAnswered(_ tx: HTTPTransaction, _ head: HTTPResponseHead, connection: UpstreamConnection,
                          context: ChannelHandlerContext) -> Bool {
        guard var attempts = tx.aiAttempts else { return false }
        tx.attemptTimer?.cancel()
        let status = Int(head.status.code)
        if AIAttempts.isRetryable(status: status), attempts.canFallBack {
            connection.delegate = nil
            connection.close()
            return retryAttempt(tx, outcome: String(status), retryAfter: head.headers.first(name: "retry-after"), context: context)
        }
        attempts.answered(String(status))
        tx.aiAttempts = attempts
        let from = attempts.current.provider.format
        guard from != attempts.callerFormat else { return false }
        if status < 400, UsageMeter.isEventStream(contentType: head.headers.first(name: "content-type")) {
            tx.responseTranslation = .stream(StreamTranslator(from: from, to: attempts.callerFormat, model: attempts.callerModel))
            // A translated OpenAI stream ends with a usage chunk; a caller that did not ask for one does not get it.
            if attempts.callerFormat == .openai, LLMRequestFacts.includeUsageEdit(body: attempts.body, endpoint: attempts.callerEndpoint) != nil {
                tx.usageFilter = UsageChunkFilter()
            }
        } else {
            tx.responseTranslation = .whole(body: ByteBuffer(), status: status, from: from, to: attempts.callerFormat, model: attempts.callerModel)
        }
        return false
    }

    /// A response body chunk in the caller's format: translated event by event, or held (nil)
    /// until the whole answer can be translated.
    func translateResponse(_ tx: HTTPTransaction, _ buffer: ByteBuffer) -> ByteBuffer? {
        switch tx.responseTranslation {
        case .stream(var translator):
            let out = translator.translate(buffer)
            tx.responseTranslation = .stream(translator)
            return out
        case .whole(var body, let status, let from, let to, let model):
            var chunk = buffer
            body.writeBuffer(&chunk)
            tx.responseTranslation = .whole(body: body, status: status, from: from, to: to, model: model)
            return nil
        case nil:
            return buffer
        }
    }

    /// What the translation still owes the caller when the provider's response ends.
    func finishResponseTranslation(_ tx: HTTPTransaction) -> ByteBuffer? {
        defer { tx.responseTranslation = nil }
        switch tx.responseTranslation {
        case .stream(var translator):
            return translator.finish()
        case .whole(let body, let status, let from, let to, let model):
            let bytes = Array(body.readableBytesView)
            if status >= 400 {
                return ByteBuffer(bytes: ResponseTranslator.translateError(bytes, status: status, from: from, to: to))
            }
            do {
                return ByteBuffer(bytes: try ResponseTranslator.translate(bytes, from: from, to: to, model: model))
            } catch {
                tx.error = "provider response could not be translated: \(error)"
                return ByteBuffer(bytes: Array(ProviderError.body(format: to, status: 502, message: "meshgate: \(tx.error ?? "")").utf8))
            }
        case nil:
            return nil
        }
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

    // MARK: admission

    /// Forwards an allowed request; an LLM call first reserves its likely cost on every budget that
    /// applies (and is refused with 429 when it does not fit).
    func admitAndForward(_ tx: HTTPTransaction, context: ChannelHandlerContext) {
        guard let ai = services.ai, let call = tx.llmCall else { return startForward(tx, context: context) }
        let metered = MeteredCall(call: call, facts: tx.llmFacts ?? LLMRequestFacts(),
                                  defaultMaxOutputTokens: ai.defaultMaxOutputTokens, hardCap: ai.hardCap(for: identity))
        tx.metered = metered
        state = .admitting(tx)
        let caller = identity
        let tokens = metered.reservationTokens
        context.eventLoop.makeFutureWithTask { await ai.admit(tokens: tokens, identity: caller) }.whenSuccess { [self] admission in
            guard case .admitting(let current) = state, current === tx, let context = self.context else {
                // The client left while the ledger answered.
                if case .admitted(let reservation) = admission { Task { await ai.release(reservation) } }
                return
            }
            admitted(tx, admission, context: context)
        }
    }

    private func admitted(_ tx: HTTPTransaction, _ admission: AIGateway.Admission, context: ChannelHandlerContext) {
        guard let call = tx.llmCall else { return }
        // On the ai listener the caller may speak another format than the provider it is routed to.
        let format = tx.aiAttempts?.callerFormat ?? call.format
        switch admission {
        case .refused(let refusal):
            tx.metered?.refused(refusal)
            tx.action = .limit
            let retryAfter = refusal.retryAfterSeconds(now: Double(tx.startedWallMillis) / 1000)
            var headers = Self.budgetHeaders(remaining: refusal.remaining, resetsAt: refusal.charge.period.end)
            headers.add(name: "Retry-After", value: String(retryAfter))
            // The cap will not move before the window ends, so SDKs should not retry at once.
            headers.add(name: "x-should-retry", value: "false")
            headers.add(name: "X-Meshgate-Action", value: PolicyAction.limit.rawValue)
            respondAI(tx, format: format, status: .tooManyRequests,
                      message: ProviderError.message(for: refusal), headers: headers)
        case .unavailable(let reason):
            tx.error = reason
            respondAI(tx, format: format, status: .serviceUnavailable,
                      message: "meshgate: token usage cannot be recorded, so the call is refused (ai.ledger_unavailable: fail_closed): \(reason)")
        case .admitted(let reservation):
            tx.metered?.admitted(reservation)
            askForStreamUsage(tx)
            startAttempt(tx, context: context)
        }
    }

    /// OpenAI streams report usage only when asked (`stream_options.include_usage`); ask for the
    /// caller when it did not, so a stream is charged from the provider's own count. Only a whole,
    /// unencoded held body is edited, and `Content-Length` follows the edit.
    func askForStreamUsage(_ tx: HTTPTransaction) {
        guard let call = tx.llmCall, tx.llmFacts?.stream == true, call.endpoint.acceptsStreamOptions, tx.requestEnded,
              !tx.head.headers.contains(name: "content-encoding") else { return }
        var body = ByteBuffer()
        var trailers: HTTPHeaders?
        for part in tx.buffered {
            switch part {
            case .body(.byteBuffer(var chunk)): body.writeBuffer(&chunk)
            case .end(let end): trailers = end
            default: return
            }
        }
        guard let edit = LLMRequestFacts.includeUsageEdit(body: body, endpoint: call.endpoint) else { return }
        let edited = edit.applied(to: body)
        tx.usageFilter = UsageChunkFilter()
        tx.buffered = [.body(.byteBuffer(edited)), .end(trailers)]
        tx.bufferedBytes = edited.readableBytes
        if tx.head.headers.contains(name: "content-length") {
            tx.head.headers.replaceOrAdd(name: "Content-Length", value: String(edited.readableBytes))
        }
    }

    // MARK: the response

    /// Adds the budget headers to a metered call's response head and starts its meter.
    func meterResponseHead(_ tx: HTTPTransaction, _ head: HTTPResponseHead, into out: inout HTTPResponseHead) {
        guard tx.metered != nil else { return }
        tx.metered?.responseStarted(status: Int(head.status.code), contentType: head.headers.first(name: "content-type"))
        if tx.metered?.streaming != true { tx.usageFilter = nil }
        if let reservation = tx.metered?.reservation, let remaining = reservation.remaining, let resetsAt = reservation.resetsAt {
            for (name, value) in Self.budgetHeaders(remaining: remaining, resetsAt: resetsAt) {
                out.headers.replaceOrAdd(name: name, value: value)
            }
        }
    }

    /// Meters a response body chunk; with `enforce: hard`, a stream that crosses the cap ends here
    /// with a provider-shaped error event instead of the chunk. Returns true when it was cut.
    func meterResponseBody(_ tx: HTTPTransaction, _ buffer: ByteBuffer, connection: UpstreamConnection,
                           context: ChannelHandlerContext) -> Bool {
        guard tx.metered?.consume(buffer) == true, let metered = tx.metered else { return false }
        connection.delegate = nil
        connection.close()
        logger.info("cut an LLM stream at its token cap", metadata: [
            "identity": "\(identity?.name ?? "-")", "provider": "\(metered.call.provider)", "model": "\(metered.model)",
        ])
        var event = context.channel.allocator.buffer(capacity: 256)
        // In the caller's format: on the ai listener it may differ from the provider's.
        event.writeString(ProviderError.rateLimitEvent(format: tx.aiAttempts?.callerFormat ?? metered.call.format, message: metered.cutMessage))
        tx.bytesOut += event.readableBytes
        tx.error = metered.cutMessage
        tx.action = .limit
        tx.responseEnded = true
        finishAudit(tx)
        context.write(wrapOutboundOut(.body(.byteBuffer(event))), promise: nil)
        // The connection closes after the end: a response whose length was announced cannot end early.
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { [self] _ in closeConnection() }
        return true
    }

    /// Charges (or releases) a metered call when its exchange ends, however it ends.
    func chargeLLMCall(_ tx: HTTPTransaction) {
        guard let ai = services.ai, var metered = tx.metered, metered.refusal == nil else { return }
        let usage = metered.finish()
        tx.metered = metered
        tx.chargedUsage = usage
        let reservation = metered.reservation
        let caller = identity
        if let usage {
            let call = metered.call, model = metered.model
            Task { await ai.settle(reservation, call: call, model: model, usage: usage, identity: caller) }
        } else if reservation != nil {
            Task { await ai.release(reservation) }
        }
    }

    // MARK: local answers

    static func budgetHeaders(remaining: Int, resetsAt: Int64) -> HTTPHeaders {
        HTTPHeaders([
            ("X-Meshgate-Budget-Remaining", String(max(0, remaining))),
            ("X-Meshgate-Budget-Reset", CivilDate.rfc3339(resetsAt)),
        ])
    }

    /// An error in the provider's shape, so the caller's SDK raises its usual exception.
    func respondAI(_ tx: HTTPTransaction, format: LLMFormat, status: HTTPResponseStatus, message: String,
                   headers extra: HTTPHeaders = HTTPHeaders()) {
        var headers = extra
        headers.add(name: "Content-Type", value: "application/json")
        if status.code >= 400, status != .tooManyRequests { tx.error = tx.error ?? message }
        if status == .unauthorized { headers.add(name: "WWW-Authenticate", value: "Bearer realm=\"meshgate\"") }
        let body = ProviderError.body(format: format, status: Int(status.code), message: message)
        respondLocally(tx, LocalResponse(status: status, headers: headers, body: body + "\n"), close: false)
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
        respondLocally(tx, LocalResponse(status: .ok, headers: headers, body: body + "\n"), close: false)
    }
}
