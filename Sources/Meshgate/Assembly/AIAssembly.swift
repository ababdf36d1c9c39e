import Foundation
import Logging
import MeshgateAI
import MeshgateAdmin

/// Builds the AI gateway from `ai:`: the runtime (budgets, ledger, spool, metrics), the
/// recognizer (well-known provider hosts plus every configured provider, so intercepted calls to
/// them are metered), and the request path with the `ai` listener's model routes and provider
/// keys read from the environment.
enum AIAssembly {
    /// The runtime, registered as the `ai_ledger` health check; nil when no listener can carry
    /// LLM traffic. Its services go before the proxies' so the ledger outlives their drain
    /// (in-flight calls settle).
    static func runtime(configuration: MeshgateConfiguration, health: HealthRegistry, logger: Logger) async throws -> AIRuntime? {
        let ai = try await AIRuntime.make(configuration: configuration, logger: logger)
        if let ai {
            health.register("ai_ledger") { ai.healthStatus() }
        }
        return ai
    }

    /// What `serve` recognises as an LLM call: the well-known provider hosts plus every configured
    /// provider. `rules test` uses the same, so it treats LLM calls as the proxy does.
    static func recognizer(configuration: MeshgateConfiguration) -> LLMCallRecognizer {
        let sites = configuration.ai.providers.values.sorted(by: { $0.name < $1.name }).compactMap { provider in
            AIRoutes.Provider(name: provider.name, format: provider.format == .anthropic ? .anthropic : .openai,
                              baseURL: provider.baseURL.absoluteString, apiKey: nil)?.site
        }
        return LLMCallRecognizer(configured: sites)
    }

    /// The proxies' AI request path: admission against the budgets, routes, metering.
    static func gateway(configuration: MeshgateConfiguration, runtime: AIRuntime, logger: Logger) -> AIGateway {
        let ai = runtime.settings
        var providers: [AIRoutes.Provider] = []
        for provider in ai.providers.values.sorted(by: { $0.name < $1.name }) {
            var key: String?
            if let variable = provider.apiKeyEnvironment {
                key = ProcessInfo.processInfo.environment[variable].flatMap { $0.isEmpty ? nil : $0 }
                if key == nil, configuration.listeners.ai != nil {
                    logger.warning("AI provider key is not set; calls routed to it go without a key and will likely get 401", metadata: [
                        "provider": "\(provider.name)", "fix": "export \(variable)=… in meshgate's environment (ai.providers.\(provider.name).api_key_env)",
                    ])
                }
            }
            let format: LLMFormat = provider.format == .anthropic ? .anthropic : .openai
            if let route = AIRoutes.Provider(name: provider.name, format: format, baseURL: provider.baseURL.absoluteString, apiKey: key) {
                providers.append(route)
            }
        }
        let routes = AIRoutes(providers: providers, models: ai.models.mapValues {
            AIRoutes.Model(provider: $0.provider, upstreamModel: $0.upstreamModel, fallback: $0.fallback)
        })
        return AIGateway(
            recognizer: LLMCallRecognizer(configured: providers.map(\.site)),
            budgets: runtime.budgets,
            routes: routes,
            ledger: runtime.ledger,
            spool: runtime.spool,
            failOpen: runtime.failOpen,
            defaultMaxOutputTokens: ai.defaultMaxTokens,
            metrics: runtime.metrics,
            health: runtime.health,
            requestTimeout: ai.requestTimeout,
            maxResponseBytes: ai.maxResponseBytes,
            ledgerTimeout: ai.ledgerTimeout
        )
    }
}
