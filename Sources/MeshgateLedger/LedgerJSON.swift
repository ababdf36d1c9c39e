import MeshgateAI
import MeshgateJSON

/// The JSON the ledger stores: `reservations.charges` and the usage spool's lines.
///
/// The shapes are the ones Foundation's `JSONEncoder` gave these types through synthesized
/// `Codable`, so rows and spool files written by earlier builds still read, and earlier builds can
/// read what this one writes: property names as keys, integers as plain numbers, a nil optional as
/// a missing key, a `BudgetSubject` as `{"team":{"_0":"name"}}`. Keys are written sorted, as the
/// spool's encoder did (`.sortedKeys`); reading ignores key order (the ledger's encoder wrote them
/// in hash order) and unknown keys, as `JSONDecoder` did.
enum LedgerJSON {
    /// `charges` as a JSON array.
    static func text(_ charges: [BudgetCharge]) -> String {
        var out: [UInt8] = []
        appendCharges(charges, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The charges in `text`, or nil when it is not an array of readable charges (one bad element
    /// spoils the whole array, as it did with `JSONDecoder`).
    static func charges(_ text: String) -> [BudgetCharge]? {
        guard let value = try? JSONParser.parse(text) else { return nil }
        return charges(in: value)
    }

    /// `record` as one line of JSON, without the newline.
    static func line(_ record: UsageRecord) -> [UInt8] {
        var out: [UInt8] = []
        out.append(contentsOf: #"{"charges":"#.utf8)
        appendCharges(record.charges, to: &out)
        out.append(contentsOf: #","id":"#.utf8)
        JSONText.appendString(record.id, to: &out)
        if let identity = record.identity {
            out.append(contentsOf: #","identity":"#.utf8)
            JSONText.appendString(identity, to: &out)
        }
        out.append(contentsOf: #","model":"#.utf8)
        JSONText.appendString(record.model, to: &out)
        out.append(contentsOf: #","provider":"#.utf8)
        JSONText.appendString(record.provider, to: &out)
        if let team = record.team {
            out.append(contentsOf: #","team":"#.utf8)
            JSONText.appendString(team, to: &out)
        }
        out.append(contentsOf: #","timestampMilliseconds":"#.utf8)
        JSONText.appendInt(record.timestampMilliseconds, to: &out)
        let usage = record.usage
        out.append(contentsOf: #","usage":{"cacheCreation":"#.utf8)
        JSONText.appendInt(Int64(usage.cacheCreation), to: &out)
        out.append(contentsOf: #","cacheRead":"#.utf8)
        JSONText.appendInt(Int64(usage.cacheRead), to: &out)
        out.append(contentsOf: #","estimated":"#.utf8)
        JSONText.appendBool(usage.estimated, to: &out)
        out.append(contentsOf: #","input":"#.utf8)
        JSONText.appendInt(Int64(usage.input), to: &out)
        out.append(contentsOf: #","output":"#.utf8)
        JSONText.appendInt(Int64(usage.output), to: &out)
        out.append(contentsOf: "}}".utf8)
        return out
    }

    /// The record in one spool line, or nil when the line is not one (a torn last line, say).
    static func record(_ line: [UInt8]) -> UsageRecord? {
        guard let value = try? JSONParser.parse(line), value.isObject,
              let charges = value["charges"].flatMap(charges(in:)),
              let id = value["id"]?.stringValue,
              let identity = value.optionalString("identity"),
              let team = value.optionalString("team"),
              let provider = value["provider"]?.stringValue,
              let model = value["model"]?.stringValue,
              let timestamp = value["timestampMilliseconds"]?.int64Value,
              let usage = value["usage"],
              let input = usage["input"]?.intValue,
              let output = usage["output"]?.intValue,
              let cacheRead = usage["cacheRead"]?.intValue,
              let cacheCreation = usage["cacheCreation"]?.intValue,
              let estimated = usage["estimated"]?.boolValue
        else { return nil }
        return UsageRecord(id: id, timestampMilliseconds: timestamp, identity: identity, team: team, provider: provider, model: model,
                           usage: TokenUsage(input: input, output: output, cacheRead: cacheRead, cacheCreation: cacheCreation, estimated: estimated),
                           charges: charges)
    }

    private static func appendCharges(_ charges: [BudgetCharge], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (i, charge) in charges.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"limit":"#.utf8)
            JSONText.appendInt(Int64(charge.limit), to: &out)
            out.append(contentsOf: #","period":{"end":"#.utf8)
            JSONText.appendInt(charge.period.end, to: &out)
            out.append(contentsOf: #","start":"#.utf8)
            JSONText.appendInt(charge.period.start, to: &out)
            // Synthesized Codable spells an enum case with an unlabelled payload as {"case":{"_0":payload}}.
            out.append(contentsOf: #"},"subject":{"#.utf8)
            JSONText.appendString(charge.subject.kind, to: &out)
            out.append(contentsOf: #":{"_0":"#.utf8)
            JSONText.appendString(charge.subject.name, to: &out)
            out.append(contentsOf: #"}},"window":"#.utf8)
            JSONText.appendString(charge.window, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
    }

    private static func charges(in value: JSONValue) -> [BudgetCharge]? {
        guard let elements = value.arrayValue else { return nil }
        var charges: [BudgetCharge] = []
        charges.reserveCapacity(elements.count)
        for element in elements {
            guard let charge = charge(element) else { return nil }
            charges.append(charge)
        }
        return charges
    }

    private static func charge(_ value: JSONValue) -> BudgetCharge? {
        guard let subject = value["subject"].flatMap(subject),
              let window = value["window"]?.stringValue,
              let period = value["period"],
              let start = period["start"]?.int64Value,
              let end = period["end"]?.int64Value,
              let limit = value["limit"]?.intValue
        else { return nil }
        return BudgetCharge(subject: subject, window: window, period: BudgetPeriod(start: start, end: end), limit: limit)
    }

    // Synthesized decoding wants exactly one key, the case name; so does this.
    private static func subject(_ value: JSONValue) -> BudgetSubject? {
        guard let members = value.objectMembers, members.count == 1,
              let name = members[0].value["_0"]?.stringValue
        else { return nil }
        return BudgetSubject(kind: members[0].key, name: name)
    }
}

extension JSONValue {
    /// The number when it is written as an integer that fits `Int64` (all `JSONEncoder` wrote for one).
    fileprivate var int64Value: Int64? {
        guard case .number(let text) = self else { return nil }
        return Int64(text)
    }

    /// The number when it is written as an integer that fits `Int`.
    fileprivate var intValue: Int? {
        guard case .number(let text) = self else { return nil }
        return Int(text)
    }

    /// The boolean when this is `.bool`.
    fileprivate var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// An optional string member: `.some(nil)` when it is missing or `null` (as `decodeIfPresent`
    /// read it), nil when it is something other than a string.
    fileprivate func optionalString(_ key: String) -> String?? {
        switch self[key] {
        case nil, .null?: return .some(nil)
        case .string(let s)?: return .some(s)
        default: return nil
        }
    }
}
