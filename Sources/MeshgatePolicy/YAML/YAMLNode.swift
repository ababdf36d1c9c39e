import Yams

/// A YAML node with the key path that led to it (and, in a ruleset, the rule it belongs to), so
/// that every conversion failure names the file, line, column, rule, key and offending value.
/// The ruleset parser and the configuration's sections both read their files through it.
package struct YAMLNode {
    /// The raw node; its `mark` carries the position.
    package let node: Node
    /// `rules[2].match.host[0]`, `identities[2].cidrs[0]`, …
    package let keyPath: String
    /// The file it was read from.
    package let source: YAMLSource
    /// The id of the ruleset rule being read, once known.
    package var rule: String?
    /// Where the key naming this node sits, when it is a mapping value: "missing key" errors
    /// point there rather than at the first child.
    package var keyMark: Mark?

    /// Creates a node; `keyPath` is empty for a document's root.
    package init(node: Node, keyPath: String = "", source: YAMLSource, rule: String? = nil, keyMark: Mark? = nil) {
        self.node = node
        self.keyPath = keyPath
        self.source = source
        self.rule = rule
        self.keyMark = keyMark
    }

    /// The node's position.
    package var location: SourceLocation {
        SourceLocation(file: source.file, line: node.mark?.line, column: node.mark?.column)
    }

    /// An error located at this node, carrying its text when it is a scalar.
    package func error(_ message: String, fix: String? = nil) -> YAMLError {
        var value: String?
        if case .scalar(let scalar) = node, !isNull { value = scalar.string }
        return YAMLError(location: location, rule: rule, keyPath: keyPath, message: message, fix: fix, value: value)
    }

    /// The same node read as part of ruleset rule `id`.
    package func inRule(_ id: String?) -> YAMLNode {
        var copy = self
        copy.rule = id
        return copy
    }

    func child(_ node: Node, path: String, keyMark: Mark? = nil) -> YAMLNode {
        YAMLNode(node: node, keyPath: path, source: source, rule: rule, keyMark: keyMark)
    }

    /// The key path of a child entry.
    package func childPath(_ key: String) -> String {
        keyPath.isEmpty ? key : keyPath + "." + key
    }

    var plainScalar: String? {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any else { return nil }
        return scalar.string
    }

    /// `key:` with nothing after it, `~` or `null`: treated as "not set" everywhere, so that a
    /// section header whose children are all commented out means "defaults".
    package var isNull: Bool {
        guard let text = plainScalar else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(text)
    }

    /// An unquoted `false`, `no` or `off`, used to switch optional things off.
    package var isFalse: Bool {
        guard let text = plainScalar else { return false }
        return ["false", "no", "off"].contains(text.lowercased())
    }

    /// How the node looks, for "expected X, found Y" messages.
    package var found: String {
        switch node {
        case .scalar(let scalar): isNull ? "nothing" : "'\(scalar.string)'"
        case .sequence: "a list"
        case .mapping: "a mapping"
        case .alias: "an alias"
        }
    }
}

extension YAMLNode {
    /// The root of `text` read as one YAML document from `source`, or nil when the document is
    /// empty; a syntax error comes back located, with a hint for the likely slip.
    package static func root(of text: String, source: YAMLSource) throws(YAMLError) -> YAMLNode? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw YAMLError(yaml: error, file: source.file, text: text)
        }
        return root.map { YAMLNode(node: $0, source: source) }
    }
}
