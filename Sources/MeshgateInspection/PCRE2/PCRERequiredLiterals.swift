/// Byte strings that every match of a regex contains, read off the pattern text, so a subject
/// without them is turned away by one `memchr`-speed search instead of a PCRE2 pass.
///
/// A 64 KiB LLM prompt is scanned by every body pattern twice (raw and canonical JSON); PCRE2's own
/// start-of-match search stops at every `"` of it for `"method"\s{0,5}:…`. Most DLP and MCP
/// patterns carry a distinctive literal (`"tools/call"`, `github_pat_`, `-----BEGIN `), and a body
/// that lacks it cannot match.
///
/// The reading is deliberately partial and errs towards "no prefilter": only literal runs at the
/// top level of each alternative count, plus unquantified groups of plain literal choices such as
/// `(?:AKIA|ASIA)` (never anything inside lookarounds, classes or other groups); a quantified
/// character is dropped from its run; patterns with caseless or extended options, `\Q…\E`,
/// escapes that take arguments (`\x41`, `\p{L}`, back-references) or backtracking verbs such as
/// `(*ACCEPT)` get none. Wrongly finding a literal would hide a match, so anything unclear bails.
struct PCRERequiredLiterals: Sendable, Equatable {
    /// What a match of each top-level alternative must contain: every one of its requirements,
    /// each met by any one of its choices (a run is one choice, `(?:AKIA|ASIA)` two), most
    /// selective first so that an absent one is found early.
    let requirements: [[ByteSearch.NeedleSet]]
    /// The most selective requirement's choices of every alternative: a subject containing none
    /// of them cannot match.
    let alternatives: [[UInt8]]

    /// Whether `subject` could match: some alternative has all of its requirements in it.
    func mayMatch(_ subject: UnsafeRawBufferPointer) -> Bool {
        requirements.contains { all in
            all.allSatisfy { choices in choices.occurs(in: subject) }
        }
    }

    /// The required literals of `pattern` compiled with `options`, or nil when there are none to
    /// rely on.
    static func of(_ pattern: String, options: PCRERegex.Options) -> PCRERequiredLiterals? {
        guard !options.contains(.caseInsensitive), !options.contains(.extended) else { return nil }
        let bytes = Array(pattern.utf8)
        guard !bytes.isEmpty, !hasUnsafeOptionOrVerb(bytes) else { return nil }
        var reader = Reader(bytes: bytes)
        guard let alternatives = reader.alternatives(), !alternatives.isEmpty else { return nil }
        // A longer literal is more selective, and every choice costs a search, so a group scores
        // its shortest choice minus one.
        func score(_ choices: [[UInt8]]) -> Int {
            (choices.map(\.count).min() ?? 0) - (choices.count > 1 ? 1 : 0)
        }
        var ordered: [[ByteSearch.NeedleSet]] = []
        var chosen: [[UInt8]] = []
        for requirements in alternatives {
            let useful = requirements.filter { score($0) > 0 }.sorted { score($0) > score($1) }
            guard let best = useful.first else { return nil }
            ordered.append(useful.map(ByteSearch.NeedleSet.init))
            for literal in best where !chosen.contains(literal) { chosen.append(literal) }
        }
        return PCRERequiredLiterals(requirements: ordered, alternatives: chosen)
    }

    /// `(?i)`, `(?x)` or `(?i:` anywhere (escaped or not, to stay simple) change what a literal
    /// means; `(*ACCEPT)` and other verbs can end a match before a literal is reached; `(?#…)`
    /// comments can hold unbalanced brackets.
    private static func hasUnsafeOptionOrVerb(_ bytes: [UInt8]) -> Bool {
        var i = 0
        while i + 1 < bytes.count {
            if bytes[i] == UInt8(ascii: "("), bytes[i + 1] == UInt8(ascii: "*") { return true }
            // A comment's text is not pattern syntax, so it could unbalance the group reader.
            if bytes[i] == UInt8(ascii: "("), bytes[i + 1] == UInt8(ascii: "?"), i + 2 < bytes.count, bytes[i + 2] == UInt8(ascii: "#") { return true }
            if bytes[i] == UInt8(ascii: "("), bytes[i + 1] == UInt8(ascii: "?") {
                var j = i + 2
                var letters: [UInt8] = []
                while j < bytes.count, Reader.isOptionLetter(bytes[j]) {
                    letters.append(bytes[j])
                    j += 1
                }
                let closes = j < bytes.count && (bytes[j] == UInt8(ascii: ")") || bytes[j] == UInt8(ascii: ":"))
                if closes, letters.contains(UInt8(ascii: "i")) || letters.contains(UInt8(ascii: "x")) { return true }
            }
            i += 1
        }
        return false
    }

    /// A left-to-right reader of the pattern's top level.
    private struct Reader {
        let bytes: [UInt8]
        var i = 0

