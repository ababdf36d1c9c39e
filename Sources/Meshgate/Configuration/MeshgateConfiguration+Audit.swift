import MeshgatePolicy

extension MeshgateConfiguration {
    /// `audit:` — where the JSON-lines audit log goes.
    public struct Audit: Sendable, Hashable {
        /// The sink. Default `<state_dir>/audit.jsonl`.
        public var destination: Destination
        /// `query_keys`: query parameters whose values audit lines show as sent; every other value is
        /// written `REDACTED` (key names stay). Default none: a query can carry API keys and tokens.
        public var queryKeys: [String] = []

        /// An audit sink.
        public enum Destination: Sendable, Hashable {
            /// Standard output (`path: "-"`), for containers whose runtime collects stdout.
            case stdout
            /// Appended to the file at this absolute path.
            case file(path: String)
        }

        /// Creates audit settings.
        public init(destination: Destination) {
            self.destination = destination
        }

        /// The defaults, with the log inside `stateDirectory`.
        public static func defaults(stateDirectory: String) -> Audit {
            Audit(destination: .file(path: stateDirectory + "/audit.jsonl"))
        }
    }
}

extension MeshgateConfiguration.Audit {
    static let keys = ["path", "query_keys"]

    init(node: YAMLNode?, stateDirectory: String) throws(ConfigurationError) {
        self = .defaults(stateDirectory: stateDirectory)
        guard let node else { return }
        let map = try node.mapping(keys: Self.keys)
        if let value = map["path"] {
            let text = try value.string(expected: "a file path or \"-\" for stdout")
            destination = text == "-" ? .stdout : .file(path: value.source.resolve(text))
        }
        if let value = map["query_keys"] {
            queryKeys = try value.list().map { (item) throws(ConfigurationError) in
                try item.string(expected: "a query parameter name, as in [page, api-version]")
            }
        }
    }
}
