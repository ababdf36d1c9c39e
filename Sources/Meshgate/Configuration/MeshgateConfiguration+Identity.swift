import MeshgateCore
import MeshgatePolicy

extension MeshgateConfiguration {
    /// One entry of `identities:` — a named client, recognised by token, address, uid or cgroup.
    public struct Identity: Sendable, Hashable {
        /// Unique name; shows in the audit log and budgets.
        public var name: String
        /// Team for budgets and policy, if any.
        public var team: String?
        /// SHA-256 of the client's token (32 bytes), for `Proxy-Authorization` and the AI gateway.
        public var tokenSHA256: [UInt8]?
        /// Source networks that identify this client on any listener.
        public var cidrs: [CIDR]
        /// Owner uid of a local client socket.
        public var uid: UInt32?
        /// cgroup path prefix of a local client process, e.g. `/system.slice/ci-runner.service`.
        public var cgroup: String?

        /// Creates an identity.
        public init(name: String, team: String? = nil, tokenSHA256: [UInt8]? = nil, cidrs: [CIDR] = [],
                    uid: UInt32? = nil, cgroup: String? = nil) {
            self.name = name
            self.team = team
            self.tokenSHA256 = tokenSHA256
            self.cidrs = cidrs
            self.uid = uid
            self.cgroup = cgroup
        }

        /// The name and team as the rest of meshgate carries them per connection.
        public var coreIdentity: MeshgateCore.Identity {
            MeshgateCore.Identity(name: name, team: team)
        }
    }
}

extension MeshgateConfiguration.Identity {
    static let keys = ["name", "team", "token_sha256", "cidrs", "uid", "cgroup"]

    init(node: YAMLNode) throws(ConfigurationError) {
        let map = try node.mapping(keys: Self.keys)
        name = try map.required("name").string(expected: "a name")
        team = try map["team"].map { (value) throws(ConfigurationError) in try value.string(expected: "a team name") }
        tokenSHA256 = try map["token_sha256"].map { (value) throws(ConfigurationError) in try value.sha256Hex() }
        cidrs = try map["cidrs"].map { (list) throws(ConfigurationError) in
            try list.list().map { (item) throws(ConfigurationError) in try item.cidr() }
        } ?? []
        uid = try map["uid"].map { (value) throws(ConfigurationError) in
            UInt32(try value.int(in: 0...Int(UInt32.max - 1), what: "uid"))
        }
        cgroup = try map["cgroup"].map { (value) throws(ConfigurationError) in
            let path = try value.string(expected: "a cgroup path")
            guard path.hasPrefix("/") else {
                throw value.error("cgroup '\(path)' must start with '/'",
                                  fix: "write the path as in /proc/PID/cgroup, e.g. /system.slice/ci-runner.service")
            }
            return path
        }
        if tokenSHA256 == nil, cidrs.isEmpty, uid == nil, cgroup == nil {
            throw map.owner.error("identity '\(name)' has no token_sha256, cidrs, uid or cgroup, so nothing can match it",
                                  fix: "add at least one of them")
        }
    }

    /// Decodes the whole list, refusing duplicate names and tokens (either would make the
    /// audit log ambiguous about who did something).
    static func list(node: YAMLNode?) throws(ConfigurationError) -> [Self] {
        guard let node else { return [] }
        var result: [Self] = []
        for item in try node.list() {
            let identity = try Self(node: item)
            if result.contains(where: { $0.name == identity.name }) {
                throw (item.peek("name") ?? item).error("identity name '\(identity.name)' is used twice",
                                                       fix: "give each identity a unique name")
            }
            if let token = identity.tokenSHA256, let other = result.first(where: { $0.tokenSHA256 == token }) {
                throw (item.peek("token_sha256") ?? item).error(
                    "identity '\(identity.name)' has the same token_sha256 as '\(other.name)'",
                    fix: "give each identity its own token")
            }
            result.append(identity)
        }
        return result
    }
}

extension YAMLNode {
    /// 64 hex digits (a SHA-256), e.g. from `printf %s "$TOKEN" | sha256sum`.
    func sha256Hex() throws(ConfigurationError) -> [UInt8] {
        let text = try string(expected: "a SHA-256 as 64 hex digits")
        let fix = "write the hex SHA-256 of the token, e.g. from: printf %s \"$TOKEN\" | sha256sum"
        let hex = Array(text.lowercased().utf8)
        guard hex.count == 64 else {
            throw error("token_sha256 must be 64 hex digits, found \(hex.count) characters", fix: fix)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for index in stride(from: 0, to: 64, by: 2) {
            guard let high = Self.hexValue(hex[index]), let low = Self.hexValue(hex[index + 1]) else {
                throw error("token_sha256 '\(text)' is not hexadecimal", fix: fix)
            }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
