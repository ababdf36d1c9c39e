/// The keys from the document's root down to a value; array elements appear as `.element`.
package struct JSONPath: Sendable {
    /// An empty path (the root value).
    package init() {}

    /// The keys, root first.
    package internal(set) var keys: [JSONKey] = []

    /// Number of keys (0 for the root value).
    package var count: Int { keys.count }

    /// The key at `index`.
    package subscript(index: Int) -> JSONKey { keys[index] }

    /// Whether the path is exactly `a`.
    package func `is`(_ a: JSONKey) -> Bool { keys.count == 1 && keys[0] == a }
    /// Whether the path is exactly `a.b`.
    package func `is`(_ a: JSONKey, _ b: JSONKey) -> Bool { keys.count == 2 && keys[0] == a && keys[1] == b }
    /// Whether the path is exactly `a.b.c`.
    package func `is`(_ a: JSONKey, _ b: JSONKey, _ c: JSONKey) -> Bool {
        keys.count == 3 && keys[0] == a && keys[1] == b && keys[2] == c
    }
    /// Whether the path is exactly `a.b.c.d`.
    package func `is`(_ a: JSONKey, _ b: JSONKey, _ c: JSONKey, _ d: JSONKey) -> Bool {
        keys.count == 4 && keys[0] == a && keys[1] == b && keys[2] == c && keys[3] == d
    }
    /// The last key, `.other` at the root.
    package var last: JSONKey { keys.last ?? .other }
}
