/// A parsed JSON value, as the MCP recognizer and the policy engine see a request body.
///
/// Objects keep their members in document order and keep duplicate keys, because servers disagree
/// on which duplicate wins (JavaScript and Python take the last) and an evader can hide a method
/// behind a decoy. Numbers keep their source text: nothing here needs arithmetic, and converting
/// would lose precision on 64-bit ids.
public enum JSONValue: Sendable, Equatable, CustomStringConvertible {
    /// An object: members in document order, duplicates included.
    case object([(key: String, value: JSONValue)])
    /// An array.
    case array([JSONValue])
    /// A string with every escape decoded.
    case string(String)
    /// A number, as written in the source (already checked against the JSON number grammar).
    case number(String)
    /// `true` or `false`.
    case bool(Bool)
    /// `null`.
    case null

    /// The value of `key` when this is an object. With duplicate keys the last one wins, as in
    /// `JSON.parse` and Python's `json`, the parsers most MCP servers use.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last(where: { $0.key == key })?.value
    }

    /// Every value stored under `key` when this is an object, in document order (duplicates included).
    public func values(forKey key: String) -> [JSONValue] {
        guard case .object(let members) = self else { return [] }
        return members.compactMap { $0.key == key ? $0.value : nil }
    }

    /// Whether this is an object with at least one member named `key`.
    public func hasKey(_ key: String) -> Bool {
        guard case .object(let members) = self else { return false }
        return members.contains { $0.key == key }
    }

    /// The string when this is `.string`.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The elements when this is `.array`.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The members when this is `.object`.
    public var objectMembers: [(key: String, value: JSONValue)]? {
        if case .object(let m) = self { return m }
        return nil
    }

    /// Whether this is an object.
    public var isObject: Bool {
        if case .object = self { return true }
        return false
    }

    /// Compact JSON text of this value (strings re-escaped as valid JSON), for messages and tests.
    public var description: String {
        String(decoding: jsonText, as: UTF8.self)
    }

    /// Compact JSON text of this value, for the few edits meshgate makes to a request body: members
    /// keep their order and duplicates, numbers their source text, so only whitespace and escapes can
    /// differ from what the client sent.
    public var jsonText: [UInt8] {
        var out: [UInt8] = []
        JSONValue.appendJSON(self, to: &out, sortingKeys: false)
        return out
    }

    /// Compact JSON text with every object's members sorted by key (UTF-8 byte order, which is code
    /// point order), for digests that must not depend on how a sender ordered or spaced its JSON.
    /// Strings are escaped minimally (`"`, `\` and control characters as `\u00xx`); numbers keep
    /// their source text; members with the same key keep their relative order.
    public var sortedKeysText: [UInt8] {
        var out: [UInt8] = []
        JSONValue.appendJSON(self, to: &out, sortingKeys: true)
        return out
    }

    /// Structural equality; object members compare in order, duplicates included.
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            for (x, y) in zip(a, b) where x.key != y.key || x.value != y.value { return false }
            return true
        case (.array(let a), .array(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.bool(let a), .bool(let b)): return a == b
        case (.null, .null): return true
        default: return false
        }
    }

    // Iterative so that printing a deep (but within-limit) value cannot exhaust the stack either.
    private static func appendJSON(_ root: JSONValue, to out: inout [UInt8], sortingKeys: Bool) {
        enum Work {
            case value(JSONValue)
            case raw(UInt8)
            case key(String)
        }
        var work: [Work] = [.value(root)]
        while let item = work.popLast() {
            switch item {
            case .raw(let byte):
                out.append(byte)
            case .key(let key):
                JSONText.appendString(key, to: &out)
                out.append(UInt8(ascii: ":"))
            case .value(let value):
                switch value {
                case .object(var members):
                    if sortingKeys {
                        members = members.enumerated().sorted { a, b in
                            a.element.key.utf8.lexicographicallyPrecedes(b.element.key.utf8)
                                || (a.element.key == b.element.key && a.offset < b.offset)
                        }.map(\.element)
                    }
                    out.append(UInt8(ascii: "{"))
                    work.append(.raw(UInt8(ascii: "}")))
                    for (i, member) in members.enumerated().reversed() {
                        work.append(.value(member.value))
                        work.append(.key(member.key))
                        if i > 0 { work.append(.raw(UInt8(ascii: ","))) }
                    }
                case .array(let elements):
                    out.append(UInt8(ascii: "["))
                    work.append(.raw(UInt8(ascii: "]")))
                    for (i, element) in elements.enumerated().reversed() {
                        work.append(.value(element))
                        if i > 0 { work.append(.raw(UInt8(ascii: ","))) }
                    }
                case .string(let s): JSONText.appendString(s, to: &out)
                case .number(let n): out.append(contentsOf: n.utf8)
                case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
                case .null: out.append(contentsOf: "null".utf8)
                }
            }
        }
    }
}
