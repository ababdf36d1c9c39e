import MeshgateAI
import MeshgateCore
import MeshgatePolicy
import NIOHTTP1

/// Before a recognised LLM call goes upstream it reserves its likely cost on every budget that
/// applies, and is refused in the provider's shape when it does not fit (429), could never fit
/// (413), or cannot be recorded (503, when failing closed). An admitted hard-capped call gets its
/// output cap, and an OpenAI stream is asked to report its usage.
final class LLMAdmissionFilter: ExchangeFilter {
    private let ai: AIGateway
    private let identity: Identity?
    private weak var callbacks: (any ExchangeFilterCallbacks)?
    private enum Phase { case ready, waiting, answered(AIGateway.Admission), done }
    private var phase = Phase.ready

    init(ai: AIGateway, identity: Identity?, callbacks: any ExchangeFilterCallbacks) {
        self.ai = ai
        self.identity = identity
        self.callbacks = callbacks
    }

    /// A call decided from its head (no body to hold) is admitted there.
    func requestHead(exchange tx: HTTPTransaction) -> FilterStatus {
        tx.requestBody.holding ? .continue : admit(tx)
    }

    func requestBody(exchange tx: HTTPTransaction) -> FilterStatus {
        admit(tx)
    }

    private func admit(_ tx: HTTPTransaction) -> FilterStatus {
        switch phase {
        case .ready:
            guard let call = tx.llm.call else { return .continue }
            let metered = MeteredCall(call: call, facts: tx.llm.facts ?? LLMRequestFacts(),
                                      defaultMaxOutputTokens: ai.defaultMaxOutputTokens, hardCap: ai.hardCap(for: identity))
            tx.llm.metered = metered
            guard let callbacks else { return .continue }
            phase = .waiting
            let (ai, caller, facts, endpoint) = (ai, identity, metered.facts, call.endpoint)
            callbacks.start({ await ai.admit(facts: facts, endpoint: endpoint, identity: caller) }) { [self] admission in
                if tx.audit.recorded {
                    // The client left while the ledger answered.
                    if case .admitted(let reservation) = admission { Task { await ai.release(reservation) } }
                    return .cut
                }
                phase = .answered(admission)
                return .continue
            }
            return .pause
        case .waiting:
            return .pause
        case .answered(let admission):
            phase = .done
            return admitted(tx, admission)
        case .done:
            return .continue
        }
    }

    private func admitted(_ tx: HTTPTransaction, _ admission: AIGateway.Admission) -> FilterStatus {
        guard let call = tx.llm.call else { return .continue }
        // On the ai listener the caller may speak another format than the provider it is routed to.
        let format = tx.llm.attempts?.callerFormat ?? call.format
        switch admission {
        case .refused(let refusal):
            tx.llm.metered?.refused(refusal)
            tx.verdict.action = .limit
            let retryAfter = refusal.retryAfterSeconds(now: Double(tx.request.startedWallMillis) / 1000)
            var headers = ExchangeSession.budgetHeaders(remaining: refusal.remaining, resetsAt: refusal.charge.period.end)
            headers.add(name: "Retry-After", value: String(retryAfter))
            // The cap will not move before the window ends, so SDKs should not retry at once.
            headers.add(name: "x-should-retry", value: "false")
            headers.add(name: "X-Meshgate-Action", value: PolicyAction.limit.rawValue)
            return .reply(ProviderReply.make(tx, format: format, status: .tooManyRequests, message: ProviderError.message(for: refusal), headers: headers),
                          close: false)
        case .tooLarge(let oversized):
            // Waiting for the window to reset would not help, so this is no 429.
            tx.verdict.action = .limit
            return .reply(ProviderReply.make(tx, format: format, status: .payloadTooLarge, message: oversized.description,
                                             headers: HTTPHeaders([("x-should-retry", "false")])), close: false)
        case .unavailable(let reason):
            tx.audit.error = reason
            let message = "meshgate: token usage cannot be recorded, so the call is refused (ai.ledger_unavailable: fail_closed): \(reason)"
            return .reply(ProviderReply.make(tx, format: format, status: .serviceUnavailable, message: message), close: false)
        case .admitted(let reservation):
            tx.llm.metered?.admitted(reservation)
            capOutput(tx, reservation: reservation)
            Self.askForStreamUsage(tx)
            return .continue
        }
    }

    /// A hard-capped call that set no output cap gets the output part of its reservation as one,
    /// so the provider stops where the budget does. Only a whole, unencoded held body is edited.
    private func capOutput(_ tx: HTTPTransaction, reservation: LedgerReservation?) {
        guard let call = tx.llm.call, let facts = tx.llm.facts, tx.progress.requestEnded,
              !tx.head.headers.contains(name: "content-encoding"), let body = tx.heldBody,
              let tokens = ai.injectedOutputCap(facts: facts, endpoint: call.endpoint, identity: identity, reservation: reservation),
              let edit = LLMRequestFacts.outputCapEdit(body: body, endpoint: call.endpoint, tokens: tokens) else { return }
        tx.replaceHeldBody(edit.applied(to: body))
    }

    /// OpenAI streams report usage only when asked (`stream_options.include_usage`); ask for the
    /// caller when it did not, so a stream is charged from the provider's own count. Only a whole,
    /// unencoded held body is edited, and `Content-Length` follows the edit.
    static func askForStreamUsage(_ tx: HTTPTransaction) {
        guard let call = tx.llm.call, tx.llm.facts?.stream == true, call.endpoint.acceptsStreamOptions, tx.progress.requestEnded,
              !tx.head.headers.contains(name: "content-encoding") else { return }
        guard let body = tx.heldBody, let edit = LLMRequestFacts.includeUsageEdit(body: body, endpoint: call.endpoint) else { return }
        tx.llm.stripUsageChunk = true
        tx.replaceHeldBody(edit.applied(to: body))
    }
}
