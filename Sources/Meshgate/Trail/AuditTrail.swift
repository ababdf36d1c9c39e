import Foundation
import MeshgateJSON

/// `meshgate trail`: the audit log as a tree an investigator reads top down, identity → LLM call →
/// the MCP tool calls that answer asked for → what meshgate decided. Built from the log file alone,
/// so it works on a copy taken off a machine.
public struct AuditTrail: Sendable {
    /// What to keep.
    public struct Filter: Sendable {
        public var identity: String?
        /// Only lines at or after this time (milliseconds since the epoch).
        public var sinceMillis: Int64?
        /// A `request_id`, or a 32-digit trace id: the lines of that request and its relatives.
        public var request: String?

        public init(identity: String? = nil, sinceMillis: Int64? = nil, request: String? = nil) {
            self.identity = identity
            self.sinceMillis = sinceMillis
            self.request = request
        }
    }

    /// An LLM call and the tool calls linked to it.
    public struct LLMCall: Sendable {
        public var line: TrailLine
        public var toolCalls: [TrailLine]
    }

    /// Everything one identity (or client address) did.
    public struct Actor: Sendable {
        public var who: String
        public var team: String?
        public var llmCalls: [LLMCall] = []
        /// MCP exchanges no LLM call in view asked for.
        public var mcpCalls: [TrailLine] = []
        /// Other lines meshgate did more than allow (block, reroute, redirect, limit, log).
        public var decisions: [TrailLine] = []
        /// Plain allowed requests, counted.
        public var allowed = 0
    }

    public var actors: [Actor] = []
    /// `mcp_drift` lines (a server's doing, not an identity's).
    public var drift: [TrailLine] = []
    /// Lines that were not audit JSON.
    public var unreadable = 0

    /// Builds the trail from the log's lines, in log order.
    public init(lines: some Sequence<Substring>, filter: Filter) {
        var parsed: [TrailLine] = []
        for text in lines where !text.allSatisfy(\.isWhitespace) {
            guard let line = TrailLine(text) else {
                unreadable += 1
                continue
            }
            if let since = filter.sinceMillis, let millis = line.millis, millis < since { continue }
            parsed.append(line)
        }
        if let request = filter.request { parsed = Self.relatives(of: request, in: parsed) }
        if let identity = filter.identity { parsed = parsed.filter { $0.identity == identity || $0.event == "mcp_drift" } }

        var order: [String] = []
        var byWho: [String: Actor] = [:]
        var llmIndex: [String: (who: String, index: Int)] = [:]
        for line in parsed {
            if line.event == "mcp_drift" {
                drift.append(line)
                continue
            }
            guard ["http", "ai"].contains(line.event) else { continue }
            let who = line.who
            if byWho[who] == nil {
                order.append(who)
                byWho[who] = Actor(who: who, team: line.team)
            }
            if line.isLLM {
                if let id = line.requestID { llmIndex[id] = (who, byWho[who]!.llmCalls.count) }
                byWho[who]!.llmCalls.append(LLMCall(line: line, toolCalls: []))
            } else if let parent = line.llmRequestID, let at = llmIndex[parent] {
                byWho[at.who]!.llmCalls[at.index].toolCalls.append(line)
            } else if line.isMCP {
                byWho[who]!.mcpCalls.append(line)
            } else if line.action != "allow" {
                byWho[who]!.decisions.append(line)
            } else {
                byWho[who]!.allowed += 1
            }
        }
        actors = order.compactMap { byWho[$0] }
    }

    /// The line with `request` as its id (or every line of trace `request`), with its LLM parent and
    /// that parent's other tool calls, or its tool calls when it is an LLM call.
    static func relatives(of request: String, in lines: [TrailLine]) -> [TrailLine] {
        let seeds = lines.filter { $0.requestID == request || $0.traceID == request }
        var ids = Set(seeds.compactMap(\.requestID))
        for seed in seeds { if let parent = seed.llmRequestID { ids.insert(parent) } }
        return lines.filter { line in
            line.requestID.map(ids.contains) == true || line.llmRequestID.map(ids.contains) == true
                || (line.event == "mcp_drift" && seeds.contains { $0.requestID == line.requestID })
        }
    }

    public var isEmpty: Bool { actors.isEmpty && drift.isEmpty }
}

