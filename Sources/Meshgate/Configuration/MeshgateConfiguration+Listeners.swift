import MeshgatePolicy

extension MeshgateConfiguration {
    /// `listeners:` — where each server accepts connections. Nil means the listener is off;
    /// `explicit` and `admin` are on by default and can be switched off with `off`.
    public struct Listeners: Sendable, Hashable {
        /// HTTP forward proxy (absolute-form requests and CONNECT). Default `127.0.0.1:3128`.
        public var explicit: ListenAddress?
        /// nftables-redirected TCP. Default off.
        public var transparent: ListenAddress?
        /// Filtering DNS forwarder (UDP and TCP). Default off.
        public var dns: ListenAddress?
        /// AI gateway. Default off.
        public var ai: ListenAddress?
        /// Health, metrics, PAC, CA download and reload. Default `127.0.0.1:9090`.
        public var admin: ListenAddress?

        /// Creates listener settings.
        public init(
            explicit: ListenAddress? = ListenAddress(host: "127.0.0.1", port: 3128),
            transparent: ListenAddress? = nil,
            dns: ListenAddress? = nil,
            ai: ListenAddress? = nil,
            admin: ListenAddress? = ListenAddress(host: "127.0.0.1", port: 9090)
        ) {
            self.explicit = explicit
            self.transparent = transparent
            self.dns = dns
            self.ai = ai
            self.admin = admin
        }

        /// The enabled listeners by their configuration key, in a stable order.
        public var enabled: [(key: String, address: ListenAddress)] {
            [("explicit", explicit), ("transparent", transparent), ("dns", dns), ("ai", ai), ("admin", admin)]
                .compactMap { key, address in address.map { (key, $0) } }
        }
    }
}

extension MeshgateConfiguration.Listeners {
    static let keys = ["explicit", "transparent", "dns", "ai", "admin"]

    init(node: YAMLNode?) throws(ConfigurationError) {
        self.init()
        guard let node else { return }
        let map = try node.mapping(keys: Self.keys)
        explicit = try Self.address(map["explicit"], default: explicit)
        transparent = try Self.address(map["transparent"], default: transparent)
        dns = try Self.address(map["dns"], default: dns)
        ai = try Self.address(map["ai"], default: ai)
        admin = try Self.address(map["admin"], default: admin)
        try checkForClashes(map)
    }

    private static func address(_ node: YAMLNode?, default value: ListenAddress?) throws(ConfigurationError) -> ListenAddress? {
        guard let node else { return value }
        if node.isFalse { return nil }
        if case .sequence = node.node {
            // `explicit: [::1]:3128` unquoted reads as a YAML list.
            throw node.error("expected host:port, found a list",
                             fix: "quote IPv6 addresses: \"[::1]:3128\"")
        }
        let text = try node.scalar(expected: "host:port", fix: "write e.g. 127.0.0.1:3128, or off")
        switch ListenAddress.parse(text) {
        case .success(let address): return address
        case .failure(let problem): throw node.error(problem.message, fix: problem.fix)
        }
    }

    /// Two listeners on one port of overlapping addresses would fail at bind time with a far
    /// less helpful message than this one.
    private func checkForClashes(_ map: YAMLMapping) throws(ConfigurationError) {
        let all = enabled
        for (index, later) in all.enumerated() where later.address.port != 0 {
            for earlier in all[..<index] where earlier.address.port == later.address.port {
                let a = earlier.address, b = later.address
                guard a.host.lowercased() == b.host.lowercased() || a.isWildcard || b.isWildcard else { continue }
                let node = map[later.key] ?? map[earlier.key] ?? map.owner
                throw node.error("\(b) clashes with listeners.\(earlier.key) (\(a))",
                                 fix: "give each listener its own port")
            }
        }
    }
}
