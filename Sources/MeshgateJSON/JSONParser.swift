/// A strict, bounded JSON parser over raw body bytes (no Foundation, no recursion).
///
/// Accepts exactly one RFC 8259 value surrounded by optional whitespace; a UTF-8 BOM and UTF-16/32
/// input are accepted too (see `JSONTextEncoding`). Invalid UTF-8 inside strings becomes U+FFFD
/// rather than an error, since servers differ on it and the gateway must still see the structure.
public enum JSONParser {
    /// Parses `bytes` into a tree, or throws the first problem with its byte offset.
    public static func parse(_ bytes: [UInt8], limits: JSONLimits = .default) throws(JSONParseError) -> JSONValue {
        guard bytes.count <= limits.maxBytes else {
            throw JSONParseError(.tooLarge(size: bytes.count, limit: limits.maxBytes), at: limits.maxBytes)
        }
        let text = JSONTextEncoding.detect(bytes).transcodedToUTF8(bytes)
        var scanner = JSONScanner(limits: limits, buildTree: true, writeCanonical: false)
        return try scanner.scan(text).get()
    }

    /// Parses a Swift string (already valid Unicode) into a tree.
    public static func parse(_ text: String, limits: JSONLimits = .default) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8), limits: limits)
    }
}
