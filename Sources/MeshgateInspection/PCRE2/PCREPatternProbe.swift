/// Times a compiled regex against inputs built to make it backtrack, so that `meshgate rules check`
/// can warn about a pattern before an attacker finds its worst case through the proxy.
///
/// The inputs come from the pattern's own characters: long runs of each literal character and of a
/// representative of each class (`\w` → `a`, `\s` → ` `, `[0-9]` → `0`), runs of pairs of them
/// (`a a a …` for `^(\w+\s?)*$`), and repeats of prefixes of a string the pattern would match
/// (`"method":"initialize"` repeated for `"method":"initialize".*?"protocolVersion"`), each ended
/// by a character the pattern does not mention so that the match fails late. Each input is timed at
/// 1, 4 and 16 KiB; a pattern is super-linear when a size hits a PCRE2 limit, or when its time grows
/// much faster than the input (at least `growthFactor` × for 4 × the bytes) once it is measurable.
///
/// The literal prefilter is bypassed: an attacker can always put the required literals somewhere in a
/// body, so the PCRE2 run is the worst case that matters. Every run is bounded by the regex's limits
/// and the probe stops escalating an input once one run is slow, so one pattern costs at most
/// `budgetPerPattern` plus one run.
public struct PCREPatternProbe: Sendable {
    /// What the probe found wrong with a pattern.
    public enum Finding: Sendable, Hashable, CustomStringConvertible {
        /// A match against `input` (of `bytes` bytes) stopped at a PCRE2 limit.
        case limitHit(PCRELimitKind, bytes: Int, input: String)
        /// A match against `input` took `milliseconds` at `bytes` bytes, `smallerMilliseconds` at a
        /// quarter of that: it grows faster than the input (equal values: the smallest size was
        /// already too slow to go on).
        case slow(milliseconds: Double, bytes: Int, smallerMilliseconds: Double, input: String)
        /// The pattern matches an empty subject.
        case emptyMatch

        /// What happened, e.g. "hits the match limit on a 1 KiB input ('a'×1023 + '!')".
        public var description: String {
            switch self {
            case .limitHit(let kind, let bytes, let input):
                return "hits the \(kind) on a \(PCREPatternProbe.size(bytes)) input (\(input))"
            case .slow(let milliseconds, let bytes, let smaller, let input) where smaller >= milliseconds:
                return "took \(PCREPatternProbe.format(milliseconds)) ms on a \(PCREPatternProbe.size(bytes)) input (\(input))"
            case .slow(let milliseconds, let bytes, let smaller, let input):
                return "took \(PCREPatternProbe.format(milliseconds)) ms on a \(PCREPatternProbe.size(bytes)) input "
                    + "(\(PCREPatternProbe.format(smaller)) ms on a \(PCREPatternProbe.size(bytes / 4)) one: it grows faster than the input; \(input))"
            case .emptyMatch:
                return "matches the empty string"
            }
        }

        /// Whether this finding is about backtracking cost (limit hit or slow), not an empty match.
        public var isSuperLinear: Bool {
            if case .emptyMatch = self { return false }
            return true
        }
    }

    /// Input sizes, smallest first; each is timed only while the previous one was quick.
    public var sizes: [Int]
    /// Below this (at the largest size reached) a time is noise, whatever its growth.
    public var floorMilliseconds: Double
    /// From one size to the next (4 × the bytes) a linear pattern's time grows about 4 ×; a
    /// quadratic one's 16 ×. At least this much growth, above the floor, is super-linear.
    public var growthFactor: Double
    /// A single run this slow ends the escalation and is reported whatever its growth.
    public var slowMilliseconds: Double
    /// Probing one pattern stops after this long (runs already started finish).
    public var budgetPerPattern: Duration

    /// Creates a probe; the defaults time 1, 4 and 16 KiB inputs.
    public init(
        sizes: [Int] = [1024, 4096, 16_384],
        floorMilliseconds: Double = 2,
        growthFactor: Double = 8,
        slowMilliseconds: Double = 50,
        budgetPerPattern: Duration = .seconds(2)
    ) {
        self.sizes = sizes
        self.floorMilliseconds = floorMilliseconds
        self.growthFactor = growthFactor
        self.slowMilliseconds = slowMilliseconds
        self.budgetPerPattern = budgetPerPattern
    }

    /// Probes `regex`: the first super-linear finding (if any), then `.emptyMatch` when
    /// `checkEmptyMatch` and the pattern matches an empty subject.
    public func probe(_ regex: PCRERegex, checkEmptyMatch: Bool) -> [Finding] {
        var findings: [Finding] = []
        if let superLinear = superLinearFinding(regex) { findings.append(superLinear) }
        if checkEmptyMatch, Self.matchesEmpty(regex) { findings.append(.emptyMatch) }
        return findings
    }

