import MeshgateAI
import MeshgateCore
import NIOCore
import NIOHTTP1

/// The `ai` listener's attempts: each has a deadline for the provider's response head, and a failed
/// one moves on to the model's next candidate while the caller has seen nothing yet.
extension ExchangeSession {
    /// Starts the current attempt, with a deadline for the provider's response head.
    func startAttempt(_ tx: HTTPTransaction, context: ChannelHandlerContext) {
        if let ai = services.ai, tx.llm.attempts != nil {
            tx.llm.attemptTimer?.cancel()
            tx.llm.attemptTimer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(ai.requestTimeout)) { [self] in
                attemptTimedOut(tx)
            }
        }
        startForward(tx, context: context)
    }

    private func attemptTimedOut(_ tx: HTTPTransaction) {
        guard !tx.progress.responseHeadSent, !tx.audit.recorded, let context else { return }
        if case .forwarding(let current, let connection) = state, current === tx {
            connection.delegate = nil
            connection.close()
        }
        let seconds = services.ai.map { $0.requestTimeout.components.seconds } ?? 0
        if retryAttempt(tx, outcome: "no response within \(seconds)s", retryAfter: nil, context: context) { return }
        tx.llm.attempts?.answered("no response within \(seconds)s")
        respondAI(tx, format: tx.llm.attempts?.callerFormat ?? .openai, status: .gatewayTimeout,
                  message: "meshgate: the provider sent no response within \(seconds)s (ai.request_timeout)")
    }

    /// Moves a failed attempt on to the next candidate after a backoff, when there is one and the
    /// caller has seen nothing yet. Returns false when the failure must be answered as it is.
    func retryAttempt(_ tx: HTTPTransaction, outcome: String, retryAfter: String?, context: ChannelHandlerContext) -> Bool {
        // A provider that answered and then failed mid-body is not retried, even while its head is held.
        guard var attempts = tx.llm.attempts, attempts.canFallBack, !tx.progress.responseHeadSent, !tx.filters.responseHeadHeld else { return false }
        tx.llm.attemptTimer?.cancel()
        let delay = attempts.backoff(retryAfter: retryAfter)
        let failed = attempts.current.label
        attempts.fail(outcome)
        tx.llm.attempts = attempts
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
        if var attempts = tx.llm.attempts {
            attempts.answered(message)
            tx.llm.attempts = attempts
            tx.audit.error = message
            respondAI(tx, format: attempts.callerFormat, status: status, message: "meshgate: \(message)")
        } else {
            respondLocally(tx, LocalResponse(status: status, message: message), close: close)
        }
    }
}
