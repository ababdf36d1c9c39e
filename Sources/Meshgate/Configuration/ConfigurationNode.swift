import Foundation
import MeshgateCore
import Yams

/// A YAML node together with the key path that led to it, so every conversion failure can name
/// the file, line, column and key. Sections decode themselves from these.
struct ConfigurationNode {
    /// The raw node; its `mark` carries the position.
    let node: Node
    /// `listeners.explicit`, `identities[2].cidrs[0]`, …
    let keyPath: String
    /// File name and base directory.
    let context: ConfigurationContext
    /// Where the key naming this node sits, when it is a mapping value: "missing key" errors
    /// point there rather than at the first child.
    var keyMark: Mark? = nil

    /// An error located at this node.
    func error(_ message: String, fix: String? = nil) -> ConfigurationError {
        ConfigurationError(
            file: context.file, line: node.mark?.line, column: node.mark?.column,
            keyPath: keyPath, message: message, fix: fix
        )
    }

    /// The key path of a child entry.
    func childPath(_ key: String) -> String {
        keyPath.isEmpty ? key : keyPath + "." + key
    }

    private var plainScalar: String? {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any else { return nil }
        return scalar.string
    }

    /// `key:` with nothing after it, `~` or `null`: treated as "not set" everywhere, so that a
    /// section header whose children are all commented out means "defaults".
    var isNull: Bool {
        guard let text = plainScalar else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(text)
    }

    /// An unquoted `false`, `no` or `off`, used to switch optional things off.
    var isFalse: Bool {
        guard let text = plainScalar else { return false }
        return ["false", "no", "off"].contains(text.lowercased())
    }

    /// How the node looks, for "expected X, found Y" messages.
    var found: String {
        switch node {
        case .scalar(let scalar): isNull ? "nothing" : "'\(scalar.string)'"
        case .sequence: "a list"
        case .mapping: "a mapping"
        case .alias: "an alias"
        }
    }

    // MARK: Scalars

    /// The scalar's text; anything else is "expected \(expected)".
    func scalar(expected: String, fix: String? = nil) throws(ConfigurationError) -> String {
        guard case .scalar(let scalar) = node, !isNull else {
            throw error("expected \(expected), found \(found)", fix: fix)
        }
        return scalar.string
    }

    /// A non-empty string.
    func string(expected: String = "a string") throws(ConfigurationError) -> String {
        let text = try scalar(expected: expected)
        guard !text.isEmpty else { throw error("expected \(expected), found an empty string") }
        return text
    }

    /// A whole number in `range`; `what` names it in the range message ("port 70000 is out of range").
    func int(in range: ClosedRange<Int>, what: String = "value") throws(ConfigurationError) -> Int {
        let text = try scalar(expected: "a whole number")
        // YAML 1.1 lets people group digits (1_000_000); quoted numbers are accepted too.
        let digits = text.replacingOccurrences(of: "_", with: "")
        guard let value = Int(digits) else {
            throw error("expected a whole number, found '\(text)'")
        }
        guard range.contains(value) else {
            throw error("\(what) \(value) is out of range (\(range.lowerBound)-\(range.upperBound))")
        }
        return value
    }