    /// Whether `regex` matches an empty subject (so would match every body, or none once empty
    /// matches stop counting).
    public static func matchesEmpty(_ regex: PCRERegex) -> Bool {
        let empty: [UInt8] = []
        let result = empty.withUnsafeBytes { raw in
            Result { () throws(PCREMatchError) in try regex.firstMatch(in: raw, startingAt: 0, nonEmpty: false, usePrefilter: false) }
        }
        if case .success(let range) = result { return range != nil }
        return false
    }

    // MARK: - Timing

    private func superLinearFinding(_ regex: PCRERegex) -> Finding? {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: budgetPerPattern)
        for input in Self.inputs(for: regex.pattern) {
            if clock.now >= deadline { break }
            if let finding = probe(regex, input, clock: clock) { return finding }
        }
        return nil
    }

    /// Times one input shape at growing sizes.
    private func probe(_ regex: PCRERegex, _ input: Input, clock: ContinuousClock) -> Finding? {
        var previous: (subject: [UInt8], milliseconds: Double)?
        for size in sizes {
            let subject = input.bytes(size: size)
            var best: Double
            switch bestTime(regex, subject, clock: clock, runs: 3) {
            case .failure(let error):
                guard case .limitExceeded(_, let kind) = error else { return nil }
                return .limitHit(kind, bytes: size, input: input.describe(size: size))
            case .success(let milliseconds):
                best = milliseconds
            }
            if let (smallSubject, smaller) = previous, best >= floorMilliseconds, best >= smaller * growthFactor {
                // Confirm with interleaved runs of both sizes, so that a burst of load on a busy
                // machine (a build beside it) is not taken for growth.
                var small = smaller
                for _ in 0..<4 {
                    guard case .success(let a) = bestTime(regex, smallSubject, clock: clock, runs: 1),
                          case .success(let b) = bestTime(regex, subject, clock: clock, runs: 1) else { break }
                    small = min(small, a)
                    best = min(best, b)
                }
                if best >= floorMilliseconds, best >= small * growthFactor {
                    return .slow(milliseconds: best, bytes: size, smallerMilliseconds: small, input: input.describe(size: size))
                }
            } else if previous == nil, best >= slowMilliseconds {
                // Too slow to escalate; at the first size there is nothing to compare with, and
                // 50 ms for 1 KiB is far past anything linear.
                return .slow(milliseconds: best, bytes: size, smallerMilliseconds: best, input: input.describe(size: size))
            }
            if best >= slowMilliseconds { return nil }
            previous = (subject, best)
        }
        return nil
    }

    /// The best of `runs` timings (one when the first is well under the floor, where noise cannot
    /// matter), or the error that stopped a run.
    private func bestTime(_ regex: PCRERegex, _ subject: [UInt8], clock: ContinuousClock, runs: Int) -> Result<Double, PCREMatchError> {
        var best = Double.infinity
        for attempt in 0..<max(1, runs) {
            switch time(regex, subject, clock: clock) {
            case .failure(let error): return .failure(error)
            case .success(let milliseconds): best = min(best, milliseconds)
            }
            if attempt == 0, best < floorMilliseconds / 2 { break }
        }
        return .success(best)
    }

    private func time(_ regex: PCRERegex, _ subject: [UInt8], clock: ContinuousClock) -> Result<Double, PCREMatchError> {
        let start = clock.now
        let outcome = subject.withUnsafeBytes { raw in
            Result { () throws(PCREMatchError) in try regex.firstMatch(in: raw, startingAt: 0, nonEmpty: false, usePrefilter: false) }
        }
        let elapsed = clock.now - start
        switch outcome {
        case .failure(let error):
            return .failure(error)
        case .success:
            let (seconds, attoseconds) = elapsed.components
            return .success(Double(seconds) * 1000 + Double(attoseconds) / 1e15)
        }
    }

    // MARK: - Inputs

    /// One adversarial input shape: `filler` repeated to the size, then `terminator`.
    struct Input: Hashable {
        let filler: [UInt8]
        let terminator: [UInt8]

        func bytes(size: Int) -> [UInt8] {
            let body = max(0, size - terminator.count)
            guard !filler.isEmpty else { return terminator }
            // Doubling: a dozen copies instead of one append per repeat.
            var out = filler
            out.reserveCapacity(2 * size)
            while out.count < body { out.append(contentsOf: out) }
            out.removeLast(out.count - body)
            return out + terminator
        }

        /// `'a'×1023 + '!'`, `'a '×511 + '!'`.
        func describe(size: Int) -> String {
            let count = max(1, (size - terminator.count) / max(1, filler.count))
            return "'\(PCREPatternProbe.printable(filler))'×\(count) + '\(PCREPatternProbe.printable(terminator))'"
        }
    }

    /// The input shapes for `pattern`, most telling first.
    static func inputs(for pattern: String) -> [Input] {
        let reading = PatternReading(pattern)
        let atoms = reading.atoms
        var fillers: [[UInt8]] = []
        func add(_ filler: [UInt8]) {
            if !filler.isEmpty, filler.count <= 256, !fillers.contains(filler) { fillers.append(filler) }
        }
        for atom in atoms { add([atom]) }
        let paired = atoms.prefix(6)
        for first in paired {
            for second in paired where second != first { add([first, second]) }
        }
        for spine in reading.spines {
            // Prefixes of a would-be match, cut where a literal run ends (at most 16 of them): a
            // partial match repeated makes a pattern that scans ahead from every start do so from
            // each copy.
            let cuts = spine.cuts.count <= 16 ? spine.cuts : (1...16).map { spine.cuts[spine.cuts.count * $0 / 16 - 1] }
            for cut in cuts { add(Array(spine.bytes.prefix(cut))) }
        }
        if fillers.isEmpty { add(Array("a".utf8)) }
        // End with characters the pattern does not mention, so that nothing completes the match.
        let mentioned = Set(atoms).union(reading.literalBytes)
        let terminators = Array("!#~%\u{1}".utf8).filter { !mentioned.contains($0) }.prefix(2)
        var ends: [[UInt8]] = terminators.isEmpty ? [[0xFF]] : terminators.map { [$0] }
        // PCRE2 gives up at once on a subject lacking a code unit every match needs (the last
        // literal); an attacker adds it after the point of failure, and so does this probe.
        if !reading.orderedLiterals.isEmpty { ends.insert(ends[0] + reading.orderedLiterals, at: 1) }
        var inputs: [Input] = []
        for end in ends {
            for filler in fillers { inputs.append(Input(filler: filler, terminator: end)) }
        }
        return inputs
    }

    static func printable(_ bytes: [UInt8]) -> String {
        var text = ""
        for byte in bytes {
            switch byte {
            case 0x20...0x7E where byte != UInt8(ascii: "'") && byte != UInt8(ascii: "\\"): text.unicodeScalars.append(UnicodeScalar(byte))
            default: text += "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
            }
        }
        return text
    }

    static func size(_ bytes: Int) -> String {
        bytes % 1024 == 0 ? "\(bytes / 1024) KiB" : "\(bytes)-byte"
    }

    static func format(_ milliseconds: Double) -> String {
        milliseconds >= 10 ? String(Int(milliseconds.rounded())) : String(Double(Int(milliseconds * 10)) / 10)
    }
}

