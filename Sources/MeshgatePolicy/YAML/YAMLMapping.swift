/// A validated mapping: every key in it is one the section knows.
package struct YAMLMapping {
    /// The mapping node itself, for "missing key" errors.
    package let owner: YAMLNode
    let values: [String: YAMLNode]

    /// The value for `key`, or nil when it is absent or null.
    package subscript(_ key: String) -> YAMLNode? {
        guard let value = values[key], !value.isNull else { return nil }
        return value
    }

    /// The value for `key` even when it is written with no value (`host:`), or nil when absent.
    package func written(_ key: String) -> YAMLNode? { values[key] }

    /// The value for `key`, or an error at the mapping saying it is missing.
    package func required(_ key: String, fix: String? = nil) throws(YAMLError) -> YAMLNode {
        guard let value = self[key] else { throw missing(key, fix: fix) }
        return value
    }

    /// "missing required key", located at the key naming this mapping when there is one.
    package func missing(_ key: String, fix: String? = nil) -> YAMLError {
        var error = owner.error("missing required key '\(key)'", fix: fix)
        if let mark = owner.keyMark {
            error.location.line = mark.line
            error.location.column = mark.column
        }
        return error
    }
}
