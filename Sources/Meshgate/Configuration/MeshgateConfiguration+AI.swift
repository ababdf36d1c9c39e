import Foundation
import MeshgateCore
import MeshgatePolicy

extension MeshgateConfiguration {
    /// `ai:` — the AI gateway's providers, model routing, token budgets and ledger.
    public struct AI: Sendable, Hashable {
        /// Where token usage is recorded. Default `sqlite:<state_dir>/ledger.db`.
        public var ledger: Ledger
        /// Providers by name.
        public var providers: [String: Provider]
        /// Models by the name callers send in `model`.
        public var models: [String: Model]
        /// Token caps, checked in order.
        public var budgets: [Budget]
        /// What to do when the ledger cannot be reached. Default `fail_closed`.
        public var ledgerUnavailable: LedgerUnavailable
        /// How long the `ai` listener waits for a provider's response head before trying the next
        /// model (`request_timeout`). Default 120 s.
        public var requestTimeout: Duration = .seconds(120)
        /// The largest provider answer held whole for translation into the caller's format
        /// (`max_response_bytes`); a larger one is answered 502. Default 32 MiB.
        public var maxResponseBytes = 32 << 20
        /// Output tokens reserved for a call that sets no `max_tokens` (`default_max_tokens`),
        /// fitted down to what the budget has left. Default 4096.
        public var defaultMaxTokens = 4096
        /// How long one ledger call on the request path may take before it counts as an outage
        /// and opens the circuit breaker (`ledger_timeout`). Default 1 s.
        public var ledgerTimeout: Duration = .seconds(1)
        /// How often this instance renews the lease on its reservations in the ledger
        /// (`lease_heartbeat`); another instance reclaims them two missed heartbeats after the last
        /// renewal, within three heartbeats. Whole seconds, default 10 s.
        public var leaseHeartbeat: Duration = .seconds(10)

        /// The token ledger's backend.
        public enum Ledger: Sendable, Hashable {
            /// An embedded SQLite database at this absolute path (`sqlite:PATH`).
            case sqlite(path: String)
            /// A PostgreSQL database shared by many nodes (`postgres://user:pass@host:5432/db`).
            case postgres(url: String)
        }

        /// An upstream LLM API.
        public struct Provider: Sendable, Hashable {
            /// The key under `ai.providers`.
            public var name: String
            /// Which API dialect it speaks.
            public var format: Format
            /// Its base URL, e.g. `https://api.openai.com`.
            public var baseURL: URL
            /// The environment variable holding its API key; nil for keyless local servers.
            public var apiKeyEnvironment: String?

            /// Creates a provider.
            public init(name: String, format: Format, baseURL: URL, apiKeyEnvironment: String?) {
                self.name = name
                self.format = format
                self.baseURL = baseURL
                self.apiKeyEnvironment = apiKeyEnvironment
            }
        }

        /// `ai.providers.*.format`.
        public enum Format: String, Sendable, Hashable, CaseIterable {
            /// OpenAI Chat Completions.
            case openai
            /// Anthropic Messages.
            case anthropic
        }

        /// A model name callers may ask for, and where it goes.
        public struct Model: Sendable, Hashable {
            /// The key under `ai.models`, also sent to the provider.
            public var name: String
            /// The provider's name.
            public var provider: String
            /// Models tried in order when the provider fails (5xx, 429, connect failure).
            public var fallback: [String]
            /// The model name sent to the provider when it differs from `name` (`model:`; an alias
            /// such as `claude` → `claude-sonnet-4-20250514`).
            public var upstreamModel: String?

            /// Creates a model route.
            public init(name: String, provider: String, fallback: [String] = [], upstreamModel: String? = nil) {
                self.name = name
                self.provider = provider
                self.fallback = fallback
                self.upstreamModel = upstreamModel
            }
        }

        /// A token cap for a team or one identity.
        public struct Budget: Sendable, Hashable {
            /// Who is capped.
            public var subject: Subject
            /// Input plus output tokens allowed per window.
            public var tokens: Int
            /// The window the cap resets on.
            public var window: Window
            /// Whether a stream crossing the cap is cut.
            public var enforce: Enforcement

            /// Creates a budget.
            public init(subject: Subject, tokens: Int, window: Window, enforce: Enforcement = .soft) {
                self.subject = subject
                self.tokens = tokens
                self.window = window
                self.enforce = enforce
            }
        }

        /// Who a budget applies to.
        public enum Subject: Sendable, Hashable {
            /// Every identity of the team together (`team: NAME`).
            case team(String)
            /// One identity (`identity: NAME`).
            case identity(String)
        }

