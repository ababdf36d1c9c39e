/// What an HTTP or AI audit line may carry of the text a client chose: the one place that removes
/// credentials, redacts query values and bounds field lengths, applied to every such event just
/// before it is recorded (so no handler has to remember it).
///
/// - URLs and request targets (`path`, `target`): user info (`user:password@`) is removed, every
///   query value is replaced by `REDACTED` unless its key is in ``queryKeys`` (key names stay, so
///   the shape of the request remains visible), and a fragment is replaced by `#REDACTED`.
/// - Lengths are bounded in UTF-8 bytes (`path`/`target` 2 KiB, `host` 255, other strings 512,
///   list items 256, at most 32 list items). A shortened string ends in `…` and the line gains
///   `"truncated": [field names]`.
/// - Any other string that embeds a URL loses that URL's user info too.
public struct AuditRedactor: Sendable, Hashable {
    /// What a redacted query value or fragment is written as.
    public static let redacted = "REDACTED"
    /// The field that lists the names of fields that were shortened.
    public static let truncatedField = "truncated"
    /// The mark at the end of a shortened string (U+2026, 3 bytes in UTF-8).
    public static let ellipsis = "…"

    /// Query keys whose values are written as sent (`audit.query_keys`); compared with the key
    /// percent-decoded, case-sensitively, as the origin server reads it. Default: none.
    public var queryKeys: Set<String>
    /// Longest `path` and `target`, in UTF-8 bytes.
    public var maxPathBytes = 2048
    /// Longest `host` (a DNS name is at most 253 characters).
    public var maxHostBytes = 255
    /// Longest other string field (`mcp_method`, `error`, …).
    public var maxTextBytes = 512
    /// Longest item of a list field (`detections`, `attempts`, …).
    public var maxItemBytes = 256
    /// Most items kept of a list field.
    public var maxListItems = 32

    /// A redactor that keeps the values of `queryKeys` and redacts every other query value.
    public init(queryKeys: some Sequence<String> = [String]()) {
        self.queryKeys = Set(queryKeys)
    }

    /// The default redactor (no query value kept); for messages that quote a request target.
    public static let standard = AuditRedactor()

    // MARK: events

    /// Redacts and bounds `event` in place: `path` and `target` as URLs, `host` as a host name,
    /// every other string and list field and the detections by length. Appends `truncated` when
    /// something was shortened.
    public func apply(to event: inout AuditEvent) {
        var truncated: [String] = []
        for index in event.fields.indices {
            let (name, value) = event.fields[index]
            switch value {
            case .string(let text):
                let limit: Int
                var redactedText: String?
                switch name {
                case "path", "target":
                    limit = maxPathBytes
                    redactedText = redactedRequestTarget(text)
                case "host":
                    limit = maxHostBytes
                    redactedText = Self.withoutUserInfo(host: text)
                default:
                    limit = maxTextBytes
                    redactedText = Self.withoutEmbeddedCredentials(text)
                }
                if let short = Self.truncate(redactedText ?? text, maxBytes: limit) {
                    redactedText = short
                    truncated.append(name)
                }
                if let redactedText { event.fields[index].1 = .string(redactedText) }
            case .strings(let items):
                if let bounded = boundedList(items) {
                    event.fields[index].1 = .strings(bounded.items)
                    if bounded.truncated { truncated.append(name) }
                }
            case .int, .double, .bool, .null, .objects:
                // Objects hold ids and names meshgate extracted and bounded itself.
                continue
            }
        }
        if let bounded = boundedList(event.detections) {
            event.detections = bounded.items
            if bounded.truncated { truncated.append("detections") }
        }
        if !truncated.isEmpty {
            event.fields.append((Self.truncatedField, .strings(truncated)))
        }
    }

    /// The list with credentials removed from its items, each item bounded and at most
    /// ``maxListItems`` items (a shortened item, and the list when items were dropped, end in the
    /// ellipsis); nil when nothing changed.
    func boundedList(_ items: [String]) -> (items: [String], truncated: Bool)? {
        var changed = false
        var truncated = false
        var out: [String] = []
        for item in items.prefix(maxListItems) {
            var text = item
            if let clean = Self.withoutEmbeddedCredentials(text) {
                text = clean
                changed = true
            }
            if let short = Self.truncate(text, maxBytes: maxItemBytes) {
                text = short
                truncated = true
            }
            out.append(text)
        }
        if items.count > maxListItems {
            out.append(Self.ellipsis)
            truncated = true
        }
        return changed || truncated ? (out, truncated) : nil
    }

