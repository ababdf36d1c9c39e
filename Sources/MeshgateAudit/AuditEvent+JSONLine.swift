import MeshgateCore
import MeshgateJSON

extension AuditEvent {
    /// The event as one JSON object on one line, without the trailing newline. Field order:
    /// `ts`, `event`, `client`, `identity`, `team`, `action`, `rule`, `ruleset`, `detections`,
    /// `request_id`, `traceparent` (when set), then `fields` in their order.
    public func jsonLine() -> String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        appendJSONLine(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `jsonLine()`'s bytes to `out` (no newline), so a batch is encoded into one buffer.
    package func appendJSONLine(to out: inout [UInt8]) {
        out.append(contentsOf: #"{"ts":""#.utf8)
        RFC3339.appendTimestamp(millis: timestampMillis, to: &out)
        out.append(contentsOf: #"","event":"#.utf8)
        JSONText.appendString(kind.rawValue, to: &out)
        out.append(contentsOf: #","client":"#.utf8)
        JSONText.appendOptionalString(client, to: &out)
        out.append(contentsOf: #","identity":"#.utf8)
        JSONText.appendOptionalString(identity, to: &out)
        out.append(contentsOf: #","team":"#.utf8)
        JSONText.appendOptionalString(team, to: &out)
        out.append(contentsOf: #","action":"#.utf8)
        JSONText.appendString(actionText ?? action.rawValue, to: &out)
        out.append(contentsOf: #","rule":"#.utf8)
        JSONText.appendOptionalString(rule, to: &out)
        out.append(contentsOf: #","ruleset":"#.utf8)
        JSONText.appendOptionalString(ruleset, to: &out)
        out.append(contentsOf: #","detections":"#.utf8)
        JSONText.appendStringArray(detections, to: &out)
        out.append(contentsOf: #","request_id":"#.utf8)
        JSONText.appendString(requestID, to: &out)
        if let traceparent {
            out.append(contentsOf: #","traceparent":"#.utf8)
            JSONText.appendString(traceparent, to: &out)
        }
        for (key, value) in fields {
            out.append(UInt8(ascii: ","))
            JSONText.appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            value.appendJSON(to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }
}

extension AuditValue {
    /// Appends the value's JSON form.
    package func appendJSON(to out: inout [UInt8]) {
        switch self {
        case .string(let s): JSONText.appendString(s, to: &out)
        case .int(let i): JSONText.appendInt(i, to: &out)
        case .double(let d): JSONText.appendDouble(d, to: &out)
        case .bool(let b): JSONText.appendBool(b, to: &out)
        case .strings(let list): JSONText.appendStringArray(list, to: &out)
        case .null: JSONText.appendNull(to: &out)
        case .objects(let objects):
            out.append(UInt8(ascii: "["))
            for (index, members) in objects.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out.append(UInt8(ascii: "{"))
                for (position, member) in members.enumerated() {
                    if position > 0 { out.append(UInt8(ascii: ",")) }
                    JSONText.appendString(member.key, to: &out)
                    out.append(UInt8(ascii: ":"))
                    member.value.appendJSON(to: &out)
                }
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "]"))
        }
    }
}
