import MeshgateInspection
import MeshgateJSON

/// Reading and writing helpers the translators share. `JSONValue` keeps object members in order
/// and numbers as their source text, so `0.7` stays `0.7` and `100` stays `100` on the way through.
extension JSONValue {
    /// An integer number.
    static func int(_ n: Int) -> JSONValue { .number(String(n)) }

    /// Compact JSON text, members in order.
    var bytes: [UInt8] { Array(description.utf8) }

    /// The number as an integer, when it is one (`12`, `12.0`, `1.2e1`).
    var intValue: Int? {
        guard case .number(let text) = self else { return nil }
        if let n = Int(text) { return n }
        guard let d = Double(text), d.rounded() == d, abs(d) < 9e15 else { return nil }
        return Int(d)
    }

    /// The number as a floating value.
    var doubleValue: Double? {
        guard case .number(let text) = self else { return nil }
        return Double(text)
    }

    /// The boolean when this is `.bool`.
    var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// Whether this is `null`.
    var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The value of `key`, treating an explicit `null` as absent (SDKs send `null` for "not given").
    func present(_ key: String) -> JSONValue? {
        guard let value = self[key], !value.isNull else { return nil }
        return value
    }

    /// Parses a body that must be a JSON object.
    static func parseObject(_ body: [UInt8], what: String) throws(TranslationError) -> JSONValue {
        let value: JSONValue
        do {
            value = try JSONParser.parse(body, limits: TranslationLimits.json)
        } catch {
            throw .notJSON(what, error.description)
        }
        guard value.isObject else { throw .notJSON(what, "it is \(value.kindName)") }
        return value
    }

    /// A short name of the value's kind, for messages.
    var kindName: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }
}

/// Bounds for parsing bodies and stream events: larger than the inspection default because a
/// request may carry base64 images (the proxy caps the body before it gets here).
enum TranslationLimits {
    static let json = JSONLimits(maxDepth: 128, maxBytes: 64 << 20, maxValues: 1 << 22)
}

/// An object under construction, members kept in insertion order.
struct JSONObject {
    private(set) var members: [(key: String, value: JSONValue)] = []

    init() {}

    init(_ members: [(key: String, value: JSONValue)]) {
        self.members = members
    }

    /// Sets `key`, replacing an existing member in place.
    mutating func set(_ key: String, _ value: JSONValue) {
        if let i = members.firstIndex(where: { $0.key == key }) {
            members[i].value = value
        } else {
            members.append((key, value))
        }
    }

    /// Sets `key` when `value` is not nil.
    mutating func set(_ key: String, ifPresent value: JSONValue?) {
        if let value { set(key, value) }
    }

    var value: JSONValue { .object(members) }
}
