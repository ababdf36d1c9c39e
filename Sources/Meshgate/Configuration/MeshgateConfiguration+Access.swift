import Foundation
import MeshgateCore
import MeshgatePolicy

extension MeshgateConfiguration {
    /// `access:` — who may use the proxy listeners and where CONNECT may go.
    public struct Access: Sendable, Hashable {
        /// Client networks allowed in; others get 403 (or a refused connection). Default loopback only.
        public var allowClients: [CIDR]
        /// Whether explicit-proxy clients must send valid `Proxy-Authorization` (else 407). Default false.
        public var requireIdentity: Bool
        /// Ports CONNECT may reach; others get 403. Default `[443]`.
        public var connectPorts: [Int]
        /// Loopback, link-local or own-listener networks that clients may still reach through the
        /// proxy (checked on the resolved address). Default none.
        public var allowDestinations: [CIDR] = []

        /// Creates access settings.
        public init(
            allowClients: [CIDR] = Access.loopbackClients,
            requireIdentity: Bool = false,
            connectPorts: [Int] = [443]
        ) {
            self.allowClients = allowClients
            self.requireIdentity = requireIdentity
            self.connectPorts = connectPorts
        }

        /// `127.0.0.0/8` and `::1/128`, the default `allow_clients`.
        public static let loopbackClients: [CIDR] = ["127.0.0.0/8", "::1/128"].compactMap(CIDR.init)
    }
}

extension MeshgateConfiguration.Access {
    static let keys = ["allow_clients", "require_identity", "connect_ports", "allow_destinations"]

    init(node: YAMLNode?) throws(ConfigurationError) {
        self.init()
        guard let node else { return }
        let map = try node.mapping(keys: Self.keys)
        if let list = map["allow_clients"] {
            allowClients = try list.list().map { (item) throws(ConfigurationError) in try item.cidr() }
        }
        if let flag = map["require_identity"] { requireIdentity = try flag.bool() }
        if let list = map["allow_destinations"] {
            allowDestinations = try list.list().map { (item) throws(ConfigurationError) in try item.cidr() }
        }
        if let list = map["connect_ports"] {
            connectPorts = try list.list().map { (item) throws(ConfigurationError) in try item.int(in: 1...65535, what: "port") }
        }
    }
}

extension YAMLNode {
    /// An IPv4 or IPv6 network such as `10.0.0.0/8`; a bare address is a single host.
    func cidr() throws(ConfigurationError) -> CIDR {
        let text = try string(expected: "a network such as 10.0.0.0/8")
        guard let cidr = CIDR(text.trimmingCharacters(in: .whitespaces)) else {
            throw error("invalid CIDR '\(text)'",
                        fix: "write an address and prefix length, e.g. 10.0.0.0/8, 192.168.1.7/32 or fd00::/8")
        }
        return cidr
    }
}
