import MeshgatePolicy

extension MeshgateConfiguration {
    /// `limits:` — request-size caps and timeouts of the proxy listeners.
    public struct Limits: Sendable, Hashable {
        /// Largest request head (request line plus headers); beyond it the client gets 431. Default 65536.
        public var maxHeaderBytes: Int
        /// Longest request target; beyond it the client gets 414. Default 8192.
        public var maxURLBytes: Int
        /// Most header fields in one request; beyond it the client gets 431. Default 100 (as Envoy).
        public var maxHeaderCount: Int = 100
        /// Time a client has to send a complete request head. Default 30s.
        public var headerReadTimeout: Duration
        /// A connection with no traffic either way for this long is closed. Default 300s.
        public var idleTimeout: Duration
        /// Time allowed to open a connection to an origin; then 504. Default 10s.
        public var upstreamConnectTimeout: Duration
        /// On shutdown, open connections get this long to finish. Default 30s.
        public var shutdownGrace: Duration

        /// Creates limits.
        public init(
            maxHeaderBytes: Int = 65_536,
            maxURLBytes: Int = 8_192,
            headerReadTimeout: Duration = .seconds(30),
            idleTimeout: Duration = .seconds(300),
            upstreamConnectTimeout: Duration = .seconds(10),
            shutdownGrace: Duration = .seconds(30)
        ) {
            self.maxHeaderBytes = maxHeaderBytes
            self.maxURLBytes = maxURLBytes
            self.headerReadTimeout = headerReadTimeout
            self.idleTimeout = idleTimeout
            self.upstreamConnectTimeout = upstreamConnectTimeout
            self.shutdownGrace = shutdownGrace
        }
    }
}

extension MeshgateConfiguration.Limits {
    static let keys = ["max_header_bytes", "max_url_bytes", "header_read_timeout", "idle_timeout",
                       "upstream_connect_timeout", "shutdown_grace", "max_header_count"]

    init(node: YAMLNode?) throws(ConfigurationError) {
        self.init()
        guard let node else { return }
        let map = try node.mapping(keys: Self.keys)
        // Below a kilobyte ordinary browsers could not get a request through at all.
        if let value = map["max_header_bytes"] { maxHeaderBytes = try value.byteCount(in: 1_024...(64 << 20)) }
        if let value = map["max_url_bytes"] { maxURLBytes = try value.byteCount(in: 256...(64 << 20)) }
        if let value = map["max_header_count"] { maxHeaderCount = try value.int(in: 16...10_000, what: "header count") }
        if let value = map["header_read_timeout"] { headerReadTimeout = try value.duration() }
        if let value = map["idle_timeout"] { idleTimeout = try value.duration() }
        if let value = map["upstream_connect_timeout"] { upstreamConnectTimeout = try value.duration() }
        if let value = map["shutdown_grace"] { shutdownGrace = try value.duration() }
    }
}
