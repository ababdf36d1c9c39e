import MeshgateAudit
import MeshgateCore
import MeshgateJSON

/// The JSON of the dashboard's endpoints (`/admin/api/…`), documented in docs/dashboard.md.
public enum DashboardJSON {
    static func string(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
    static func number(_ n: some BinaryInteger) -> JSONValue { .number(String(n)) }
    static func time(_ millis: Int64) -> JSONValue { .string(RFC3339.timestamp(millis: millis)) }

    /// `{"next":N,"decisions":[{"seq":N,"record":{…audit line…}}]}`: `next` is the `since` to send next.
    public static func decisions(_ events: [(sequence: UInt64, event: AuditEvent)], next: UInt64) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64 + events.count * 400)
        out.append(contentsOf: #"{"next":"#.utf8)
        out.append(contentsOf: String(next).utf8)
        out.append(contentsOf: #","decisions":["#.utf8)
        for (i, item) in events.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            appendDecision(item.sequence, item.event, to: &out)
        }
        out.append(contentsOf: "]}".utf8)
        return String(decoding: out, as: UTF8.self)
    }

    /// `{"seq":N,"record":{…}}`.
    public static func decision(_ sequence: UInt64, _ event: AuditEvent) -> String {
        var out: [UInt8] = []
        appendDecision(sequence, event, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `decision(_:_:)`'s bytes to `out`.
    public static func appendDecision(_ sequence: UInt64, _ event: AuditEvent, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"seq":"#.utf8)
        out.append(contentsOf: String(sequence).utf8)
        out.append(contentsOf: #","record":"#.utf8)
        event.appendJSONLine(to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// `{"servers":[…]}`, most recently seen first.
    public static func inventory(_ servers: [MCPInventory.Server]) -> String {
        let sorted = servers.sorted { ($0.lastSeen, $0.url) > ($1.lastSeen, $1.url) }
        return JSONValue.object([("servers", .array(sorted.map(server)))]).description
    }

    static func server(_ s: MCPInventory.Server) -> JSONValue {
        let tools = s.tools.sorted { $0.key < $1.key }.map { name, tool -> JSONValue in
            .object([
                ("name", .string(name)), ("calls", number(tool.calls)), ("blocked", number(tool.blocked)),
                ("last_seen", time(tool.lastSeen)), ("drift", string(tool.drift)),
            ])
        }
        let drifted = s.tools.values.contains { $0.drift != nil }
        return .object([
            ("url", .string(s.url)), ("host", .string(s.host)), ("transport", .string(s.transport)),
            ("protocol_version", string(s.protocolVersion)),
            ("registered_as", string(s.registeredAs)),
            // The governance issue in one word, as the inventory table shows it.
            ("governance", .string(s.registeredAs == nil ? "unregistered" : drifted ? "drift" : "registered")),
            ("first_seen", time(s.firstSeen)), ("last_seen", time(s.lastSeen)),
            ("calls", number(s.calls)),
            ("actions", .object(s.actions.sorted { $0.key < $1.key }.map { ($0.key, number($0.value)) })),
            ("identities", .array(s.identities.map(JSONValue.string))),
            ("teams", .array(s.teams.map(JSONValue.string))),
            ("tools", .array(tools)),
        ])
    }

    /// The token history: one row per day, team, identity, provider and model (newest day first),
    /// and the provider/model split over the days kept.
    public static func history(_ entries: [SpendHistory.Key: SpendHistory.Tokens]) -> JSONValue {
        let rows = entries.sorted { a, b in
            (a.key.day, a.key.team, a.key.identity, a.key.provider, a.key.model) > (b.key.day, b.key.team, b.key.identity, b.key.provider, b.key.model)
        }.map { key, tokens -> JSONValue in
            let (y, m, d) = RFC3339.civilFromDays(key.day)
            let day = "\(y)-\(m < 10 ? "0" : "")\(m)-\(d < 10 ? "0" : "")\(d)"
            return .object([
                ("day", .string(day)), ("team", string(key.team.isEmpty ? nil : key.team)),
                ("identity", string(key.identity.isEmpty ? nil : key.identity)),
                ("provider", .string(key.provider)), ("model", .string(key.model)),
                ("input_tokens", number(tokens.input)), ("output_tokens", number(tokens.output)), ("calls", number(tokens.calls)),
            ])
        }
        var split: [String: SpendHistory.Tokens] = [:]
        for (key, tokens) in entries {
            let k = key.provider + "\u{0}" + key.model
            split[k, default: .init()].input += tokens.input
            split[k, default: .init()].output += tokens.output
            split[k, default: .init()].calls += tokens.calls
        }
        let models = split.sorted { $0.value.total > $1.value.total || ($0.value.total == $1.value.total && $0.key < $1.key) }.map { key, tokens -> JSONValue in
            let parts = key.split(separator: "\u{0}", maxSplits: 1, omittingEmptySubsequences: false)
            return .object([
                ("provider", .string(String(parts[0]))), ("model", .string(parts.count > 1 ? String(parts[1]) : "")),
                ("input_tokens", number(tokens.input)), ("output_tokens", number(tokens.output)), ("calls", number(tokens.calls)),
            ])
        }
        return .object([("days", .array(rows)), ("models", .array(models))])
    }

    /// Counters since start: `{"since":…,"total":N,"by_event":{"http":{"allow":N,…}},"ruleset_changes":[…]}`.
    public static func rollup(_ r: DecisionRollup, since: Int64) -> JSONValue {
        .object([
            ("since", time(since)), ("total", number(r.total)),
            ("by_event", .object(r.byEventAndAction.sorted { $0.key < $1.key }.map { event, actions in
                (event, .object(actions.sorted { $0.key < $1.key }.map { ($0.key, number($0.value)) }))
            })),
            ("ruleset_changes", changes(r)),
        ])
    }

    /// The latest ruleset changes, newest first.
    public static func changes(_ r: DecisionRollup) -> JSONValue {
        .array(r.changes.reversed().map { c in
            .object([
                ("ts", time(c.timestampMillis)), ("ruleset", .string(c.ruleset)), ("change", .string(c.change)),
                ("old_version", string(c.oldVersion)), ("new_version", string(c.newVersion)),
                ("requested_by", string(c.requestedBy)), ("file", string(c.file)),
            ])
        })
    }
}