extension AuditTrail {
    /// The tree for people.
    public func text() -> String {
        var out = ""
        for actor in actors {
            out += actor.who + (actor.team.map { " (team \($0))" } ?? "") + "\n"
            var items: [(Int64, String)] = []
            for call in actor.llmCalls {
                var block = "  " + Self.describe(call.line) + "\n"
                for tool in call.toolCalls { block += "    └ " + Self.describe(tool) + "\n" }
                let ran = Set(call.toolCalls.compactMap { $0.string("mcp_tool") })
                for missing in call.line.toolCallNames where !ran.contains(missing) {
                    block += "    └ \(missing): no MCP call seen through meshgate (a local tool, or not yet run)\n"
                }
                items.append((call.line.millis ?? 0, block))
            }
            for line in actor.mcpCalls + actor.decisions { items.append((line.millis ?? 0, "  " + Self.describe(line) + "\n")) }
            for (_, block) in items.sorted(by: { $0.0 < $1.0 }) { out += block }
            if actor.allowed > 0 { out += "  + \(actor.allowed) other allowed request\(actor.allowed == 1 ? "" : "s")\n" }
        }
        if !drift.isEmpty {
            out += "MCP drift\n"
            for line in drift { out += "  " + Self.describe(line) + "\n" }
        }
        if isEmpty { out += "no audit lines match\n" }
        return out
    }

    /// One line of the tree: time, what, decision, request id.
    static func describe(_ line: TrailLine) -> String {
        let time = line.string("ts").map { String($0.dropFirst(11).prefix(12)) } ?? "--:--:--"
        var what: String
        if line.event == "mcp_drift" {
            what = "\(line.string("mcp_server") ?? "?"): tool \(line.string("tool") ?? "?") \(line.string("change") ?? "?")"
                + " (\(line.action)) \(short(line.string("old_digest"))) → \(short(line.string("new_digest")))"
            return "\(time)  \(what)"
        }
        if line.isLLM {
            what = "LLM \(line.string("provider") ?? "?") \(line.string("model") ?? "?")"
                + " \(line.number("input_tokens") ?? "?")+\(line.number("output_tokens") ?? "?") tokens"
            let calls = line.raw["tool_calls"]?.arrayValue ?? []
            if !calls.isEmpty {
                what += ", asked for " + calls.map { call in
                    (call["name"]?.stringValue ?? "?") + (call["id"]?.stringValue.map { " (\($0))" } ?? "")
                }.joined(separator: ", ")
            }
        } else if line.isMCP {
            let server = line.string("mcp_server").map { "'\($0)'" } ?? "unregistered server"
            what = "MCP \(line.string("mcp_method") ?? "?")\(line.string("mcp_tool").map { " \($0)" } ?? "") on \(server) \(line.string("host") ?? "")"
        } else {
            what = "\(line.string("method") ?? "") \(line.string("host") ?? "")\(line.string("path").map { $0.hasPrefix("/") ? $0 : "" } ?? "")"
        }
        var decision = line.action
        if let rule = line.string("rule") { decision += " by \(rule)" }
        if let status = line.number("status") { decision += ", \(status)" }
        let detections = line.raw["detections"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if !detections.isEmpty { decision += " [" + detections.joined(separator: "; ") + "]" }
        return "\(time)  \(what)  → \(decision)  request \(line.requestID ?? "-")"
    }

    private static func short(_ digest: String?) -> String {
        guard let digest else { return "-" }
        return String(digest.prefix(19)) + "…"
    }

    /// The tree for machines: `{"identities":[{identity, team, llm_calls:[{call, tool_calls:[…]}], mcp_calls, decisions, allowed}], "drift":[…]}`;
    /// every line as the log wrote it.
    public func json() -> String {
        func lines(_ list: [TrailLine]) -> JSONValue { .array(list.map(\.raw)) }
        let identities: [JSONValue] = actors.map { actor in
            .object([
                ("who", .string(actor.who)),
                ("team", actor.team.map(JSONValue.string) ?? .null),
                ("llm_calls", .array(actor.llmCalls.map { call in .object([("call", call.line.raw), ("tool_calls", lines(call.toolCalls))]) })),
                ("mcp_calls", lines(actor.mcpCalls)),
                ("decisions", lines(actor.decisions)),
                ("allowed", .number(String(actor.allowed))),
            ])
        }
        return String(decoding: JSONValue.object([("identities", .array(identities)), ("drift", lines(drift))]).jsonText, as: UTF8.self)
    }
}
