import MeshgateCore
import MeshgatePolicy

extension MeshgateConfiguration {
    /// `dns:` — the filtering DNS forwarder behind `listeners.dns`.
    public struct DNS: Sendable, Hashable {
        /// Resolvers queries are forwarded to (UDP, TCP on truncation); port 53 when omitted.
        /// Default none, so `listeners.dns` needs this set.
        public var upstreams: [HostPort]
        /// The answer to a blocked query. Default `zero`.
        public var blockAnswer: BlockAnswer
        /// The A answer for `redirect` / `reroute` rules (4 bytes), typically the portal's address.
        public var redirectIPv4: [UInt8]?
        /// The AAAA answer for `redirect` / `reroute` rules (16 bytes).
        public var redirectIPv6: [UInt8]?

        /// `dns.block_answer`.
        public enum BlockAnswer: String, Sendable, Hashable, CaseIterable {
            /// `0.0.0.0` for A and `::` for AAAA: clients fail fast without retrying other resolvers.
            case zero
            /// NXDOMAIN: the name does not exist.
            case nxdomain
        }

        /// Creates DNS settings.
        public init(upstreams: [HostPort] = [], blockAnswer: BlockAnswer = .zero,
                    redirectIPv4: [UInt8]? = nil, redirectIPv6: [UInt8]? = nil) {
            self.upstreams = upstreams
            self.blockAnswer = blockAnswer
            self.redirectIPv4 = redirectIPv4
            self.redirectIPv6 = redirectIPv6
        }
    }
}

extension MeshgateConfiguration.DNS {
    static let keys = ["upstreams", "block_answer", "redirect_ipv4", "redirect_ipv6"]

    init(node: YAMLNode?) throws(ConfigurationError) {
        self.init()
        guard let node else { return }
        let map = try node.mapping(keys: Self.keys)
        if let list = map["upstreams"] {
            upstreams = try list.list().map { (item) throws(ConfigurationError) in
                let text = try item.string(expected: "an address such as 1.1.1.1:53")
                guard let upstream = HostPort(authority: text, defaultPort: 53), upstream.isIPLiteral else {
                    throw item.error("invalid DNS upstream '\(text)'",
                                     fix: "write an IP address with an optional port, e.g. 1.1.1.1:53 or \"[2606:4700:4700::1111]:53\"")
                }
                return upstream
            }
        }
        if let value = map["block_answer"] { blockAnswer = try value.choice(BlockAnswer.self) }
        if let value = map["redirect_ipv4"] { redirectIPv4 = try value.ipAddress(byteCount: 4) }
        if let value = map["redirect_ipv6"] { redirectIPv6 = try value.ipAddress(byteCount: 16) }
    }
}

extension YAMLNode {
    /// An IPv4 (4 bytes) or IPv6 (16 bytes) address literal.
    func ipAddress(byteCount: Int) throws(ConfigurationError) -> [UInt8] {
        let family = byteCount == 4 ? "IPv4" : "IPv6"
        let text = try string(expected: "an \(family) address")
        guard let bytes = IPAddress.parse(text), bytes.count == byteCount else {
            throw error("'\(text)' is not an \(family) address",
                        fix: byteCount == 4 ? "write e.g. 192.0.2.10" : "write e.g. 2001:db8::10")
        }
        return bytes
    }
}
