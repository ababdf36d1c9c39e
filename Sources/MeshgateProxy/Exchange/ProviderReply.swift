import MeshgateAI
import MeshgateCore
import MeshgatePolicy
import NIOHTTP1

/// meshgate's own answer to an LLM call in the provider's error shape, so the caller's SDK raises its
/// usual exception. Notes the error on the exchange (a 429 is a decision, not an error).
enum ProviderReply {
    static func make(_ tx: HTTPTransaction, format: LLMFormat, status: HTTPResponseStatus, message: String,
                     headers extra: HTTPHeaders = HTTPHeaders()) -> LocalResponse {
        var headers = extra
        headers.add(name: "Content-Type", value: "application/json")
        if status.code >= 400, status != .tooManyRequests { tx.audit.error = tx.audit.error ?? message }
        if status == .unauthorized { headers.add(name: "WWW-Authenticate", value: "Bearer realm=\"meshgate\"") }
        if !headers.contains(name: "X-Meshgate-Action") {
            // What respondLocally will record: meshgate's own refusals (4xx) are blocks.
            let refused = (400..<500).contains(Int(status.code)) && tx.verdict.action == .allow
            headers.add(name: "X-Meshgate-Action", value: refused ? PolicyAction.block.rawValue : tx.verdict.action.rawValue)
        }
        let body = ProviderError.body(format: format, status: Int(status.code), message: message)
        return LocalResponse(status: status, headers: headers, body: body + "\n")
    }
}
