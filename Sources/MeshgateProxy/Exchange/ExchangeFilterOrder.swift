import MeshgateCore
import NIOHTTP1

/// The one place that says which filters see an exchange's response, and in what order. Built at
/// each response head (an AI fallback's next attempt gets a fresh chain); a filter that cannot apply
/// is not created, so a plain forwarded response runs through none.
///
/// The order matters: the AI attempt decides first whether the caller gets this answer at all; the
/// legacy SSE check and the metering read the provider's own bytes; translation turns them into the
/// caller's format; the usage chunk is dropped from what the caller would get.
enum ExchangeFilterOrder {
    static func responseFilters(for tx: HTTPTransaction, head: HTTPResponseHead, services: ProxyServices,
                                identity: Identity?, callbacks: any ExchangeFilterCallbacks) -> [any ExchangeFilter] {
        var filters: [any ExchangeFilter] = []
        if tx.llm.attempts != nil { filters.append(AIAttemptFilter()) }
        if LegacySSEFilter.applies(to: head) { filters.append(LegacySSEFilter(identity: identity, logger: services.logger)) }
        if MCPDriftFilter.applies(to: tx, head: head), let policy = tx.verdict.policy, let mcp = tx.verdict.mcp {
            let entry = mcp.server.flatMap { name in policy.mcpServers.first { $0.name == name } }
            let session = tx.head.headers.first(name: "mcp-session-id") ?? identity?.name ?? "-"
            filters.append(MCPDriftFilter(entry: entry, policy: policy, pages: services.mcpToolListPages,
                                          pagesKey: "\(mcp.server ?? tx.route.host) \(session)", requestHadCursor: mcp.listCursor,
                                          record: { [audit = services.audit] in audit.record($0) }, logger: services.logger))
        }
        if tx.llm.metered != nil, let ai = services.ai {
            filters.append(LLMMeteringFilter(ai: ai, identity: identity, logger: services.logger, callbacks: callbacks))
        }
        if tx.llm.attempts != nil {
            filters.append(ResponseTranslationFilter(maxResponseBytes: services.ai?.maxResponseBytes ?? ResponseTranslationFilter.defaultMaxResponseBytes,
                                                     callbacks: callbacks))
        }
        if tx.llm.stripUsageChunk || tx.llm.attempts != nil { filters.append(UsageChunkStripFilter()) }
        return filters
    }
}

extension ExchangeFilterOrder {
    /// The request filters, in order: the body is decoded, an LLM call's body read (and routed on
    /// the `ai` listener), the policy decides, the MCP servers an allowed LLM call names are dealt
    /// with, and the call's tokens are reserved. With no rules, no LLM call and no small JSON body
    /// to name in the audit line, there is nothing to decide and none are created.
    static func requestFilters(for tx: HTTPTransaction, mode: ProxyRequestMode, services: ProxyServices,
                               identity: Identity?, callbacks: any ExchangeFilterCallbacks) -> [any ExchangeFilter] {
        let aiListener: Bool = if case .aiGateway = mode { true } else { false }
        if !aiListener, tx.llm.call == nil, (tx.verdict.policy?.ruleCount ?? 0) == 0,
           !(RequestShape.hasBody(tx.head) && RequestShape.isSmallJSON(tx.head)) {
            return []
        }
        let configuration = services.configuration
        var filters: [any ExchangeFilter] = [
            InspectionFilter(configuration: configuration, identity: identity, logger: services.logger),
            LLMRequestFilter(routes: aiListener ? services.ai?.routes : nil),
            PolicyFilter(configuration: configuration, inspector: services.inspector, identity: identity, logger: services.logger),
            MCPServersInLLMFilter(logger: services.logger),
        ]
        if let ai = services.ai { filters.append(LLMAdmissionFilter(ai: ai, identity: identity, callbacks: callbacks)) }
        return filters
    }
}