        /// What each top-level alternative requires: literal runs (one choice each) and groups of
        /// plain literal alternatives such as `(?:AKIA|ASIA)` (one of several); nil when the pattern
        /// uses something the reader does not understand.
        mutating func alternatives() -> [[[[UInt8]]]]? {
            var result: [[[[UInt8]]]] = []
            var runs: [[[UInt8]]] = []
            var run: [UInt8] = []
            func endRun() {
                if !run.isEmpty { runs.append([run]) }
                run = []
            }
            while i < bytes.count {
                let c = bytes[i]
                switch c {
                case UInt8(ascii: "|"):
                    endRun()
                    result.append(runs)
                    runs = []
                    i += 1
                case UInt8(ascii: "("):
                    endRun()
                    let start = i
                    guard skipGroup() else { return nil }
                    if let choices = Self.literalChoices(bytes[start..<i]), !isQuantifier(at: i) { runs.append(choices) }
                case UInt8(ascii: "["):
                    endRun()
                    guard skipClass() else { return nil }
                case UInt8(ascii: "?"), UInt8(ascii: "*"):
                    // The character before is optional (and a lazy or possessive marker after a
                    // quantifier finds an empty run).
                    Self.dropLastCharacter(&run)
                    endRun()
                    i += 1
                case UInt8(ascii: "+"):
                    // At least once: the character stays, but what follows need not be adjacent.
                    endRun()
                    i += 1
                case UInt8(ascii: "{"):
                    // `{n}`, `{n,}`, `{n,m}` (n may be 0). A `{` that is not a quantifier is a
                    // literal to PCRE2; rather than tell the forms apart, such patterns bail.
                    guard let end = quantifierEnd() else { return nil }
                    Self.dropLastCharacter(&run)
                    endRun()
                    i = end
                case UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "$"):
                    endRun()
                    i += 1
                case UInt8(ascii: ")"):
                    return nil
                case UInt8(ascii: "\\"):
                    guard i + 1 < bytes.count else { return nil }
                    let next = bytes[i + 1]
                    if Self.isASCIIAlphanumeric(next) {
                        // Only escapes that take no argument; the rest (\x41, \p{L}, \1, \Q…) bail.
                        guard Self.argumentlessEscapes.contains(next) else { return nil }
                        endRun()
                    } else if next < 0x80 {
                        run.append(next)
                    } else {
                        return nil
                    }
                    i += 2
                default:
                    run.append(c)
                    i += 1
                }
            }
            endRun()
            result.append(runs)
            return result
        }

        /// Whether a quantifier (which could make the item before it optional) starts at `index`.
        private func isQuantifier(at index: Int) -> Bool {
            index < bytes.count && [UInt8(ascii: "?"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "{")].contains(bytes[index])
        }

        /// The alternatives of a group holding nothing but plain literals, `(a|bc)` or `(?:a|bc)`;
        /// nil for any other group (lookarounds, nesting, classes, escapes, an empty alternative).
        static func literalChoices(_ group: ArraySlice<UInt8>) -> [[UInt8]]? {
            var body = group.dropFirst().dropLast()
            if body.starts(with: "?:".utf8) { body = body.dropFirst(2) }
            var choices: [[UInt8]] = []
            var current: [UInt8] = []
            for byte in body {
                switch byte {
                case UInt8(ascii: "|"):
                    guard !current.isEmpty else { return nil }
                    choices.append(current)
                    current = []
                case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "["), UInt8(ascii: "\\"), UInt8(ascii: "?"), UInt8(ascii: "*"),
                     UInt8(ascii: "+"), UInt8(ascii: "{"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "$"):
                    return nil
                default:
                    current.append(byte)
                }
            }
            guard !current.isEmpty else { return nil }
            choices.append(current)
            return choices
        }

        /// The index after the `{n,m}` quantifier at `i` (digits, at most one comma, spaces), or
        /// nil when the brace is something else.
        private func quantifierEnd() -> Int? {
            var j = i + 1
            var commas = 0
            var digits = 0
            while j < bytes.count {
                switch bytes[j] {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digits += 1
                case UInt8(ascii: ","): commas += 1
                case UInt8(ascii: " "): break
                case UInt8(ascii: "}"): return commas <= 1 && digits > 0 ? j + 1 : nil
                default: return nil
                }
                j += 1
            }
            return nil
        }

        /// Moves past the group opening at `i`, nested groups and classes included.
        private mutating func skipGroup() -> Bool {
            var depth = 0
            while i < bytes.count {
                switch bytes[i] {
                case UInt8(ascii: "\\"):
                    i += 2
                    continue
                case UInt8(ascii: "["):
                    guard skipClass() else { return false }
                    continue
                case UInt8(ascii: "("):
                    depth += 1
                case UInt8(ascii: ")"):
                    depth -= 1
                    if depth == 0 {
                        i += 1
                        return true
                    }
                default:
                    break
                }
                i += 1
            }
            return false
        }

        /// Moves past the character class opening at `i`: a `]` first (or after `^`) is a member,
        /// and POSIX classes such as `[:alpha:]` nest their own brackets.
        private mutating func skipClass() -> Bool {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "^") { i += 1 }
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1 }
            while i < bytes.count {
                switch bytes[i] {
                case UInt8(ascii: "\\"):
                    i += 2
                case UInt8(ascii: "[") where i + 1 < bytes.count && [UInt8(ascii: ":"), UInt8(ascii: "."), UInt8(ascii: "=")].contains(bytes[i + 1]):
                    let delimiter = bytes[i + 1]
                    var j = i + 2
                    while j + 1 < bytes.count, !(bytes[j] == delimiter && bytes[j + 1] == UInt8(ascii: "]")) { j += 1 }
                    guard j + 1 < bytes.count else { return false }
                    i = j + 2
                case UInt8(ascii: "]"):
                    i += 1
                    return true
                default:
                    i += 1
                }
            }
            return false
        }

        /// Escapes that stand for one character class or assertion and take no argument.
        static let argumentlessEscapes: Set<UInt8> = Set("bBdDsSwWAzZGhHvVRKnrtfe".utf8)

        static func isOptionLetter(_ byte: UInt8) -> Bool {
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "^")
        }

        static func isASCIIAlphanumeric(_ byte: UInt8) -> Bool {
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
        }

        /// Removes the run's last character, all of its UTF-8 bytes.
        static func dropLastCharacter(_ run: inout [UInt8]) {
            while let last = run.last, last & 0xC0 == 0x80 { run.removeLast() }
            if !run.isEmpty { run.removeLast() }
        }
    }
}
