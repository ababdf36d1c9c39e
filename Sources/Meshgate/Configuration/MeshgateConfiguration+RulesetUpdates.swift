import Foundation
import MeshgatePolicy

extension MeshgateConfiguration {
    /// `ruleset_updates:` — where `meshgate rules update` fetches signed rulesets from.
    public struct RulesetUpdates: Sendable, Hashable {
        /// The ruleset to fetch; its detached signature sits beside it (`+ ".sig"`).
        public var source: Source
        /// Raw 32-byte Ed25519 public keys; a ruleset signed by any of them is accepted, which
        /// lets publishers rotate keys.
        public var publicKeys: [[UInt8]]
        /// How often a running server checks for a new version; nil means only on demand.
        public var interval: Duration?

        /// Where a ruleset comes from.
        public enum Source: Sendable, Hashable, CustomStringConvertible {
            /// An `http(s)://` URL.
            case url(URL)
            /// A local file (absolute path), e.g. on a shared mount.
            case file(path: String)

            /// The URL or path as text.
            public var description: String {
                switch self {
                case .url(let url): url.absoluteString
                case .file(let path): path
                }
            }
        }

        /// Creates update settings.
        public init(source: Source, publicKeys: [[UInt8]], interval: Duration? = nil) {
            self.source = source
            self.publicKeys = publicKeys
            self.interval = interval
        }
    }
}

extension MeshgateConfiguration.RulesetUpdates {
    static let keys = ["source", "public_key", "public_keys", "interval"]

    init(node: YAMLNode) throws(ConfigurationError) {
        let map = try node.mapping(keys: Self.keys)
        let sourceNode = try map.required("source", fix: "set it to the ruleset's https:// URL or a file path")
        source = try Self.source(sourceNode)

        let keyNodes: [YAMLNode]
        switch (map["public_key"], map["public_keys"]) {
        case (let one?, nil): keyNodes = [one]
        case (nil, let many?): keyNodes = try many.list()
        case (_?, let many?):
            throw many.error("both public_key and public_keys are set", fix: "list every key under public_keys")
        case (nil, nil):
            throw map.missing("public_key", fix: "set it to the contents of ruleset-signing.pub from `meshgate rules keygen`")
        }
        guard !keyNodes.isEmpty else {
            throw map["public_keys"].map { $0.error("public_keys is empty", fix: "list at least one key") }
                ?? map.owner.error("no public key")
        }
        publicKeys = try keyNodes.map { (item) throws(ConfigurationError) in try item.ed25519PublicKey() }
        interval = try map["interval"].map { (value) throws(ConfigurationError) in try value.duration() }
    }

    private static func source(_ node: YAMLNode) throws(ConfigurationError) -> Source {
        let text = try node.string(expected: "a URL or file path")
        let lower = text.lowercased()
        if lower.hasPrefix("https://") || lower.hasPrefix("http://") {
            guard let url = URL(string: text), url.host?.isEmpty == false else {
                throw node.error("invalid URL '\(text)'")
            }
            return .url(url)
        }
        if lower.hasPrefix("file://") {
            guard let url = URL(string: text), !url.path.isEmpty else { throw node.error("invalid URL '\(text)'") }
            return .file(path: LexicalPath.normalise(url.path))
        }
        if let colon = text.firstIndex(of: ":"), text[..<colon].count > 1, !text[..<colon].contains("/") {
            throw node.error("unsupported URL scheme in '\(text)'", fix: "use https://, http:// or a file path")
        }
        return .file(path: node.source.resolve(text))
    }
}

extension YAMLNode {
    /// The base64 of a raw 32-byte Ed25519 public key, as `meshgate rules keygen` prints it.
    func ed25519PublicKey() throws(ConfigurationError) -> [UInt8] {
        let text = try string(expected: "a base64 Ed25519 public key")
        let fix = "use the contents of ruleset-signing.pub written by `meshgate rules keygen`"
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespaces)) else {
            throw error("public key '\(text)' is not valid base64", fix: fix)
        }
        guard data.count == 32 else {
            throw error("public key decodes to \(data.count) bytes, an Ed25519 public key has 32", fix: fix)
        }
        return Array(data)
    }
}