        /// A budget window: fixed length aligned to multiples of it since the Unix epoch (UTC),
        /// or calendar months.
        public enum Window: Sendable, Hashable {
            /// `1h`, `1d`, `7d`, `30d`, …
            case fixed(Duration)
            /// `month`: calendar months in UTC.
            case month
        }

        /// `ai.budgets[].enforce`.
        public enum Enforcement: String, Sendable, Hashable, CaseIterable {
            /// Refuse new requests once the cap is reached.
            case soft
            /// Also cut a streaming response that crosses the cap.
            case hard
        }

        /// `ai.ledger_unavailable`.
        public enum LedgerUnavailable: String, Sendable, Hashable, CaseIterable {
            /// Refuse AI requests while usage cannot be recorded.
            case failClosed = "fail_closed"
            /// Serve, spool usage locally and reconcile later.
            case failOpen = "fail_open"
        }

        /// Creates AI gateway settings.
        public init(ledger: Ledger, providers: [String: Provider] = [:], models: [String: Model] = [:],
                    budgets: [Budget] = [], ledgerUnavailable: LedgerUnavailable = .failClosed) {
            self.ledger = ledger
            self.providers = providers
            self.models = models
            self.budgets = budgets
            self.ledgerUnavailable = ledgerUnavailable
        }

        /// The defaults, with the SQLite ledger inside `stateDirectory`.
        public static func defaults(stateDirectory: String) -> AI {
            AI(ledger: .sqlite(path: stateDirectory + "/ledger.db"))
        }
    }
}

extension MeshgateConfiguration.AI {
    static let keys = ["ledger", "providers", "models", "budgets", "ledger_unavailable", "request_timeout", "max_response_bytes",
                       "default_max_tokens", "ledger_timeout", "lease_heartbeat"]

    init(node: YAMLNode?, stateDirectory: String, identities: [MeshgateConfiguration.Identity]) throws(ConfigurationError) {
        self = .defaults(stateDirectory: stateDirectory)
        guard let node else { return }
        let map = try node.mapping(keys: Self.keys)
        if let value = map["ledger"] { ledger = try Self.ledger(value) }
        if let value = map["providers"] {
            for (name, _, entry) in try value.namedEntries() {
                providers[name] = try Self.provider(name: name, node: entry)
            }
        }
        if let value = map["models"] {
            let entries = try value.namedEntries()
            let names = entries.map(\.name)
            for (name, _, entry) in entries {
                models[name] = try Self.model(name: name, node: entry, providers: providers, models: names)
            }
        }
        if let value = map["budgets"] {
            budgets = try value.list().map { (item) throws(ConfigurationError) in
                try Self.budget(item, identities: identities)
            }
        }
        if let value = map["ledger_unavailable"] { ledgerUnavailable = try value.choice(LedgerUnavailable.self) }
        if let value = map["request_timeout"] { requestTimeout = try value.duration() }
        if let value = map["max_response_bytes"] { maxResponseBytes = try value.byteCount(in: 1...(1 << 30)) }
        if let value = map["default_max_tokens"] { defaultMaxTokens = try value.int(in: 1...1_000_000, what: "default_max_tokens") }
        if let value = map["ledger_timeout"] {
            ledgerTimeout = try value.duration()
            guard ledgerTimeout > .zero, ledgerTimeout <= .seconds(60) else {
                throw value.error("ledger_timeout must be more than 0 and at most 60s", fix: "write e.g. ledger_timeout: 1s or 500ms")
            }
        }
        if let value = map["lease_heartbeat"] {
            leaseHeartbeat = try value.duration()
            let (seconds, fraction) = leaseHeartbeat.components
            guard fraction == 0, (1...300).contains(seconds) else {
                throw value.error("lease_heartbeat must be whole seconds from 1s to 300s",
                                  fix: "write e.g. lease_heartbeat: 10s (a dead instance's reservations are freed within three heartbeats)")
            }
        }
    }

