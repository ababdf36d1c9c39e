/// A JSON body in the canonical form the DLP regexes run over, with its parsed tree.
public struct CanonicalJSON: Sendable, Equatable {
    /// The canonical text: compact (no whitespace between tokens), every string escape decoded
    /// except `\"` and `\\`, members in document order with duplicate keys kept, numbers as written.
    /// UTF-8; not always valid JSON, since decoded control characters appear raw.
    public var text: [UInt8]
    /// The parsed body.
    public var value: JSONValue
    /// The encoding the body arrived in (almost always `.utf8`).
    public var sourceEncoding: JSONTextEncoding

    /// Creates a canonical document.
    public init(text: [UInt8], value: JSONValue, sourceEncoding: JSONTextEncoding) {
        self.text = text
        self.value = value
        self.sourceEncoding = sourceEncoding
    }

    /// The canonical text as a `String` (lossless: it is valid UTF-8 by construction).
    public var string: String { String(decoding: text, as: UTF8.self) }
}