    /// `true`/`false` (YAML 1.1's `yes`/`no`/`on`/`off` too).
    func bool() throws(ConfigurationError) -> Bool {
        let text = try scalar(expected: "true or false")
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error("expected true or false, found '\(text)'")
        }
    }

    /// A positive duration: `30s`, `5m`, `1h`, `1d`, `7d`, `500ms`, `2w`, or plain seconds.
    func duration() throws(ConfigurationError) -> Duration {
        let text = try scalar(expected: "a duration such as 30s, 5m, 1h or 7d")
        guard let value = DurationText.parse(text) else {
            throw error(
                "expected a duration such as 30s, 5m, 1h or 7d, found '\(text)'",
                fix: "write a whole number followed by ms, s, m, h, d or w (a plain number means seconds)"
            )
        }
        guard value > .zero else { throw error("a duration must be longer than zero, found '\(text)'") }
        return value
    }

    /// A byte count: a whole number, or one with a `KiB`, `MiB` or `GiB` suffix.
    func byteCount(in range: ClosedRange<Int> = 1...Int.max) throws(ConfigurationError) -> Int {
        let text = try scalar(expected: "a size in bytes such as 65536 or 64KiB")
        let units: [(String, Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("B", 1)]
        var number = Substring(text.replacingOccurrences(of: "_", with: ""))
        var multiplier = 1
        for (suffix, factor) in units where number.hasSuffix(suffix) {
            number = number.dropLast(suffix.count)
            multiplier = factor
            break
        }
        let trimmed = number.trimmingCharacters(in: .whitespaces)
        guard let base = Int(trimmed) else {
            throw error("expected a size in bytes such as 65536 or 64KiB, found '\(text)'")
        }
        let (value, overflow) = base.multipliedReportingOverflow(by: multiplier)
        guard !overflow, range.contains(value) else {
            throw error("size \(text) is out of range (\(range.lowerBound)-\(range.upperBound) bytes)")
        }
        return value
    }

    /// One of an enum's spellings; a near miss gets a suggestion.
    func choice<T: RawRepresentable & CaseIterable>(_: T.Type) throws(ConfigurationError) -> T where T.RawValue == String {
        let allowed = T.allCases.map(\.rawValue)
        let text = try scalar(expected: "one of " + allowed.joined(separator: ", "))
        if let value = T(rawValue: text) { return value }
        var fix = "expected one of: " + allowed.joined(separator: ", ")
        if let guess = KeySuggestion.closest(to: text, in: allowed) { fix = "did you mean '\(guess)'? " + fix }
        throw error("invalid value '\(text)'", fix: fix)
    }

    /// A file path, resolved against the configuration file's folder.
    func path() throws(ConfigurationError) -> String {
        context.resolve(try string(expected: "a file path"))
    }

    // MARK: Collections

    /// The items of a list.
    func list() throws(ConfigurationError) -> [ConfigurationNode] {
        guard case .sequence(let sequence) = node else {
            throw error("expected a list, found \(found)", fix: "write [a, b] or one '- item' per line")
        }
        return sequence.enumerated().map { index, item in
            ConfigurationNode(node: item, keyPath: "\(keyPath)[\(index)]", context: context)
        }
    }

    /// The entries of a mapping whose keys are names chosen by the user (providers, models).
    func namedEntries() throws(ConfigurationError) -> [(name: String, value: ConfigurationNode)] {
        try pairs().map { ($0.name, $0.value) }
    }

    /// The mapping's entries with unknown keys refused. `misplaced` maps keys that belong
    /// elsewhere to the section that takes them, for a better hint than edit distance.
    func mapping(keys allowed: [String], misplaced: [String: String] = [:]) throws(ConfigurationError) -> ConfigurationMapping {
        var values: [String: ConfigurationNode] = [:]
        for (name, keyNode, value) in try pairs() {
            guard allowed.contains(name) else {
                let location = ConfigurationNode(node: keyNode, keyPath: childPath(name), context: context)
                let fix: String
                if let home = misplaced[name] {
                    fix = "'\(name)' belongs under '\(home):'"
                } else if let guess = KeySuggestion.closest(to: name, in: allowed) {
                    fix = "did you mean '\(guess)'?"
                } else {
                    fix = "valid keys here: " + allowed.joined(separator: ", ")
                }
                throw location.error("unknown key '\(name)'", fix: fix)
            }
            values[name] = value
        }
        return ConfigurationMapping(owner: self, values: values)
    }

    /// Looks up a child without validating the mapping, for cross-section checks.
    func peek(_ key: String) -> ConfigurationNode? {
        guard case .mapping(let mapping) = node, let value = mapping[key] else { return nil }
        let child = ConfigurationNode(node: value, keyPath: childPath(key), context: context)
        return child.isNull ? nil : child
    }

    /// Key/value pairs with string keys, `<<` merge keys folded in (explicit keys win).
    private func pairs() throws(ConfigurationError) -> [(name: String, key: Node, value: ConfigurationNode)] {
        guard case .mapping(let mapping) = node else {
            throw error("expected a mapping of keys, found \(found)", fix: "write 'key: value' entries indented below")
        }
        var result: [(name: String, key: Node, value: ConfigurationNode)] = []
        var merged: [(name: String, key: Node, value: ConfigurationNode)] = []
        for (key, value) in mapping {
            let keyText: String
            if case .scalar(let scalar) = key {
                keyText = scalar.string
            } else {
                let location = ConfigurationNode(node: key, keyPath: keyPath, context: context)
                throw location.error("a key must be a plain name, found \(location.found)")
            }
            if keyText == "<<", case .scalar(let scalar) = key, scalar.style == .plain || scalar.style == .any {
                let source = ConfigurationNode(node: value, keyPath: keyPath, context: context)
                let sources: [ConfigurationNode]
                if case .sequence = value { sources = try source.list() } else { sources = [source] }
                for item in sources { merged += try item.pairs() }
                continue
            }
            result.append((keyText, key, ConfigurationNode(node: value, keyPath: childPath(keyText), context: context,
                                                           keyMark: key.mark)))
        }
        for entry in merged where !result.contains(where: { $0.name == entry.name }) {
            result.append((entry.name, entry.key,
                           ConfigurationNode(node: entry.value.node, keyPath: childPath(entry.name), context: context,
                                             keyMark: entry.key.mark)))
        }
        return result
    }
}

/// A validated mapping: every key in it is one the section knows.
struct ConfigurationMapping {
    /// The mapping node itself, for "missing key" errors.
    let owner: ConfigurationNode
    fileprivate let values: [String: ConfigurationNode]

    /// The value for `key`, or nil when it is absent or null.
    subscript(_ key: String) -> ConfigurationNode? {
        guard let value = values[key], !value.isNull else { return nil }
        return value
    }

    /// The value for `key`, or an error at the mapping saying it is missing.
    func required(_ key: String, fix: String? = nil) throws(ConfigurationError) -> ConfigurationNode {
        guard let value = self[key] else { throw missing(key, fix: fix) }
        return value
    }

    /// "missing required key", located at the key that names this mapping when there is one.
    func missing(_ key: String, fix: String? = nil) -> ConfigurationError {
        var error = owner.error("missing required key '\(key)'", fix: fix)
        if let mark = owner.keyMark {
            error.line = mark.line
            error.column = mark.column
        }
        return error
    }
}

/// Duration spellings shared by every duration-valued key.
enum DurationText {
    /// Parses `30s`, `5m`, `1h`, `1d`, `2w`, `500ms` or a plain number of seconds.
    static func parse(_ text: String) -> Duration? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000),
                                        ("d", 86_400_000), ("w", 604_800_000)]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var number = Substring(trimmed)
        var millisPerUnit: Int64 = 1000
        for (suffix, factor) in units where number.hasSuffix(suffix) {
            number = number.dropLast(suffix.count)
            millisPerUnit = factor
            break
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && $0.isNumber }), let count = Int64(number) else {
            return nil
        }
        let (millis, overflow) = count.multipliedReportingOverflow(by: millisPerUnit)
        guard !overflow else { return nil }
        return .milliseconds(millis)
    }
}
