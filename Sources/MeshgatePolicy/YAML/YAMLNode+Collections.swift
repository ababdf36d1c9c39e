import MeshgateCore
import Yams

extension YAMLNode {
    /// The items of a list.
    package func list(expected: String = "a list") throws(YAMLError) -> [YAMLNode] {
        guard case .sequence(let sequence) = node else {
            throw error("expected \(expected), found \(found)", fix: "write [a, b] or one '- item' per line")
        }
        return sequence.enumerated().map { index, item in child(item, path: "\(keyPath)[\(index)]") }
    }

    /// One string or a non-empty list of strings, each with its node for error positions.
    package func strings(expected: String) throws(YAMLError) -> [(text: String, node: YAMLNode)] {
        if case .scalar = node {
            return [(try string(expected: expected), self)]
        }
        let items = try list(expected: "\(expected) or a list of them")
        guard !items.isEmpty else {
            throw error("an empty list never matches", fix: "list at least one value, or remove the key")
        }
        var result: [(text: String, node: YAMLNode)] = []
        for item in items { result.append((try item.string(expected: expected), item)) }
        return result
    }

    /// The entries of a mapping whose keys are names chosen by the author (providers, models,
    /// profiles, headers), each with its key's node for error positions.
    package func namedEntries(expected: String = "a mapping of keys") throws(YAMLError)
        -> [(name: String, key: YAMLNode, value: YAMLNode)]
    {
        try entries(expected: expected, fix: "write 'name: value' entries indented below")
    }

    /// The mapping's entries with unknown keys refused. `misplaced` maps keys that belong
    /// elsewhere to a hint saying where, which beats an edit-distance guess.
    package func mapping(keys allowed: [String], misplaced: [String: String] = [:], expected: String = "a mapping of keys")
        throws(YAMLError) -> YAMLMapping
    {
        var values: [String: YAMLNode] = [:]
        for (name, keyNode, value) in try entries(expected: expected, fix: "write 'key: value' entries indented below") {
            guard allowed.contains(name) else {
                let fix: String
                if let hint = misplaced[name] {
                    fix = hint
                } else if let guess = KeySuggestion.closest(to: name, in: allowed) {
                    fix = "did you mean '\(guess)'?"
                } else {
                    fix = "valid keys here: " + allowed.joined(separator: ", ")
                }
                throw child(keyNode.node, path: childPath(name)).error("unknown key '\(name)'", fix: fix)
            }
            values[name] = value
        }
        return YAMLMapping(owner: self, values: values)
    }

    /// Looks up a child without validating the mapping (to learn a rule's id before its other
    /// keys, or for checks that span sections).
    package func peek(_ key: String) -> YAMLNode? {
        guard case .mapping(let mapping) = node, let value = mapping[key] else { return nil }
        let found = child(value, path: childPath(key))
        return found.isNull ? nil : found
    }

    /// Key/value pairs with string keys; where the source folds merge keys, `<<` entries are
    /// folded in (explicit keys win).
    private func entries(expected: String, fix: String) throws(YAMLError) -> [(name: String, key: YAMLNode, value: YAMLNode)] {
        guard case .mapping(let mapping) = node else {
            throw error("expected \(expected), found \(found)", fix: fix)
        }
        var result: [(name: String, key: YAMLNode, value: YAMLNode)] = []
        var merged: [(name: String, key: YAMLNode, value: YAMLNode)] = []
        for (key, value) in mapping {
            let keyNode = child(key, path: keyPath)
            guard case .scalar(let scalar) = key else {
                throw keyNode.error("a key must be a plain name, found \(keyNode.found)")
            }
            if source.foldsMergeKeys, scalar.string == "<<", scalar.style == .plain || scalar.style == .any {
                let mergeSource = child(value, path: keyPath)
                let sources: [YAMLNode]
                if case .sequence = value { sources = try mergeSource.list() } else { sources = [mergeSource] }
                for item in sources {
                    merged += try item.entries(expected: "a mapping of keys", fix: "write 'key: value' entries indented below")
                }
                continue
            }
            result.append((scalar.string, keyNode, child(value, path: childPath(scalar.string), keyMark: key.mark)))
        }
        for entry in merged where !result.contains(where: { $0.name == entry.name }) {
            result.append((entry.name, entry.key, child(entry.value.node, path: childPath(entry.name), keyMark: entry.key.node.mark)))
        }
        return result
    }
}
