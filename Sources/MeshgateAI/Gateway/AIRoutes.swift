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

    /// What a model resolves to.
    public enum Resolution: Sendable, Hashable {
        /// Send it to this provider.
        case provider(Provider)
        /// No route: the body had no `model`, or one nobody configured.
        case unknownModel(String?, known: [String])
        /// The model's provider speaks the other dialect (translation is not available on this endpoint).
        case formatMismatch(model: String, provider: Provider)
    }

    /// Providers by name.
    public let providers: [String: Provider]
    /// Provider name by model name.
    public let models: [String: String]

    /// Creates routes; models naming an unknown provider are dropped (configuration validates them).
    public init(providers: [Provider] = [], models: [String: String] = [:]) {
        let byName = Dictionary(providers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.providers = byName
        self.models = models.filter { byName[$0.value] != nil }
    }

    /// The model names callers may use, sorted, with their providers (for `GET /v1/models`).
    public var catalogue: [(model: String, provider: String)] {
        models.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Where a call to an endpoint of `format` naming `model` goes. A model missing from `ai.models`
    /// still goes through when exactly one provider speaks the endpoint's dialect.
    public func resolve(model: String?, format: LLMFormat) -> Resolution {
        if let model, let name = models[model], let provider = providers[name] {
            return provider.format == format ? .provider(provider) : .formatMismatch(model: model, provider: provider)
        }
        let candidates = providers.values.filter { $0.format == format }
        if model != nil, candidates.count == 1, let only = candidates.first { return .provider(only) }
        return .unknownModel(model, known: models.keys.sorted())
    }
}
