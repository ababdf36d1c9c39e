import MeshgateAI
import NIOCore

/// What a recognised LLM call's body says (model, stream, max tokens, input size), which sizes its
/// token reservation; on the `ai` listener the model also picks the call's candidates (the
/// provider, then the fallbacks) and the first attempt is prepared.
final class LLMRequestFilter: ExchangeFilter {
    private let routes: AIRoutes?

    /// `routes`: the `ai` listener's; nil for calls intercepted on their way to a provider.
    init(routes: AIRoutes?) {
        self.routes = routes
    }

    func requestBody(exchange tx: HTTPTransaction) -> FilterStatus {
        guard tx.llm.call != nil else { return .continue }
        var facts = LLMRequestFacts(body: tx.requestBody.inspected ?? [])
        // Past the inspection limit only a prefix was read: size the reservation by the whole body.
        if !tx.progress.requestEnded, let length = tx.head.headers.first(name: "content-length").flatMap({ Int($0) }) {
            facts.textBytes = max(facts.textBytes, length)
        }
        tx.llm.facts = facts
        guard let routes else { return .continue }
        return route(tx, routes: routes)
    }

    private func route(_ tx: HTTPTransaction, routes: AIRoutes) -> FilterStatus {
        guard let call = tx.llm.call else { return .continue }
        guard let model = tx.llm.facts?.model, !model.isEmpty else {
            // Both providers answer a request without a model 400 (invalid_request_error).
            return .reply(ProviderReply.make(tx, format: call.format, status: .badRequest,
                                             message: "meshgate: the request names no model (the body's \"model\" field)"), close: false)
        }
        switch routes.resolve(model: model, format: call.format) {
        case .unknownModel(let model, let known):
            let named = model.map { "model '\($0)' is not configured" } ?? "the request names no model"
            let list = known.isEmpty ? "none are configured (ai.models)" : "configured: " + known.joined(separator: ", ")
            return .reply(ProviderReply.make(tx, format: call.format, status: .notFound, message: "meshgate: \(named); \(list)"), close: false)
        case .candidates(let candidates):
            tx.llm.attempts = AIAttempts(callerFormat: call.format, callerEndpoint: call.endpoint, callerModel: tx.llm.facts?.model ?? "",
                                       body: tx.heldBody.map { Array($0.readableBytesView) } ?? [], candidates: candidates)
            tx.llm.attempts?.headers = tx.head.headers
            return AIAttemptPlan.prepare(tx).map { .reply($0, close: false) } ?? .continue
        }
    }
}
