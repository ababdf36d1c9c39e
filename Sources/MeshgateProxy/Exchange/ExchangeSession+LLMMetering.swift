import MeshgateAI
import MeshgateCore
import NIOCore
import NIOHTTP1

/// The charge of every recognised LLM call (on the `ai` listener or intercepted on its way to a
/// provider) when its exchange ends, however it ends; admission and metering are filters
/// (`LLMAdmissionFilter`, `LLMMeteringFilter`).
extension ExchangeSession {
    /// Charges (or releases) a metered call when its exchange ends, however it ends.
    func chargeLLMCall(_ tx: HTTPTransaction) {
        guard let ai = services.ai, var metered = tx.llm.metered, metered.refusal == nil else { return }
        let usage = metered.finish()
        tx.llm.metered = metered
        tx.llm.charged = usage
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
                   headers: HTTPHeaders = HTTPHeaders()) {
        respondLocally(tx, ProviderReply.make(tx, format: format, status: status, message: message, headers: headers), close: false)
    }
}
