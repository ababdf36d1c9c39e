import MeshgateJSON

extension MCPRecognizer {
    /// How strongly one method name says "MCP".
    enum MethodStrength: Comparable {
        case none
        /// A name MCP shares with other JSON-RPC protocols, without MCP-shaped params.
        case weak
        /// An MCP-only name, or a shared one with MCP-shaped params.
        case strong
    }

    /// The `_meta` key every 2026-07-28 request carries; it marks MCP whatever the method
    /// (extension methods, methods newer than this catalog).
    static let protocolVersionMetaKey = "io.modelcontextprotocol/protocolVersion"

    /// What the top level of a JSON body says about JSON-RPC and MCP.
    struct JSONRPCEvidence {
        /// Some top-level message has `"jsonrpc": "2.0"` (request, notification or response).
        var isJSONRPC = false
        var hasStrongMethod = false
        var hasWeakMethod = false
        /// A weak method that takes no params to tell MCP's use of it from others' (`ping`, `tasks/list`).
        var hasParamlessWeakMethod = false
        /// The MCP method of each message that has one, in body order.
        var methods: [String] = []
        var toolName: String?
        /// `params.name` of every `tools/call`, in body order (a batch may call several).
        var toolNames: [String] = []
        var protocolVersion: String?
        /// The `id` of every request (a message with a method and an id), in body order.
        var requestIDs: [JSONValue] = []

        static let none = JSONRPCEvidence()

        private init() {}

        init(_ json: JSONValue) {
            let messages: [JSONValue]
            switch json {
            case .array(let elements): messages = elements
            case .object: messages = [json]
            default: messages = []
            }
            for message in messages { read(message) }
        }

        private mutating func read(_ message: JSONValue) {
            // Duplicate keys: every spelling is looked at, since servers differ on which one wins.
            guard message.values(forKey: "jsonrpc").contains(.string("2.0")) else { return }
            isJSONRPC = true
            if message.hasKey("method"), let id = message["id"] { requestIDs.append(id) }
            let params = message.values(forKey: "params")
            var best: (method: String, strength: MethodStrength)?
            for case .string(let method) in message.values(forKey: "method") {
                let strength = MCPRecognizer.strength(of: method, params: params)
                if strength > .none, strength >= (best?.strength ?? .none) { best = (method, strength) }
            }
            guard let best else { return }
            if best.strength == .strong { hasStrongMethod = true } else { hasWeakMethod = true }
            if best.strength == .weak, best.method == "ping" || best.method == "tasks/list" { hasParamlessWeakMethod = true }
            methods.append(best.method)
            if best.method == "tools/call", let name = params.reversed().lazy.compactMap({ $0["name"]?.stringValue }).first {
                if toolName == nil { toolName = name }
                toolNames.append(name)
            }
            if protocolVersion == nil {
                protocolVersion = params.reversed().lazy.compactMap { p in
                    p["_meta"]?[MCPRecognizer.protocolVersionMetaKey]?.stringValue
                        ?? (best.method == "initialize" ? p["protocolVersion"]?.stringValue : nil)
                }.first
            }
        }
    }

    static func strength(of method: String, params: [JSONValue]) -> MethodStrength {
        if params.contains(where: { $0["_meta"]?.hasKey(protocolVersionMetaKey) == true }) { return .strong }
        guard MCPMethodCatalog.isKnown(method) else { return .none }
        switch method {
        case "initialize":
            // LSP's initialize has processId / rootUri; MCP's always has protocolVersion.
            let declares = params.contains { $0.values(forKey: "protocolVersion").contains { $0.stringValue != nil } }
            return declares ? .strong : .weak
        case "tasks/get", "tasks/result", "tasks/cancel", "tasks/update":
            // A2A uses the same names with params.id.
            return params.contains { $0.hasKey("taskId") } ? .strong : .weak
        case "ping", "tasks/list":
            return .weak
        default:
            return .strong
        }
    }
}