    private static func ledger(_ node: YAMLNode) throws(ConfigurationError) -> Ledger {
        let text = try node.string(expected: "sqlite:PATH or a postgres:// URL")
        if text.hasPrefix("sqlite:") {
            let path = text.dropFirst("sqlite:".count)
            guard !path.isEmpty else { throw node.error("'\(text)' names no database file", fix: "write e.g. sqlite:state/ledger.db") }
            return .sqlite(path: node.source.resolve(String(path)))
        }
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            guard let url = URL(string: text), url.host?.isEmpty == false else {
                throw node.error("invalid PostgreSQL URL", fix: "write postgres://user:pass@host:5432/db")
            }
            return .postgres(url: text)
        }
        throw node.error("invalid ledger '\(text)'",
                         fix: "write sqlite:PATH (one node) or postgres://user:pass@host:5432/db (shared)")
    }

    private static func provider(name: String, node: YAMLNode) throws(ConfigurationError) -> Provider {
        let map = try node.mapping(keys: ["format", "base_url", "api_key_env"])
        let format = try map.required("format", fix: "add format: openai or format: anthropic").choice(Format.self)
        let urlNode = try map.required("base_url", fix: "add e.g. base_url: https://api.openai.com")
        let baseURL = try urlNode.httpURL()
        let keyEnvironment = try map["api_key_env"].map { (value) throws(ConfigurationError) in
            let variable = try value.string(expected: "an environment variable name")
            guard variable.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw value.error("'\(variable)' is not an environment variable name",
                                  fix: "name the variable (e.g. OPENAI_API_KEY), never the key itself")
            }
            return variable
        }
        return Provider(name: name, format: format, baseURL: baseURL, apiKeyEnvironment: keyEnvironment)
    }

    private static func model(name: String, node: YAMLNode, providers: [String: Provider],
                              models: [String]) throws(ConfigurationError) -> Model {
        let map = try node.mapping(keys: ["provider", "fallback", "model"])
        let providerNode = try map.required("provider", fix: "name one of ai.providers")
        let provider = try providerNode.string(expected: "a provider name")
        guard providers[provider] != nil else {
            let known = providers.keys.sorted()
            var fix = known.isEmpty ? "define it under ai.providers" : "known providers: " + known.joined(separator: ", ")
            if let guess = KeySuggestion.closest(to: provider, in: known) { fix = "did you mean '\(guess)'? " + fix }
            throw providerNode.error("unknown provider '\(provider)'", fix: fix)
        }
        var fallback: [String] = []
        if let list = map["fallback"] {
            for item in try list.list() {
                let other = try item.string(expected: "a model name")
                guard models.contains(other), other != name else {
                    let why = other == name ? "a model cannot fall back to itself" : "unknown model '\(other)'"
                    throw item.error(why, fix: "name another model under ai.models")
                }
                fallback.append(other)
            }
        }
        let upstream = try map["model"]?.string(expected: "the provider's model name")
        return Model(name: name, provider: provider, fallback: fallback, upstreamModel: upstream)
    }

    private static func budget(_ node: YAMLNode, identities: [MeshgateConfiguration.Identity]) throws(ConfigurationError) -> Budget {
        let map = try node.mapping(keys: ["team", "identity", "tokens", "window", "enforce"])
        let subject: Subject
        switch (map["team"], map["identity"]) {
        case (let teamNode?, nil):
            let team = try teamNode.string(expected: "a team name")
            // A cap on a team nobody belongs to would silently never apply.
            guard identities.contains(where: { $0.team == team }) else {
                throw teamNode.error("no identity belongs to team '\(team)'", fix: "check the spelling against identities[].team")
            }
            subject = .team(team)
        case (nil, let identityNode?):
            let identity = try identityNode.string(expected: "an identity name")
            guard identities.contains(where: { $0.name == identity }) else {
                throw identityNode.error("unknown identity '\(identity)'", fix: "name one of identities[].name")
            }
            subject = .identity(identity)
        case (_?, let identityNode?):
            throw identityNode.error("a budget has either team or identity, not both", fix: "split it into two budgets")
        case (nil, nil):
            throw map.missing("team", fix: "a budget needs team: NAME or identity: NAME")
        }
        let tokens = try map.required("tokens", fix: "add e.g. tokens: 2000000").int(in: 1...Int.max, what: "token cap")
        let window = try map.required("window", fix: "add window: 1h, 1d, 7d, 30d or month").budgetWindow()
        let enforce = try map["enforce"]?.choice(Enforcement.self) ?? .soft
        return Budget(subject: subject, tokens: tokens, window: window, enforce: enforce)
    }
}

extension YAMLNode {
    /// `month` or a duration of at least a minute.
    func budgetWindow() throws(ConfigurationError) -> MeshgateConfiguration.AI.Window {
        let text = try string(expected: "a window such as 1d or month")
        if text == "month" { return .month }
        guard let duration = DurationText.parse(text), duration >= .seconds(60) else {
            var fix = "use 1h, 1d, 7d, 30d or month"
            if KeySuggestion.closest(to: text, in: ["month"]) != nil { fix = "did you mean 'month'? " + fix }
            throw error("invalid window '\(text)'", fix: fix)
        }
        return .fixed(duration)
    }

    /// An absolute `http(s)://` URL with a host.
    func httpURL() throws(ConfigurationError) -> URL {
        let text = try string(expected: "an https:// URL")
        let lower = text.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://"),
              let url = URL(string: text), url.host?.isEmpty == false else {
            throw error("invalid URL '\(text)'", fix: "write an absolute URL such as https://api.example.com")
        }
        return url
    }
}
