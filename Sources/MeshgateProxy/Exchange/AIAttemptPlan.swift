import MeshgateAI
import MeshgateCore
import NIOCore
import NIOHTTP1

/// Points an `ai` listener call at its current candidate.
enum AIAttemptPlan {
    /// Points the call at its current candidate: the body translated into the provider's format
    /// (and model name), the provider's target and key instead of the caller's token.
    static func prepare(_ tx: HTTPTransaction) -> LocalResponse? {
        guard let attempts = tx.llm.attempts else { return nil }
        let candidate = attempts.current
        let provider = candidate.provider
        let translating = provider.format != attempts.callerFormat
        let endpoint: LLMEndpoint = translating ? (provider.format == .anthropic ? .messages : .chatCompletions) : attempts.callerEndpoint
        let body: [UInt8]
        if !translating, candidate.upstreamModel == attempts.callerModel {
            body = attempts.body
        } else if translating, attempts.callerEndpoint != .chatCompletions, attempts.callerEndpoint != .messages {
            return ProviderReply.make(tx, format: attempts.callerFormat, status: .badRequest,
                                      message: "meshgate: \(attempts.callerEndpoint.path) cannot be translated for provider '\(provider.name)' (\(provider.format.rawValue) format); only chat completions and messages translate")
        } else {
            do {
                body = try RequestTranslator.translate(attempts.body, from: attempts.callerFormat, to: provider.format, model: candidate.upstreamModel)
            } catch {
                return ProviderReply.make(tx, format: attempts.callerFormat, status: .badRequest, message: "meshgate: \(error)")
            }
        }
        tx.replaceHeldBody(ByteBuffer(bytes: body))
        tx.progress.bodyForwarded = false
        tx.llm.call = LLMCall(provider: provider.name, endpoint: endpoint)
        tx.llm.metered?.retarget(LLMCall(provider: provider.name, endpoint: endpoint))
        let origin = HostPort(host: provider.host, port: provider.port)
        let query = tx.head.uri.firstIndex(of: "?").map { String(tx.head.uri[$0...]) } ?? ""
        let target = ForwardTarget(scheme: provider.scheme, origin: origin, path: provider.pathPrefix + endpoint.path + query,
                                   serverName: provider.scheme == "https" && !origin.isIPLiteral ? provider.host : nil, configured: true)
        tx.route.target = target
        tx.route.scheme = target.scheme
        tx.route.host = origin.host
        tx.route.port = origin.port
        tx.route.path = target.path
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
        return nil
    }
}
