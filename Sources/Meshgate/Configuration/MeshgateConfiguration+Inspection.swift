import MeshgatePolicy

extension MeshgateConfiguration {
    /// `inspection:` — how much of a request body the policy engine looks at.
    public struct Inspection: Sendable, Hashable {
        /// Request bodies are inspected up to this many bytes after decoding. Default 1 MiB.
        public var maxBodyBytes: Int
        /// What happens to a body longer than `maxBodyBytes`. Default `inspect_prefix`.
        public var overLimit: OverLimit
        /// What happens to a body a rule needs whose Content-Encoding cannot be decoded. Default `block`.
        public var undecodable: Undecodable = .block
        /// What a rule's pattern that hits a PCRE2 limit means. Default `block`.
        public var onMatchError: OnMatchError = .block
        /// What a refusing verdict does to an MCP connector (an MCP tool with no server URL) inside
        /// an LLM call: `refuse` the call (default) or `strip` the tool. Servers with a URL are swapped.
        public var mcpConnectors: MCPConnectorMode = .refuse

        /// `inspection.over_limit`.
        public enum OverLimit: String, Sendable, Hashable, CaseIterable {
            /// Inspect the first `max_body_bytes` and decide on those.
            case inspectPrefix = "inspect_prefix"
            /// Refuse the request (403) when a body rule would need the whole body.
            case block
        }

        /// `inspection.undecodable`: a body a rule needs whose Content-Encoding meshgate cannot
        /// undo (an unknown coding, too many layers, corrupt data).
        public enum Undecodable: String, Sendable, Hashable, CaseIterable {
            /// Refuse it under the rule that needs the body (audited as `Undecodable body`).
            case block
            /// Inspect it as sent and let the rules decide (audited as `Undecodable body`).
            case allow
        }

        /// `inspection.on_match_error`: a rule whose regex hits a PCRE2 match, depth or heap limit
        /// on a request (catastrophic backtracking), so the request was not proven clean.
        public enum OnMatchError: String, Sendable, Hashable, CaseIterable {
            /// The pattern counts as matching for block, redirect and reroute rules: the rule decides,
            /// with the detection `Match limit: <pattern name>`.
            case block
            /// The pattern counts as not matching (audited as `Detection error: <rule>`).
            case allow
        }

        /// Creates inspection settings.
        public init(maxBodyBytes: Int = 1_048_576, overLimit: OverLimit = .inspectPrefix) {
            self.maxBodyBytes = maxBodyBytes
            self.overLimit = overLimit
        }
    }
}

extension MeshgateConfiguration.Inspection {
    static let keys = ["max_body_bytes", "over_limit", "undecodable", "on_match_error", "mcp_connectors"]

    init(node: YAMLNode?) throws(ConfigurationError) {
        self.init()
        guard let node else { return }
        let map = try node.mapping(keys: Self.keys)
        if let value = map["max_body_bytes"] { maxBodyBytes = try value.byteCount(in: 1...(1 << 30)) }
        if let value = map["over_limit"] { overLimit = try value.choice(OverLimit.self) }
        if let value = map["undecodable"] { undecodable = try value.choice(Undecodable.self) }
        if let value = map["on_match_error"] { onMatchError = try value.choice(OnMatchError.self) }
        if let value = map["mcp_connectors"] { mcpConnectors = try value.choice(MCPConnectorMode.self) }
    }
}