    // MARK: URLs

    /// `target` (origin-, absolute-, authority- or asterisk-form, or any URL) as an audit line may
    /// show it: no user info, query values redacted except ``queryKeys``, fragment redacted. Not
    /// length-bounded (``apply(to:)`` does that).
    public func requestTarget(_ target: String) -> String {
        redactedRequestTarget(target) ?? target
    }

    /// The redacted target, or nil when nothing needed redacting (the common case, without copying).
    func redactedRequestTarget(_ target: String) -> String? {
        // Fast path: no query, fragment or user info is possible without one of these.
        guard Self.containsAny(target, UInt8(ascii: "?"), UInt8(ascii: "#"), UInt8(ascii: "@")) else { return nil }
        let bytes = target.utf8
        let input = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        var i = 0
        // The authority (and so any user info) comes after "scheme://", after a leading "//", or at
        // the start of an authority-form target (CONNECT host:port).
        let firstDelimiter = input.firstIndex(where: Self.isPathDelimiter) ?? input.count
        var authorityStart: Int?
        if firstDelimiter > 0, firstDelimiter + 1 < input.count, input[firstDelimiter - 1] == UInt8(ascii: ":"),
           input[firstDelimiter] == UInt8(ascii: "/"), input[firstDelimiter + 1] == UInt8(ascii: "/") {
            authorityStart = firstDelimiter + 2
        } else if input.starts(with: [UInt8(ascii: "/"), UInt8(ascii: "/")]) {
            authorityStart = 2
        } else if firstDelimiter > 0 {
            authorityStart = 0
        }
        if let start = authorityStart {
            // User info ends at the last '@' before the path. Not stopping at '?' or '#' first: a
            // password with a raw '?' or '#' is malformed, but it must not be half logged either.
            let slash = input[start...].firstIndex(of: UInt8(ascii: "/")) ?? input.count
            let hostStart = input[start..<slash].lastIndex(of: UInt8(ascii: "@")).map { $0 + 1 } ?? start
            let end = input[hostStart...].firstIndex(where: Self.isPathDelimiter) ?? input.count
            out.append(contentsOf: input[0..<start])
            out.append(contentsOf: input[hostStart..<end])
            i = end
        }
        // The path, up to the query or fragment.
        let pathEnd = input[i...].firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? input.count
        out.append(contentsOf: input[i..<pathEnd])
        i = pathEnd
        if i < input.count, input[i] == UInt8(ascii: "?") {
            out.append(UInt8(ascii: "?"))
            i += 1
            let queryEnd = input[i...].firstIndex(of: UInt8(ascii: "#")) ?? input.count
            appendRedactedQuery(input[i..<queryEnd], to: &out)
            i = queryEnd
        }
        if i < input.count {
            // A fragment: clients should never send one; when one arrives it can hold a token
            // (OAuth's implicit flow puts access tokens there).
            out.append(UInt8(ascii: "#"))
            if i + 1 < input.count { out.append(contentsOf: Self.redacted.utf8) }
        }
        return out.elementsEqual(bytes) ? nil : String(decoding: out, as: UTF8.self)
    }

    /// `a=1&b&c=` with every value (and every bare component, which may be a token of its own)
    /// redacted unless its key is allowed. An allowed value holding `;` is redacted too, since some
    /// servers split the query there and the part after it would be another key's value.
    private func appendRedactedQuery(_ query: ArraySlice<UInt8>, to out: inout [UInt8]) {
        var start = query.startIndex
        while true {
            let end = query[start...].firstIndex(of: UInt8(ascii: "&")) ?? query.endIndex
            appendRedactedComponent(query[start..<end], to: &out)
            guard end < query.endIndex else { return }
            out.append(UInt8(ascii: "&"))
            start = end + 1
        }
    }

