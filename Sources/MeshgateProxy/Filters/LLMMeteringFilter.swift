import Logging
import MeshgateAI
import MeshgateCore
import NIOCore
import NIOHTTP1

/// Meters a recognised LLM call's response: the budget headers on its head, the tokens of its body
/// (growing a stream's reservation ahead of use), and, under `enforce: hard`, the cut of a stream
/// that used what it holds and may not grow: it ends with a provider-shaped error event instead of
/// the chunk. The charge itself happens when the exchange is recorded, however it ends.
final class LLMMeteringFilter: ExchangeFilter {
    private let ai: AIGateway
    private let identity: Identity?
    private let logger: Logger
    private weak var callbacks: (any ExchangeFilterCallbacks)?
    /// The part offered again after a pause was metered before it was held.
    private var skipOnce = false

    init(ai: AIGateway, identity: Identity?, logger: Logger, callbacks: any ExchangeFilterCallbacks) {
        self.ai = ai
        self.identity = identity
        self.logger = logger
        self.callbacks = callbacks
    }

    func responseHead(_ head: inout HTTPResponseHead, exchange tx: HTTPTransaction) -> FilterStatus {
        guard tx.llm.metered != nil else { return .continue }
        tx.llm.metered?.responseStarted(status: Int(head.status.code), contentType: head.headers.first(name: "content-type"))
        if let reservation = tx.llm.metered?.reservation, let remaining = reservation.remaining, let resetsAt = reservation.resetsAt {
            for (name, value) in ExchangeSession.budgetHeaders(remaining: remaining, resetsAt: resetsAt) {
                head.headers.replaceOrAdd(name: name, value: value)
            }
        }
        return .continue
    }

    func responseBody(_ body: inout ByteBuffer, exchange tx: HTTPTransaction) -> FilterStatus {
        if skipOnce {
            skipOnce = false
            return .continue
        }
        if tx.llm.metered?.consume(body) == true { return cut(tx) }
        if let amount = tx.llm.metered?.growthWanted(), let reservation = tx.llm.metered?.reservation {
            let ai = self.ai
            callbacks?.start({ await ai.grow(reservation, by: amount) }) { [self] grown in
                tx.llm.metered?.grew(grown)
                return tx.llm.metered?.mustCutAfterGrowth() == true ? cut(tx) : .continue
            }
        }
        // Past what it holds while the ledger decides: under a hard cap nothing more reaches the
        // client before the answer (this chunk and whatever the provider sends meanwhile are held,
        // however fast it sends); otherwise reading pauses.
        guard tx.llm.metered?.growing == true, tx.llm.metered?.overdrawn == true else { return .continue }
        callbacks?.holdUpstreamReads()
        guard tx.llm.metered?.hardCap == true else { return .continue }
        skipOnce = true
        return .pause
    }

    var passesBodyThrough: Bool { false }

    /// The stream crossed a hard cap: it ends with an error event in the caller's format (on the ai
    /// listener it may differ from the provider's).
    private func cut(_ tx: HTTPTransaction) -> FilterStatus {
        guard let metered = tx.llm.metered else { return .cut }
        logger.info("cut an LLM stream at its token cap", metadata: [
            "identity": "\(identity?.name ?? "-")", "provider": "\(metered.call.provider)", "model": "\(metered.model)",
        ])
        tx.audit.error = metered.cutMessage
        tx.verdict.action = .limit
        return .end(ByteBuffer(string: ProviderError.rateLimitEvent(format: tx.llm.attempts?.callerFormat ?? metered.call.format, message: metered.cutMessage)))
    }
}
