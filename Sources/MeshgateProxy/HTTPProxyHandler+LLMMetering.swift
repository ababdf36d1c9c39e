import MeshgateAI
import MeshgateAudit
import MeshgateCore
import NIOCore
import NIOHTTP1

/// Token metering for every recognised LLM call (on the `ai` listener or intercepted on its way to
/// a provider): the reservation before it starts, the metering of its response, the hard cut at a
/// cap, and the charge when it ends.
extension HTTPProxyHandler {
    // MARK: admission

    /// Forwards an allowed request; an LLM call first reserves its likely cost on every budget that
    /// applies (and is refused with 429 when it does not fit).
    func admitAndForward(_ tx: HTTPTransaction, context: ChannelHandlerContext) {
        guard let ai = services.ai, let call = tx.llmCall else { return startForward(tx, context: context) }
        let metered = MeteredCall(call: call, facts: tx.llmFacts ?? LLMRequestFacts(),
                                  defaultMaxOutputTokens: ai.defaultMaxOutputTokens, hardCap: ai.hardCap(for: identity))
        tx.metered = metered
        machine.enter(.admitting(tx))
        let caller = identity
        let facts = metered.facts, endpoint = call.endpoint
        context.eventLoop.makeFutureWithTask { await ai.admit(facts: facts, endpoint: endpoint, identity: caller) }.assumeIsolated().whenSuccess { [self] admission in
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
        case .tooLarge(let oversized):
            // Waiting for the window to reset would not help, so this is no 429.
            tx.action = .limit
            respondAI(tx, format: format, status: .payloadTooLarge, message: oversized.description,
                      headers: HTTPHeaders([("x-should-retry", "false")]))
        case .unavailable(let reason):
            tx.error = reason
            respondAI(tx, format: format, status: .serviceUnavailable,
                      message: "meshgate: token usage cannot be recorded, so the call is refused (ai.ledger_unavailable: fail_closed): \(reason)")
        case .admitted(let reservation):
            tx.metered?.admitted(reservation)
            capOutput(tx, reservation: reservation)
            askForStreamUsage(tx)
            startAttempt(tx, context: context)
        }
    }

    /// A hard-capped call that set no output cap gets the output part of its reservation as one,
    /// so the provider stops where the budget does. Only a whole, unencoded held body is edited.
    func capOutput(_ tx: HTTPTransaction, reservation: LedgerReservation?) {
        guard let ai = services.ai, let call = tx.llmCall, let facts = tx.llmFacts, tx.requestEnded,
              !tx.head.headers.contains(name: "content-encoding"), let body = tx.heldBody,
              let tokens = ai.injectedOutputCap(facts: facts, endpoint: call.endpoint, identity: identity, reservation: reservation),
              let edit = LLMRequestFacts.outputCapEdit(body: body, endpoint: call.endpoint, tokens: tokens) else { return }
        tx.replaceHeldBody(edit.applied(to: body))
    }

    /// OpenAI streams report usage only when asked (`stream_options.include_usage`); ask for the
    /// caller when it did not, so a stream is charged from the provider's own count. Only a whole,
    /// unencoded held body is edited, and `Content-Length` follows the edit.
    func askForStreamUsage(_ tx: HTTPTransaction) {
        guard let call = tx.llmCall, tx.llmFacts?.stream == true, call.endpoint.acceptsStreamOptions, tx.requestEnded,
              !tx.head.headers.contains(name: "content-encoding") else { return }
        guard let body = tx.heldBody, let edit = LLMRequestFacts.includeUsageEdit(body: body, endpoint: call.endpoint) else { return }
        tx.stripUsageChunk = true
        tx.replaceHeldBody(edit.applied(to: body))
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
        if !headers.contains(name: "X-Meshgate-Action") {
            // What respondLocally will record: meshgate's own refusals (4xx) are blocks.
            let refused = (400..<500).contains(Int(status.code)) && tx.action == .allow
            headers.add(name: "X-Meshgate-Action", value: refused ? PolicyAction.block.rawValue : tx.action.rawValue)
        }
        let body = ProviderError.body(format: format, status: Int(status.code), message: message)
        respondLocally(tx, LocalResponse(status: status, headers: headers, body: body + "\n"), close: false)
    }
}
