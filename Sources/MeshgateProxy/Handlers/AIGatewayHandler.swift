import MeshgateAI
import MeshgateCore
import MeshgatePolicy
import NIOCore
import NIOHTTP1

/// The handler of the `ai` listener, last in its pipeline after `HTTPServerPipelineHandler`: it
/// consumes request parts and emits response parts. A thin shell over `ExchangeSession`: it only
/// decides what a request head means here. The caller's identity token decides who pays, the path
/// picks the endpoint, and the body (held) will name the model that picks the provider; the
/// session's filters route, translate and meter the call.
final class AIGatewayHandler {
    let session: ExchangeSession

    init(services: ProxyServices) {
        session = ExchangeSession(services: services, mode: .aiGateway)
        session.front = self
    }
}

extension AIGatewayHandler: ExchangeHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    func exchangeStarted(_ tx: HTTPTransaction, session: ExchangeSession, context: ChannelHandlerContext) {
        let head = tx.head, services = session.services
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let format: LLMFormat = path.hasSuffix("/messages") || head.headers.contains(name: "anthropic-version") ? .anthropic : .openai
        tx.route.path = head.uri
        let credentials = head.headers.first(name: "authorization") ?? head.headers.first(name: "x-api-key").map { "Bearer " + $0 }
        switch services.identities.identify(client: session.clientAddress, credentials: credentials) {
        case .identified(let found):
            session.identity = found
        case .anonymous:
            return session.respondAI(tx, format: format, status: .unauthorized,
                                     message: "meshgate: send your identity token as Authorization: Bearer TOKEN or x-api-key (identities[].token_sha256); provider keys stay on the gateway")
        case .invalidCredentials:
            return session.respondAI(tx, format: format, status: .unauthorized, message: "meshgate: unknown identity token")
        }
        guard let ai = services.ai else {
            return session.respondAI(tx, format: format, status: .serviceUnavailable, message: "meshgate: the AI gateway is not configured (ai:)")
        }
        if head.method == .GET, path == "/v1/models" {
            return session.respondLocally(tx, Self.models(ai.routes, format: format, action: tx.verdict.action), close: false)
        }
        guard head.method == .POST, let endpoint = LLMEndpoint.allCases.first(where: { $0.path == path }) else {
            return session.respondAI(tx, format: format, status: .notFound,
                                     message: "meshgate: \(head.method.rawValue) \(path) is not an endpoint of the ai listener; use POST /v1/chat/completions, POST /v1/messages or GET /v1/models")
        }
        tx.llm.call = LLMCall(provider: "", endpoint: endpoint)
        tx.verdict.policy = services.policy.current
        // Routed and translated whole, so the body is always held.
        tx.requestBody.holding = true
        tx.requestBody.inspection = ByteBuffer()
        session.runRequestFilters(tx)
    }

    /// `GET /v1/models`: the configured model names, in the caller's dialect.
    private static func models(_ routes: AIRoutes, format: LLMFormat, action: PolicyAction) -> LocalResponse {
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
        headers.add(name: "X-Meshgate-Action", value: action.rawValue)
        return LocalResponse(status: .ok, headers: headers, body: body + "\n")
    }
}

// Not Sendable: confined to its channel's event loop.
@available(*, unavailable)
extension AIGatewayHandler: Sendable {}