/// A rough reading of a pattern's text for building probe inputs: the characters it mentions (and
/// a representative of each class), and for each top-level alternative a string it would likely
/// match. Anything it does not understand is skipped; a poor reading only makes weaker inputs.
struct PatternReading {
    /// Single bytes to build runs from, in order of first appearance (at most 10).
    private(set) var atoms: [UInt8] = []
    /// Bytes the pattern names as literals.
    private(set) var literalBytes: Set<UInt8> = []
    /// The same, each once, in order of first appearance.
    private(set) var orderedLiterals: [UInt8] = []
    /// One would-be match per top-level alternative, with the offsets where its literal runs end.
    private(set) var spines: [(bytes: [UInt8], cuts: [Int])] = []

    init(_ pattern: String) {
        let bytes = Array(pattern.utf8)
        var spine: [UInt8] = []
        var cuts: [Int] = []
        var depth = 0
        // Inside a group, only its first alternative goes into the spine.
        var skipDepth: Int?
        var lookaround: [Int] = []
        var i = 0
        func emit(_ byte: UInt8, literal: Bool) {
            if literal, literalBytes.insert(byte).inserted { orderedLiterals.append(byte) }
            if atoms.count < 10, !atoms.contains(byte) { atoms.append(byte) }
            if skipDepth == nil, lookaround.isEmpty {
                if !literal { cut() }
                spine.append(byte)
                if !literal { cut() }
            }
        }
        func cut() {
            if !spine.isEmpty, cuts.last != spine.count { cuts.append(spine.count) }
        }
        while i < bytes.count {
            let c = bytes[i]
            // Groups, alternatives and quantifiers end a literal run.
            if "()|{*+?^$".utf8.contains(c) { cut() }
            switch c {
            case UInt8(ascii: "\\"):
                guard i + 1 < bytes.count else { i += 1; continue }
                let next = bytes[i + 1]
                if let representative = Self.classRepresentative(next) {
                    emit(representative, literal: false)
                } else if !Self.isAlphanumeric(next), next < 0x80 {
                    emit(next, literal: true)
                }
                i += 2
            case UInt8(ascii: "["):
                let (representative, end) = Self.readClass(bytes, from: i)
                if let representative { emit(representative, literal: false) }
                i = end
            case UInt8(ascii: "("):
                depth += 1
                i += 1
                if i < bytes.count, bytes[i] == UInt8(ascii: "?") {
                    i += 1
                    if i < bytes.count, bytes[i] == UInt8(ascii: "#") {
                        while i < bytes.count, bytes[i] != UInt8(ascii: ")") { i += 1 }
                        continue
                    }
                    var isLookaround = false
                    if i < bytes.count, bytes[i] == UInt8(ascii: "<"), i + 1 < bytes.count,
                       bytes[i + 1] == UInt8(ascii: "=") || bytes[i + 1] == UInt8(ascii: "!") {
                        isLookaround = true
                    }
                    if i < bytes.count, bytes[i] == UInt8(ascii: "=") || bytes[i] == UInt8(ascii: "!") { isLookaround = true }
                    if isLookaround { lookaround.append(depth) }
                    // Skip the group's introducer: `:`, `=`, `!`, `<=`, `>`, `<name>`, option letters.
                    while i < bytes.count, ![UInt8(ascii: ":"), UInt8(ascii: ")")].contains(bytes[i]) {
                        if bytes[i] == UInt8(ascii: "=") || bytes[i] == UInt8(ascii: "!") || bytes[i] == UInt8(ascii: ">") {
                            i += 1
                            break
                        }
                        i += 1
                    }
                    if i < bytes.count, bytes[i] == UInt8(ascii: ":") { i += 1 }
                }
            case UInt8(ascii: ")"):
                if skipDepth == depth { skipDepth = nil }
                if lookaround.last == depth { lookaround.removeLast() }
                depth = max(0, depth - 1)
                i += 1
            case UInt8(ascii: "|"):
                if depth == 0 {
                    cut()
                    spines.append((spine, cuts))
                    spine = []
                    cuts = []
                } else if skipDepth == nil {
                    skipDepth = depth
                }
                i += 1
            case UInt8(ascii: "{"):
                // A quantifier's digits are not characters of the pattern.
                var j = i + 1
                while j < bytes.count, bytes[j] != UInt8(ascii: "}"), j - i < 12 { j += 1 }
                i = j + 1
            case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"), UInt8(ascii: "^"), UInt8(ascii: "$"):
                i += 1
            case UInt8(ascii: "."):
                emit(UInt8(ascii: "a"), literal: false)
                i += 1
            default:
                if c < 0x80 { emit(c, literal: true) }
                i += 1
            }
        }
        cut()
        spines.append((spine, cuts))
        spines = spines.filter { $0.bytes.count > 1 }
    }

