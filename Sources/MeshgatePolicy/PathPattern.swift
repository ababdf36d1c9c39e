/// A path selector: an exact path (`/mcp`), or a prefix written with a trailing `*` (`/mcp/*`).
///
/// Both the pattern and the request path are compared in a normal form, so that spellings a
/// server treats alike cannot slip past a rule: the query and fragment are cut off,
/// percent-encoded unreserved characters decoded (`/%6Dcp` is `/mcp`), `.` and `..` segments
/// resolved and repeated slashes collapsed. Matching is case-sensitive, as paths are.
public struct PathPattern: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as written.
    public let description: String
    /// The normalised path, or prefix when `isPrefix`.
    let value: String
    /// Whether the pattern ended in `*`.
    let isPrefix: Bool

    /// Parses a pattern: it starts with `/`, holds no query, fragment or white space, and uses
    /// `*` only as its last character.
    public init(_ text: String) throws(InvalidPathPattern) {
        func invalid(_ reason: String, _ fix: String) -> InvalidPathPattern {
            InvalidPathPattern(pattern: text, reason: reason, fix: fix)
        }
        guard text.hasPrefix("/") else {
            if text.contains("://") {
                throw invalid("it is a URL", "write only the path, e.g. '/mcp', and put the host under 'host:'")
            }
            throw invalid("it does not start with '/'", "write e.g. '/mcp' or '/mcp/*'")
        }
        if text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) {
            throw invalid("it contains white space or control characters", "percent-encode them, e.g. %20")
        }
        if text.contains("?") || text.contains("#") {
            throw invalid("queries and fragments are ignored for matching", "remove the part from '?' or '#' on")
        }
        var body = Substring(text)
        let isPrefix = body.hasSuffix("*")
        if isPrefix { body = body.dropLast() }
        if body.contains("*") {
            throw invalid("'*' may only be the last character (a prefix match)", "write e.g. '/mcp/*'")
        }
        guard let normal = PathPattern.normaliseStrict(body) else {
            throw invalid("it has a malformed percent-escape", "write '%' followed by two hex digits, or '%25' for '%' itself")
        }
        description = text
        value = normal
        self.isPrefix = isPrefix
    }

    /// Whether the request target `path` (query allowed) matches.
    public func matches(_ path: String) -> Bool {
        matches(normalisedPath: PathPattern.normalise(path))
    }

    func matches(normalisedPath path: String) -> Bool {
        isPrefix ? path.hasPrefix(value) : path == value
    }

    /// The normal form of a request target: no query or fragment, unreserved percent-escapes
    /// decoded (others upper-cased), dot segments resolved, repeated slashes collapsed.
    /// A target that does not start with `/` (`*`, or a malformed one) is only cut at `?`/`#`.
    public static func normalise(_ target: String) -> String {
        let cut = target.utf8.firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }
        let path = cut.map { target[..<$0] } ?? Substring(target)
        guard path.hasPrefix("/") else { return String(path) }
        if isAlreadyNormal(path.utf8) { return String(path) }
        return normaliseStrict(path, lenient: true) ?? String(path)
    }

    /// True when normalising would give the path back unchanged: no escapes, no empty, `.` or `..`
    /// segments. Most request paths are like that, and this runs for every request and DNS query.
    static func isAlreadyNormal(_ path: Substring.UTF8View) -> Bool {
        var segmentLength = 0
        var dots = 0
        var first = true
        for byte in path {
            if byte == UInt8(ascii: "/") {
                // An empty or dot segment ends here (the leading slash starts the first one).
                if !first, segmentLength == 0 || dots == segmentLength && dots <= 2 { return false }
                first = false
                segmentLength = 0
                dots = 0
            } else if byte == UInt8(ascii: "%") {
                return false
            } else {
                segmentLength += 1
                if byte == UInt8(ascii: ".") { dots += 1 }
            }
        }
        // The last segment: empty is a trailing slash (kept), but "." and ".." are not.
        return !(segmentLength > 0 && dots == segmentLength && dots <= 2)
    }

    /// Normalises an absolute path; nil for a malformed percent-escape unless `lenient`, which
    /// keeps such bytes as they are (a request is matched as sent, a pattern must be well formed).
    static func normaliseStrict(_ path: Substring, lenient: Bool = false) -> String? {
        let bytes = Array(path.utf8)
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "%") {
                if i + 2 < bytes.count, let high = hexValue(bytes[i + 1]), let low = hexValue(bytes[i + 2]) {
                    let value = high << 4 | low
                    if isUnreserved(value) {
                        decoded.append(value)
                    } else {
                        decoded.append(UInt8(ascii: "%"))
                        decoded.append(upperHex(high))
                        decoded.append(upperHex(low))
                    }
                    i += 3
                    continue
                }
                guard lenient else { return nil }
            }
            decoded.append(byte)
            i += 1
        }
        return removeDotSegments(String(decoding: decoded, as: UTF8.self))
    }

    private static func removeDotSegments(_ path: String) -> String {
        var segments: [Substring] = []
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        for part in parts {
            switch part {
            case ".": continue
            case "..": if !segments.isEmpty { segments.removeLast() }
            default: segments.append(part)
            }
        }
        let trailingSlash = path.hasSuffix("/") || parts.last == "." || parts.last == ".."
        var result = "/" + segments.joined(separator: "/")
        if trailingSlash, !segments.isEmpty { result += "/" }
        return result
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func upperHex(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10
    }

    /// RFC 3986 unreserved characters, whose percent-encoded and plain forms are equivalent.
    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}

/// A path pattern the engine cannot use, with the reason and a fix.
public struct InvalidPathPattern: Error, Sendable, Hashable, CustomStringConvertible {
    /// The pattern as written.
    public var pattern: String
    /// Why it is invalid.
    public var reason: String
    /// How to write it instead.
    public var fix: String

    /// `invalid path pattern 'P': REASON`.
    public var description: String { "invalid path pattern '\(pattern)': \(reason)" }
}