    private func appendRedactedComponent(_ component: ArraySlice<UInt8>, to out: inout [UInt8]) {
        if component.isEmpty { return }
        if let equals = component.firstIndex(of: UInt8(ascii: "=")) {
            let key = component[component.startIndex..<equals]
            let value = component[(equals + 1)...]
            out.append(contentsOf: key)
            out.append(UInt8(ascii: "="))
            if value.isEmpty { return }
            if isAllowedKey(key), !value.contains(UInt8(ascii: ";")) {
                out.append(contentsOf: value)
            } else {
                out.append(contentsOf: Self.redacted.utf8)
            }
        } else if isAllowedKey(component), !component.contains(UInt8(ascii: ";")) {
            out.append(contentsOf: component)
        } else {
            out.append(contentsOf: Self.redacted.utf8)
        }
    }

    private func isAllowedKey(_ key: ArraySlice<UInt8>) -> Bool {
        guard !queryKeys.isEmpty else { return false }
        return queryKeys.contains(String(decoding: Self.percentDecoded(key), as: UTF8.self))
    }

    /// `%XX` escapes decoded; a malformed escape is kept as written.
    static func percentDecoded(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        guard bytes.contains(UInt8(ascii: "%")) else { return Array(bytes) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.endIndex,
               let high = hexValue(bytes[i + 1]), let low = hexValue(bytes[i + 2]) {
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func isPathDelimiter(_ c: UInt8) -> Bool {
        c == UInt8(ascii: "/") || c == UInt8(ascii: "?") || c == UInt8(ascii: "#")
    }

    /// A host as the audit line shows it: anything up to an `@` (user info) removed; nil when unchanged.
    static func withoutUserInfo(host: String) -> String? {
        guard let at = host.utf8.lastIndex(of: UInt8(ascii: "@")) else { return nil }
        return String(host[host.utf8.index(after: at)...])
    }

    /// Free text (an error message, a detection) with the user info of any URL in it removed; nil
    /// when it has none. Such text quotes request targets and upstream URLs.
    static func withoutEmbeddedCredentials(_ text: String) -> String? {
        guard containsAny(text, UInt8(ascii: "@"), UInt8(ascii: "@"), UInt8(ascii: "@")) else { return nil }
        let input = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        var i = 0
        var changed = false
        while i < input.count {
            if input[i] == UInt8(ascii: ":"), i + 2 < input.count, input[i + 1] == UInt8(ascii: "/"), input[i + 2] == UInt8(ascii: "/") {
                out.append(contentsOf: input[i..<(i + 3)])
                i += 3
                // The authority ends at a delimiter, or at white space or quoting around the URL.
                let end = input[i...].firstIndex { c in
                    c == UInt8(ascii: "/") || c <= 0x20 || c == UInt8(ascii: "'") || c == UInt8(ascii: "\"")
                        || c == UInt8(ascii: ">") || c == UInt8(ascii: ")")
                } ?? input.count
                if let at = input[i..<end].lastIndex(of: UInt8(ascii: "@")) {
                    i = at + 1
                    changed = true
                }
                continue
            }
            out.append(input[i])
            i += 1
        }
        return changed ? String(decoding: out, as: UTF8.self) : nil
    }

    /// Whether `text` holds any of three bytes: one pass over its UTF-8 storage, for the common case
    /// where nothing needs doing (every audit line's every string field goes through here).
    static func containsAny(_ text: String, _ a: UInt8, _ b: UInt8, _ c: UInt8) -> Bool {
        var text = text
        return text.withUTF8 { buffer in
            for byte in buffer where byte == a || byte == b || byte == c { return true }
            return false
        }
    }

    // MARK: lengths

    /// `text` cut to at most `maxBytes` UTF-8 bytes (on a character boundary) ending in `…`; nil
    /// when it already fits.
    public static func truncate(_ text: String, maxBytes: Int) -> String? {
        let bytes = text.utf8
        guard bytes.count > maxBytes else { return nil }
        let mark = Array(ellipsis.utf8)
        var keep = max(0, maxBytes - mark.count)
        let input = Array(bytes.prefix(keep + 1))
        // Back off to the start of a scalar: UTF-8 continuation bytes are 0b10xxxxxx.
        while keep > 0, keep < input.count, input[keep] & 0xC0 == 0x80 { keep -= 1 }
        return String(decoding: input[0..<keep] + mark, as: UTF8.self)
    }
}
