/// Receives what `JSONFieldScanner` finds. Offsets count bytes from the start of the document.
package protocol JSONScanVisitor {
    /// An object or array opens at `offset` (the bracket's position).
    mutating func containerStart(path: JSONPath, isObject: Bool, offset: Int)
    /// An object or array closes at `offset` (the bracket's position); `isEmpty` when it held nothing.
    mutating func containerEnd(path: JSONPath, isObject: Bool, offset: Int, isEmpty: Bool)
    /// A scalar spans `start..<end`.
    mutating func scalar(path: JSONPath, value: JSONScalar, start: Int, end: Int)
    /// Whether the string at `path` should be decoded and handed over as text.
    func wantsText(path: JSONPath) -> Bool
}

extension JSONScanVisitor {
    /// Does nothing by default.
    package mutating func containerStart(path: JSONPath, isObject: Bool, offset: Int) {}
    /// Does nothing by default.
    package mutating func containerEnd(path: JSONPath, isObject: Bool, offset: Int, isEmpty: Bool) {}
    /// No text by default.
    package func wantsText(path: JSONPath) -> Bool { false }
}
