import MeshgateCore
import MeshgateJSON

/// One audit line as the trail reads it: the fields that place it in the tree, and the line itself.
public struct TrailLine: Sendable {
    public let raw: JSONValue
    public let millis: Int64?
    public let event: String
    public let requestID: String?
    /// The trace id of its `traceparent`.
    public let traceID: String?
    public let identity: String?
    public let team: String?
    public let client: String?
    public let action: String
    /// `llm_request_id`: the LLM call whose answer asked for this tool call.
    public let llmRequestID: String?
    /// Tool names an LLM answer asked for.
    public let toolCallNames: [String]

    /// Reads one line; nil when it is not an audit JSON object.
    public init?(_ text: Substring) {
        guard let value = try? JSONParser.parse(Array(text.utf8)), value.isObject, let event = value["event"]?.stringValue else { return nil }
        raw = value
        self.event = event
        millis = value["ts"]?.stringValue.flatMap(Self.millis)
        requestID = value["request_id"]?.stringValue
        traceID = value["traceparent"]?.stringValue.flatMap { TraceContext.parse($0)?.traceID }
        identity = value["identity"]?.stringValue
        team = value["team"]?.stringValue
        client = value["client"]?.stringValue
        action = value["action"]?.stringValue ?? "?"
        llmRequestID = value["llm_request_id"]?.stringValue
        toolCallNames = value["tool_calls"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
    }

    public func string(_ key: String) -> String? { raw[key]?.stringValue }

    public func number(_ key: String) -> String? {
        if case .number(let text)? = raw[key] { return text }
        return nil
    }

    /// Whether the line is an MCP exchange.
    public var isMCP: Bool { raw["mcp_method"] != nil && raw.hasKey("mcp_server") }
    /// Whether the line is an LLM call.
    public var isLLM: Bool { event == "ai" }

    /// Who the line is about: the identity, else the client's address.
    public var who: String {
        if let identity { return identity }
        guard let client else { return "unknown client" }
        // ip:port or [v6]:port → the address alone (an agent's calls come from many ports).
        if client.hasPrefix("["), let end = client.firstIndex(of: "]") { return "client " + client[client.index(after: client.startIndex)..<end] }
        return "client " + (client.split(separator: ":").first.map(String.init) ?? client)
    }

    /// `2026-12-07T10:51:58.123Z` → milliseconds since the epoch.
    static func millis(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        guard b.count >= 20, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54, b[13] == 0x3A, b[16] == 0x3A else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var n: Int64 = 0
            for i in range {
                guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
                n = n * 10 + Int64(b[i] - 0x30)
            }
            return n
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19) else { return nil }
        var millis: Int64 = 0
        if b[19] == 0x2E, b.count >= 23, let fraction = number(20..<23) { millis = fraction }
        let days = CivilDate.day(year: year, month: month, day: day)
        return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis
    }
}
