import MeshgateCore
import Yams

/// A YAML node with the key path that led to it and the rule it belongs to, so that every
/// conversion failure names the file, line, column, rule and key.
struct RulesetNode {
    /// The raw node; its `mark` carries the position.
    let node: Node
    /// `rules[2].match.host[0]`, …
    let keyPath: String
    /// The file as the user named it.
    let file: String
    /// The id of the rule being read, once known.
    var rule: String?
    /// Where the key naming this node sits, so "missing key" errors point at the key.
    var keyMark: Mark?

    /// The node's position.
    var location: SourceLocation {
        SourceLocation(file: file, line: node.mark?.line, column: node.mark?.column)
    }

    /// An error located at this node.
    func error(_ message: String, fix: String? = nil) -> RulesetError {
        RulesetError(location: location, rule: rule, keyPath: keyPath, message: message, fix: fix)
    }

    /// The same node read as part of rule `id`.
    func inRule(_ id: String?) -> RulesetNode {
        var copy = self
        copy.rule = id
        return copy
    }

    private func child(_ node: Node, path: String, keyMark: Mark? = nil) -> RulesetNode {
        RulesetNode(node: node, keyPath: path, file: file, rule: rule, keyMark: keyMark)
    }

    private func childPath(_ key: String) -> String {
        keyPath.isEmpty ? key : keyPath + "." + key
    }

    private var plainScalar: String? {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any else { return nil }
        return scalar.string
    }

    /// `key:` with nothing after it, `~` or `null`.
    var isNull: Bool {
        guard let text = plainScalar else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(text)
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

    /// The scalar's text, as written (no YAML 1.1 coercions: `on` stays `on`).
    func scalar(expected: String) throws(RulesetError) -> String {
        guard case .scalar(let scalar) = node, !isNull else {
            throw error("expected \(expected), found \(found)")
        }
        return scalar.string
    }

    /// A non-empty string.
    func string(expected: String = "a string") throws(RulesetError) -> String {
        let text = try scalar(expected: expected)
        guard !text.isEmpty else { throw error("expected \(expected), found an empty string") }
        return text
    }

    /// A name for ids and headers: visible ASCII letters, digits and `-._:/`, so it can appear
    /// in an `X-Meshgate-Rule` header unescaped.
    func identifier(expected: String) throws(RulesetError) -> String {
        let text = try string(expected: expected)
        let valid = text.utf8.allSatisfy { c in
            (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39)
                || c == 0x2D || c == 0x2E || c == 0x5F || c == 0x3A || c == 0x2F
        }
        guard valid else {
            throw error("invalid \(expected) '\(text)'", fix: "use letters, digits, '-', '_', '.', ':' and '/' only")
        }
        return text
    }

    // MARK: Collections

    /// The items of a list.
    func list(expected: String = "a list") throws(RulesetError) -> [RulesetNode] {
        guard case .sequence(let sequence) = node else {
            throw error("expected \(expected), found \(found)", fix: "write [a, b] or one '- item' per line")
        }
        return sequence.enumerated().map { index, item in child(item, path: "\(keyPath)[\(index)]") }
    }

    /// One string or a non-empty list of strings, each with its node for error positions.
    func strings(expected: String) throws(RulesetError) -> [(text: String, node: RulesetNode)] {
        if case .scalar = node {
            return [(try string(expected: expected), self)]
        }
        let items = try list(expected: "\(expected) or a list of them")
        guard !items.isEmpty else {
            throw error("an empty list never matches", fix: "list at least one value, or remove the key")
        }
        var result: [(text: String, node: RulesetNode)] = []
        for item in items { result.append((try item.string(expected: expected), item)) }
        return result
    }

    /// The entries of a mapping whose keys are names chosen by the author (profiles, headers).
    func namedEntries(expected: String) throws(RulesetError) -> [(name: String, key: RulesetNode, value: RulesetNode)] {
        guard case .mapping(let mapping) = node else {
            throw error("expected \(expected), found \(found)", fix: "write 'name: value' entries indented below")
        }
        var result: [(name: String, key: RulesetNode, value: RulesetNode)] = []
        for (key, value) in mapping {
            let keyNode = child(key, path: keyPath)
            guard case .scalar(let scalar) = key else {
                throw keyNode.error("a key must be a plain name, found \(keyNode.found)")
            }
            result.append((scalar.string, keyNode, child(value, path: childPath(scalar.string), keyMark: key.mark)))
        }
        return result
    }

    /// The mapping's entries with unknown keys refused. `misplaced` maps keys that belong
    /// elsewhere to a hint saying where.
    func mapping(keys allowed: [String], misplaced: [String: String] = [:], expected: String = "a mapping of keys")
        throws(RulesetError) -> RulesetMapping
    {
        var values: [String: RulesetNode] = [:]
        for (name, keyNode, value) in try namedEntries(expected: expected) {
            guard allowed.contains(name) else {
                let fix: String
                if let hint = misplaced[name] {
                    fix = hint
                } else if let guess = KeySuggestion.closest(to: name, in: allowed) {
                    fix = "did you mean '\(guess)'?"
                } else {
                    fix = "valid keys here: " + allowed.joined(separator: ", ")
                }
                let location = RulesetNode(node: keyNode.node, keyPath: childPath(name), file: file, rule: rule)
                throw location.error("unknown key '\(name)'", fix: fix)
            }
            values[name] = value
        }
        return RulesetMapping(owner: self, values: values)
    }

    /// Looks up a child without validating the mapping (to learn a rule's id before its other keys).
    func peek(_ key: String) -> RulesetNode? {
        guard case .mapping(let mapping) = node, let value = mapping[key] else { return nil }
        let found = child(value, path: childPath(key))
        return found.isNull ? nil : found
    }
}

/// A validated mapping: every key in it is one the section knows.
struct RulesetMapping {
    /// The mapping node itself, for "missing key" errors.
    let owner: RulesetNode
    fileprivate let values: [String: RulesetNode]

    /// The value for `key`, or nil when it is absent or null.
    subscript(_ key: String) -> RulesetNode? {
        guard let value = values[key], !value.isNull else { return nil }
        return value
    }

    /// The value for `key` even when it is written with no value (`host:`), or nil when absent.
    func written(_ key: String) -> RulesetNode? { values[key] }

    /// The value for `key`, or an error at the mapping saying it is missing.
    func required(_ key: String, fix: String? = nil) throws(RulesetError) -> RulesetNode {
        guard let value = self[key] else { throw missing(key, fix: fix) }
        return value
    }

    /// "missing required key", located at the key naming this mapping when there is one.
    func missing(_ key: String, fix: String? = nil) -> RulesetError {
        var error = owner.error("missing required key '\(key)'", fix: fix)
        if let mark = owner.keyMark {
            error.location.line = mark.line
            error.location.column = mark.column
        }
        return error
    }
}
