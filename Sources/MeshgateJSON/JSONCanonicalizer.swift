/// Turns a request body into the one spelling of its JSON that body regexes are written against.
///
/// A gateway that scans raw bytes loses to `"tools\u002fcall"`, `"method"      :`, `\/`, a UTF-16
/// body or a BOM; the canonical text has all of them undone, so `"method"\s{0,5}:\s{0,5}"tools/call"`
/// matches however the sender escaped or spaced it, and regardless of where in the body it sits.
public enum JSONCanonicalizer {
    /// The canonical form and tree of `bytes`, or nil when the body is not JSON (malformed, trailing
    /// garbage, over `limits`). Callers scan the raw body in that case.
    public static func canonicalize(_ bytes: [UInt8], limits: JSONLimits = .default) -> CanonicalJSON? {
        try? canonicalizeOrThrow(bytes, limits: limits)
    }

    /// Only the canonical text of `bytes` (no tree), or nil when the body is not JSON. Several
    /// times cheaper than `canonicalize` on a large body: no string values or containers are built.
    public static func canonicalText(_ bytes: [UInt8], limits: JSONLimits = .default) -> [UInt8]? {
        guard bytes.count <= limits.maxBytes else { return nil }
        let text = JSONTextEncoding.detect(bytes).transcodedToUTF8(bytes)
        var scanner = JSONScanner(limits: limits, buildTree: false, writeCanonical: true)
        guard case .success = scanner.scan(text) else { return nil }
        return scanner.canonical
    }

    /// As `canonicalize`, but says why a body is not JSON (for `rules test` and debug logs).
    public static func canonicalizeOrThrow(_ bytes: [UInt8], limits: JSONLimits = .default) throws(JSONParseError) -> CanonicalJSON {
        guard bytes.count <= limits.maxBytes else {
            throw JSONParseError(.tooLarge(size: bytes.count, limit: limits.maxBytes), at: limits.maxBytes)
        }
        let encoding = JSONTextEncoding.detect(bytes)
        let text = encoding.transcodedToUTF8(bytes)
        var scanner = JSONScanner(limits: limits, buildTree: true, writeCanonical: true)
        let value = try scanner.scan(text).get()
        return CanonicalJSON(text: scanner.canonical, value: value, sourceEncoding: encoding)
    }
}
