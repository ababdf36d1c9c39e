/// Where the `ai` listener sends a call: the `model` names a route (`ai.models`), the route names a
/// provider (`ai.providers`), and the provider has a base URL, a dialect and a key.
public struct AIRoutes: Sendable {
    /// One configured provider, ready to forward to.
    public struct Provider: Sendable, Hashable {
        /// The `ai.providers` key.
        public var name: String
        /// The dialect it speaks.
        public var format: LLMFormat
        /// `http` or `https`.
        public var scheme: String
        /// Host name or address.
        public var host: String
        /// Port.
        public var port: Int
        /// Path before `/v1/...` ("" for none).
        public var pathPrefix: String
        /// The API key (from the environment variable the config names); nil for keyless servers.
        public var apiKey: String?

        /// A provider from its base URL; nil when the URL has no host.
        public init?(name: String, format: LLMFormat, baseURL: String, apiKey: String?) {
            guard let site = LLMCallRecognizer.Site(provider: name, format: format, baseURL: baseURL) else { return nil }
            self.name = name
            self.format = format
            self.scheme = baseURL.lowercased().hasPrefix("http://") ? "http" : "https"
            self.host = site.host
            self.port = site.port ?? (scheme == "http" ? 80 : 443)
            self.pathPrefix = site.pathPrefix
            self.apiKey = apiKey
        }

        /// The recognizer site for this provider, so intercepted calls to it are metered too.
        public var site: LLMCallRecognizer.Site {
            LLMCallRecognizer.Site(provider: name, format: format, host: host, port: port, pathPrefix: pathPrefix)
        }
    }

    /// A configured model name and where it goes.
    public struct Model: Sendable, Hashable {
        /// The provider's name.
        public var provider: String
        /// The model name sent to the provider (the alias target, else the name itself).
        public var upstreamModel: String?
        /// Models tried in order when this one's provider fails.
        public var fallback: [String]

        /// Creates a model route.
        public init(provider: String, upstreamModel: String? = nil, fallback: [String] = []) {
            self.provider = provider
            self.upstreamModel = upstreamModel
            self.fallback = fallback
        }
    }

    /// One place a call can be sent: a provider and the model name it is given there.
    public struct Candidate: Sendable, Hashable {
        /// The provider.
        public var provider: Provider
        /// The model name in the forwarded request.
        public var upstreamModel: String
        /// The model name the caller used (or the fallback's configured name).
        public var model: String

        /// Creates a candidate.
        public init(provider: Provider, upstreamModel: String, model: String) {
            self.provider = provider
            self.upstreamModel = upstreamModel
            self.model = model
        }

        /// `provider/model`, for audit lines and logs.
        public var label: String { "\(provider.name)/\(upstreamModel)" }
    }

    /// What a model resolves to.
    public enum Resolution: Sendable, Hashable {
        /// Send it to the first candidate; the rest are its fallbacks, in order.
        case candidates([Candidate])
        /// No route: the body had no `model`, or one nobody configured.
        case unknownModel(String?, known: [String])
    }

    /// Providers by name.
    public let providers: [String: Provider]
    /// Routes by model name.
    public let models: [String: Model]

    /// Creates routes; models naming an unknown provider are dropped (configuration validates them).
    public init(providers: [Provider] = [], models: [String: Model] = [:]) {
        let byName = Dictionary(providers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.providers = byName
        self.models = models.filter { byName[$0.value.provider] != nil }
    }

    /// The model names callers may use, sorted, with their providers (for `GET /v1/models`).
    public var catalogue: [(model: String, provider: String)] {
        models.sorted { $0.key < $1.key }.map { ($0.key, $0.value.provider) }
    }

    /// Where a call naming `model` goes, in the endpoint's `format`: the model's provider then its
    /// fallbacks (each in whatever format its provider speaks; the gateway translates). A model
    /// missing from `ai.models` still goes through when exactly one provider speaks `format`.
    public func resolve(model: String?, format: LLMFormat) -> Resolution {
        guard let model else { return .unknownModel(nil, known: models.keys.sorted()) }
        guard let route = models[model], let provider = providers[route.provider] else {
            let candidates = providers.values.filter { $0.format == format }
            if candidates.count == 1, let only = candidates.first {
                return .candidates([Candidate(provider: only, upstreamModel: model, model: model)])
            }
            return .unknownModel(model, known: models.keys.sorted())
        }
        var chain = [Candidate(provider: provider, upstreamModel: route.upstreamModel ?? model, model: model)]
        for name in route.fallback {
            guard let next = models[name], let nextProvider = providers[next.provider],
                  !chain.contains(where: { $0.model == name }) else { continue }
            chain.append(Candidate(provider: nextProvider, upstreamModel: next.upstreamModel ?? name, model: name))
        }
        return .candidates(chain)
    }
}
