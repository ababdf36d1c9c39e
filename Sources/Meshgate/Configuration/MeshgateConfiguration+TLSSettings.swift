import MeshgatePolicy

extension MeshgateConfiguration {
    /// `tls:` — the interception CA, upstream verification and what is never decrypted.
    public struct TLSSettings: Sendable, Hashable {
        /// Absolute path of the CA certificate (PEM). Default `<state_dir>/ca.pem`.
        public var caCertPath: String
        /// Absolute path of the CA private key (PEM, mode 0600). Default `<state_dir>/ca.key`.
        public var caKeyPath: String
        /// Trust anchors for verifying origin servers. Default the system store.
        public var upstreamCA: UpstreamCA
        /// Host patterns (`example.com`, `*.apple.com`, `mcp.*`) that are spliced, never decrypted,
        /// lowercased. Default empty: everything is inspected.
        public var doNotInspect: [String]
        /// How many minted leaf certificates are kept. Default 10000.
        public var leafCacheSize: Int
        /// How long a minted leaf certificate is valid. Default 7 days.
        public var leafValidity: Duration
        /// Key type used when the CA is first created. Default ECDSA P-256.
        public var caKeyType: CAKeyType

        /// Where origin-server certificates are verified against.
        public enum UpstreamCA: Sendable, Hashable {
            /// The operating system's trust store (`upstream_ca: system`).
            case system
            /// A PEM bundle at this absolute path.
            case bundle(path: String)
        }

        /// `tls.ca_key_type`.
        public enum CAKeyType: String, Sendable, Hashable, CaseIterable {
            /// ECDSA on P-256: small and fast; what new CAs get.
            case ecdsaP256 = "ecdsa-p256"
            /// RSA 3072 for clients that cannot handle ECDSA.
            case rsa3072 = "rsa-3072"
        }

        /// Creates TLS settings.
        public init(
            caCertPath: String,
            caKeyPath: String,
            upstreamCA: UpstreamCA = .system,
            doNotInspect: [String] = [],
            leafCacheSize: Int = 10_000,
            leafValidity: Duration = .seconds(7 * 86_400),
            caKeyType: CAKeyType = .ecdsaP256
        ) {
            self.caCertPath = caCertPath
            self.caKeyPath = caKeyPath
            self.upstreamCA = upstreamCA
            self.doNotInspect = doNotInspect
            self.leafCacheSize = leafCacheSize
            self.leafValidity = leafValidity
            self.caKeyType = caKeyType
        }

        /// The defaults, with the CA files inside `stateDirectory`.
        public static func defaults(stateDirectory: String) -> TLSSettings {
            TLSSettings(caCertPath: stateDirectory + "/ca.pem", caKeyPath: stateDirectory + "/ca.key")
        }
    }
}

extension MeshgateConfiguration.TLSSettings {
    static let keys = ["ca_cert", "ca_key", "upstream_ca", "do_not_inspect", "leaf_cache_size", "leaf_validity", "ca_key_type"]

    init(node: YAMLNode?, stateDirectory: String) throws(ConfigurationError) {
        self = .defaults(stateDirectory: stateDirectory)
        guard let node else { return }
        let map = try node.mapping(keys: Self.keys)
        if let value = map["ca_cert"] { caCertPath = try value.path() }
        if let value = map["ca_key"] { caKeyPath = try value.path() }
        if let value = map["upstream_ca"] {
            let text = try value.string(expected: "'system' or a PEM bundle path")
            upstreamCA = text == "system" ? .system : .bundle(path: value.source.resolve(text))
        }
        if let list = map["do_not_inspect"] {
            doNotInspect = try list.list().map { (item) throws(ConfigurationError) in try item.hostPattern() }
        }
        if let value = map["leaf_cache_size"] { leafCacheSize = try value.int(in: 1...10_000_000, what: "cache size") }
        if let value = map["leaf_validity"] { leafValidity = try value.duration() }
        if let value = map["ca_key_type"] { caKeyType = try value.choice(CAKeyType.self) }
    }
}

extension YAMLNode {
    /// A host pattern as rulesets use them: `example.com`, `*.example.com` (any depth below) or
    /// `mcp.*` (first label), lowercased and without a trailing dot.
    func hostPattern() throws(ConfigurationError) -> String {
        let text = try string(expected: "a host pattern such as *.apple.com")
        var pattern = text.lowercased()
        while pattern.count > 1, pattern.hasSuffix(".") { pattern.removeLast() }
        let labels = pattern.split(separator: ".", omittingEmptySubsequences: false)
        let fix = "write a host name, '*.example.com' for every host below it, or 'mcp.*' for a first label"
        for (index, label) in labels.enumerated() {
            if label == "*" {
                // A wildcard is only meaningful as the whole first or the whole last label.
                guard labels.count > 1, index == 0 || index == labels.count - 1 else {
                    throw error("invalid host pattern '\(text)'", fix: fix)
                }
                continue
            }
            let valid = !label.isEmpty && label.utf8.allSatisfy { c in
                (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x5F
            }
            guard valid else { throw error("invalid host pattern '\(text)'", fix: fix) }
        }
        return pattern
    }
}