    /// `\d` → `0`, `\w` → `a`, `\s` → space, and their negations → a byte of the other kind.
    static func classRepresentative(_ escape: UInt8) -> UInt8? {
        switch escape {
        case UInt8(ascii: "d"): return UInt8(ascii: "0")
        case UInt8(ascii: "w"), UInt8(ascii: "S"), UInt8(ascii: "D"), UInt8(ascii: "N"): return UInt8(ascii: "a")
        case UInt8(ascii: "s"), UInt8(ascii: "h"): return UInt8(ascii: " ")
        case UInt8(ascii: "W"): return UInt8(ascii: "-")
        case UInt8(ascii: "n"), UInt8(ascii: "v"), UInt8(ascii: "R"): return UInt8(ascii: "\n")
        case UInt8(ascii: "t"): return UInt8(ascii: "\t")
        default: return nil
        }
    }

    /// The first member of the class opening at `start` (nil for a negated class) and the index after it.
    static func readClass(_ bytes: [UInt8], from start: Int) -> (UInt8?, Int) {
        var i = start + 1
        var negated = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "^") {
            negated = true
            i += 1
        }
        var representative: UInt8?
        var first = true
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "]"), !first { return (negated ? nil : representative, i + 1) }
            first = false
            if c == UInt8(ascii: "\\"), i + 1 < bytes.count {
                if representative == nil { representative = classRepresentative(bytes[i + 1]) ?? (bytes[i + 1] < 0x80 && !isAlphanumeric(bytes[i + 1]) ? bytes[i + 1] : nil) }
                i += 2
                continue
            }
            if c == UInt8(ascii: "["), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: ":") {
                // A POSIX class such as [:alpha:].
                var j = i + 2
                while j + 1 < bytes.count, !(bytes[j] == UInt8(ascii: ":") && bytes[j + 1] == UInt8(ascii: "]")) { j += 1 }
                if representative == nil { representative = UInt8(ascii: "a") }
                i = j + 2
                continue
            }
            if representative == nil, c < 0x80 { representative = c }
            i += 1
        }
        return (negated ? nil : representative, i)
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }
}
