import MeshgatePolicy

extension MeshgateConfiguration {
    /// `transparent:` — how the transparent listener's node setup and meshgate cooperate.
    public struct Transparent: Sendable, Hashable {
        /// `SO_MARK` set on meshgate's upstream sockets, so the node's redirect rules exempt them
        /// (contrib/egress.sh uses the same default). nil (`mark: none`) sets no mark. Setting a
        /// mark needs CAP_NET_ADMIN; without it meshgate logs that and goes on unmarked.
        public var mark: Int32?

        /// The default mark, "MG".
        public static let defaultMark: Int32 = 0x4d47

        /// Creates the settings.
        public init(mark: Int32? = Transparent.defaultMark) { self.mark = mark }
    }
}

extension MeshgateConfiguration.Transparent {
    static let keys = ["mark"]

    init(node: YAMLNode?) throws(ConfigurationError) {
        self.init()
        guard let node else { return }
        let map = try node.mapping(keys: Self.keys)
        if let value = map["mark"] {
            let text = try value.scalar(expected: "a number such as 0x4d47, or none")
            if text == "none" || text == "false" {
                mark = nil
            } else {
                let parsed = text.lowercased().hasPrefix("0x") ? Int32(text.dropFirst(2), radix: 16) : Int32(text)
                guard let parsed, parsed > 0 else {
                    throw value.error("mark '\(text)' is not a positive 32-bit number", fix: "write e.g. 0x4d47 (the default), or none")
                }
                mark = parsed
            }
        }
    }
}
