/// The single-pass JSON engine behind `JSONParser` and `JSONCanonicalizer`.
///
/// Iterative (an explicit stack, no recursion) so nesting costs heap, not call stack, and bounded by
/// `JSONLimits`. In one pass it validates strictly (RFC 8259 grammar), decodes every string escape,
/// repairs invalid UTF-8 inside strings with U+FFFD, builds the `JSONValue` tree and writes the
/// canonical text.
struct JSONScanner {
    private let limits: JSONLimits
    private let buildTree: Bool
    private let writeCanonical: Bool
    /// The canonical text, once `scan` has succeeded.
    private(set) var canonical: [UInt8] = []
    private var valueCount = 0

    // Output goes to a raw buffer, not an Array: string content is copied in runs with one memcpy
    // and single bytes without a uniqueness check each. Strings are written straight from the input
    // in their canonical spelling and their tree value is read back from that, so each content byte
    // is copied once on its way to the canonical text.
    private var out: UnsafeMutablePointer<UInt8>?
    private var outCount = 0
    private var outCapacity = 0
    /// Whether `out` was allocated here (else it is borrowed storage of the canonical array).
    private var ownsOut = false
    /// Output offsets of the backslashes re-inserted into the current string (`\"`, `\\`); kept
    /// only when a tree is built, which is the only reader.
    private var reescapes: [Int] = []
    /// Whether the current string's text has a byte >= 0x80 (false means it is ASCII).
    private var nonASCII = false
    /// The decoded value of the string (or key) just parsed, when a tree is built. Handed over
    /// here rather than returned so that without a tree no String passes through at all.
    private var lastString = ""

    // The open containers' contents, used only when a tree is built (`scan` keeps their kinds).
    // Parallel stacks rather than an enum of payloads, so appending to the innermost container
    // mutates it in place instead of copying it (which would make long arrays quadratic).
    private var arrays: [[JSONValue]] = []
    private var objects: [[(key: String, value: JSONValue)]] = []
    private var pendingKeys: [String] = []

    init(limits: JSONLimits, buildTree: Bool, writeCanonical: Bool) {
        self.limits = limits
        self.buildTree = buildTree
        self.writeCanonical = writeCanonical
    }

    /// Parses `bytes` (UTF-8, BOM already removed) as one JSON text.
    mutating func scan(_ bytes: [UInt8]) -> Result<JSONValue, JSONParseError> {
        // Canonical text is almost never longer than the input (whitespace goes, escapes shrink);
        // only U+FFFD repairs grow it, and `grow` handles those.
        let capacity = bytes.count + 64
        guard writeCanonical else {
            out = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
            outCapacity = capacity
            ownsOut = true
            defer { releaseOut() }
            return scanInput(bytes)
        }
        // Written straight into the result array's storage: for a large body a second buffer
        // and the copy out of it cost as much as the scanning (page faults on fresh memory).
        var result: Result<JSONValue, JSONParseError> = .failure(JSONParseError(.unexpectedEnd, at: 0))
        var spilled: [UInt8]?
        let text = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            out = buffer.baseAddress
            outCapacity = buffer.count
            ownsOut = false
            result = scanInput(bytes)
            initialized = 0
            if case .success = result {
                if ownsOut, let out {
                    spilled = Array(UnsafeBufferPointer(start: out, count: outCount))
                } else {
                    initialized = outCount
                }
            }
            releaseOut()
        }
        canonical = spilled ?? text
        return result
    }

    private mutating func scanInput(_ bytes: [UInt8]) -> Result<JSONValue, JSONParseError> {
        outCount = 0
        return bytes.withUnsafeBufferPointer { input in
            do throws(JSONParseError) {
                return .success(try scan(input))
            } catch {
                return .failure(error)
            }
        }
    }

    /// Frees the output buffer if this scanner allocated it (not when it is the result array's).
    private mutating func releaseOut() {
        if ownsOut { out?.deallocate() }
        out = nil
        ownsOut = false
    }

    // MARK: - The state machine

    private mutating func scan(_ input: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> JSONValue {
        var pos = 0
        let n = input.count
        // Every value starts at a byte of its own, so a shorter input cannot reach the limit and
        // the count is only kept when it could.
        let countsValues = n > limits.maxValues
        // Whether each open container is an object, innermost last, in a buffer of this call's
        // own: it is pushed and popped once per container, which an Array's uniqueness check and
        // retain traffic made a visible cost.
        var depth = 0
        var stackCapacity = 16
        var stack = UnsafeMutablePointer<Bool>.allocate(capacity: stackCapacity)
        defer { stack.deallocate() }
        var inObject = false
        skipWhitespace(input, &pos)

        parseValue: while true {
            guard pos < n else { throw JSONParseError(.unexpectedEnd, at: pos) }
            if countsValues {
                valueCount += 1
                if valueCount > limits.maxValues { throw JSONParseError(.tooManyValues(limit: limits.maxValues), at: pos) }
            }

            var produced = JSONValue.null
            switch input[pos] {
            case UInt8(ascii: "\""):
                try parseString(input, &pos)
                if buildTree { produced = .string(lastString) }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let opensObject = input[pos] == UInt8(ascii: "{")
                guard depth < limits.maxDepth else { throw JSONParseError(.tooDeep(limit: limits.maxDepth), at: pos) }
                emit(input[pos])
                pos += 1
                skipWhitespace(input, &pos)
                let close = opensObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                if pos < n, input[pos] == close {
                    emit(close)
                    pos += 1
                    if buildTree { produced = opensObject ? .object([]) : .array([]) }
                } else {
                    if opensObject { try parseKey(input, &pos) }
                    if depth == stackCapacity {
                        let bigger = UnsafeMutablePointer<Bool>.allocate(capacity: stackCapacity * 2)
                        bigger.update(from: stack, count: depth)
                        stack.deallocate()
                        stack = bigger
                        stackCapacity *= 2
                    }
                    stack[depth] = opensObject
                    depth += 1
                    inObject = opensObject
                    if buildTree {
                        if opensObject {
                            objects.append([])
                            pendingKeys.append(lastString)
                        } else {
                            arrays.append([])
                        }
                    }
                    continue parseValue
                }
            case UInt8(ascii: "t"):
                try expectLiteral("true", input, &pos)
                produced = .bool(true)
            case UInt8(ascii: "f"):
                try expectLiteral("false", input, &pos)
                produced = .bool(false)
            case UInt8(ascii: "n"):
                try expectLiteral("null", input, &pos)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let start = pos
                try skipNumber(input, &pos)
                let text = UnsafeBufferPointer(rebasing: input[start..<pos])
                if writeCanonical { write(text) }
                if buildTree { produced = .number(String(decoding: text, as: UTF8.self)) }
            case let byte:
                throw JSONParseError(.unexpectedByte(byte), at: pos)
            }

            // Hand the finished value to its container; closing a container finishes another value.
            while true {
                skipWhitespace(input, &pos)
                guard depth > 0 else {
                    guard pos == n else { throw JSONParseError(.trailingData, at: pos) }
                    return produced
                }
                guard pos < n else { throw JSONParseError(.unexpectedEnd, at: pos) }
                let byte = input[pos]
                if inObject {
                    if buildTree {
                        let key = pendingKeys.removeLast()
                        objects[objects.count - 1].append((key: key, value: produced))
                    }
                    if byte == UInt8(ascii: ",") {
                        emit(byte)
                        pos += 1
                        skipWhitespace(input, &pos)
                        try parseKey(input, &pos)
                        if buildTree { pendingKeys.append(lastString) }
                        continue parseValue
                    }
                    guard byte == UInt8(ascii: "}") else { throw JSONParseError(.unexpectedByte(byte), at: pos) }
                    if buildTree { produced = .object(objects.removeLast()) }
                } else {
                    if buildTree { arrays[arrays.count - 1].append(produced) }
                    if byte == UInt8(ascii: ",") {
                        emit(byte)
                        pos += 1
                        skipWhitespace(input, &pos)
                        continue parseValue
                    }
                    guard byte == UInt8(ascii: "]") else { throw JSONParseError(.unexpectedByte(byte), at: pos) }
                    if buildTree { produced = .array(arrays.removeLast()) }
                }
                emit(byte)
                pos += 1
                depth -= 1
                inObject = depth > 0 && stack[depth - 1]
            }
        }
    }

    // MARK: - Tokens

    /// Parses `"key"` and the `:` after it (writing `"key":`), leaving `pos` at the member's value
    /// and the key in `lastString`.
    private mutating func parseKey(_ input: UnsafeBufferPointer<UInt8>, _ pos: inout Int) throws(JSONParseError) {
        guard pos < input.count else { throw JSONParseError(.unexpectedEnd, at: pos) }
        guard input[pos] == UInt8(ascii: "\"") else { throw JSONParseError(.unexpectedByte(input[pos]), at: pos) }
        try parseString(input, &pos)
        skipWhitespace(input, &pos)
        guard pos < input.count else { throw JSONParseError(.unexpectedEnd, at: pos) }
        guard input[pos] == UInt8(ascii: ":") else { throw JSONParseError(.unexpectedByte(input[pos]), at: pos) }
        emit(UInt8(ascii: ":"))
        pos += 1
        skipWhitespace(input, &pos)
    }

    /// Parses the string starting at the `"` under `pos`, writes it quoted in canonical form and
    /// (when a tree is built) puts its decoded value in `lastString`; leaves `pos` after the
    /// closing quote.
    ///
    /// Canonical form: every escape decoded except `"` and `\`, written `\"` and `\\`. They are the
    /// two characters that could otherwise let a string's content pose as JSON structure (a quoted
    /// `{"method":"tools/call"}` inside a GitHub issue body stays `{\"method\":\"tools/call\"}`);
    /// every other escape stays decoded, so `tools\u002fcall` reads `tools/call`. Invalid UTF-8
    /// becomes U+FFFD. Runs of plain bytes and valid UTF-8 are canonical already and are copied
    /// verbatim.
    ///
    /// Inlined into its two callers for the common string (plain ASCII up to the closing quote):
    /// a body is mostly short keys and values, and a call per string was a tenth of the time.
    /// Anything else goes on in `parseStringRest`.
    @inline(__always)
    private mutating func parseString(_ input: UnsafeBufferPointer<UInt8>, _ position: inout Int) throws(JSONParseError) {
        var pos = position
        let n = input.count
        guard let base = input.baseAddress else { throw JSONParseError(.unexpectedEnd, at: pos) }
        // Run bytes are written one for one, so room for the rest of the input (plus one vector)
        // makes every store of the run safe.
        reserve(n - pos + 17)
        guard let o = out else { throw JSONParseError(.unexpectedEnd, at: pos) }
        var oc = outCount
        o[oc] = UInt8(ascii: "\"")
        oc += 1
        let contentStart = oc
        // Only the tree needs these; the canonical text alone skips their upkeep.
        if buildTree {
            reescapes.removeAll(keepingCapacity: true)
            nonASCII = false
        }
        pos += 1
        Self.copyPlainRun(base, n, &pos, o, &oc)
        if _fastPath(pos < n && base[pos] == UInt8(ascii: "\"")) {
            o[oc] = UInt8(ascii: "\"")
            position = pos + 1
            outCount = oc + 1
            if buildTree { takeValue(contentStart, oc) }
            return
        }
        outCount = oc
        position = pos
        try parseStringRest(input, &position, contentStart: contentStart)
    }

    /// Goes on with the string whose content so far is written from `contentStart`, from the
    /// byte under `position` that `copyPlainRun` stopped at (or the end of the input).
    @inline(never)
    private mutating func parseStringRest(_ input: UnsafeBufferPointer<UInt8>, _ position: inout Int, contentStart: Int) throws(JSONParseError) {
        var pos = position
        let n = input.count
        guard let base = input.baseAddress else { throw JSONParseError(.unexpectedEnd, at: pos) }
        while true {
            // Only escapes and repairs can grow the text, so room is re-checked after each of them.
            reserve(n - pos + 17)
            guard let o = out else { throw JSONParseError(.unexpectedEnd, at: pos) }
            var oc = outCount
            scanRun: while true {
                Self.copyPlainRun(base, n, &pos, o, &oc)
                guard pos < n else { break scanRun }
                let byte = base[pos]
                if byte == UInt8(ascii: "\"") {
                    o[oc] = byte
                    position = pos + 1
                    outCount = oc + 1
                    if buildTree { takeValue(contentStart, oc) }
                    return
                } else if byte >= 0x80 {
                    guard let length = Self.validUTF8Length(input, pos) else { break scanRun }
                    if buildTree { nonASCII = true }
                    for k in 0..<length { o[oc + k] = base[pos + k] }
                    pos += length
                    oc += length
                } else if byte == UInt8(ascii: "\\"), pos + 1 < n {
                    // Two-byte escapes write at most two bytes, so the room above still holds;
                    // code pasted into a prompt has one every few bytes.
                    let next = base[pos + 1]
                    switch next {
                    case UInt8(ascii: "n"): o[oc] = 0x0A
                    case UInt8(ascii: "t"): o[oc] = 0x09
                    case UInt8(ascii: "r"): o[oc] = 0x0D
                    case UInt8(ascii: "/"): o[oc] = next
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                        if buildTree { reescapes.append(oc) }
                        o[oc] = UInt8(ascii: "\\")
                        o[oc + 1] = next
                        oc += 1
                    default: break scanRun
                    }
                    pos += 2
                    oc += 1
                } else {
                    // A control character, or a backslash that ends the input.
                    break scanRun
                }
            }
            outCount = oc
            guard pos < n else { throw JSONParseError(.unexpectedEnd, at: pos) }
            let byte = base[pos]
            switch byte {
            case UInt8(ascii: "\\"):
                try parseEscape(input, &pos)
            case 0..<0x20:
                throw JSONParseError(.controlCharacterInString(byte), at: pos)
            default:
                // Ill-formed UTF-8: a well-formed sequence would have stayed in the run.
                appendUTF8Sequence(input, &pos)
            }
        }
    }

    /// Puts the tree value of the string whose canonical content is `out[start..<end]` in
    /// `lastString`.
    private mutating func takeValue(_ start: Int, _ end: Int) {
        guard let out else { return }
        let content = UnsafeBufferPointer(start: out + start, count: end - start)
        lastString = reescapes.isEmpty
            ? Self.string(content, isASCII: !nonASCII)
            : Self.unescaped(content, dropping: reescapes, from: start, isASCII: !nonASCII)
        // The parser alone needs the text only long enough to make the value.
        if !writeCanonical { outCount = 0 }
    }

    /// Moves `pos` past the plain bytes under it (none of `"`, `\`, below 0x20, 0x80 and above),
    /// copying them to `o + oc`, which must have room for the rest of the input plus 16 bytes.
    /// Stops at the first byte that is not plain, or at the end of the input.
    @inline(__always)
    private static func copyPlainRun(_ base: UnsafePointer<UInt8>, _ n: Int, _ pos: inout Int, _ o: UnsafeMutablePointer<UInt8>, _ oc: inout Int) {
        while pos + 16 <= n {
            let vector = UnsafeRawPointer(base + pos).loadUnaligned(as: SIMD16<UInt8>.self)
            // Stored whole (the room is there) and then only its clean prefix counted.
            UnsafeMutableRawPointer(o + oc).storeBytes(of: vector, as: SIMD16<UInt8>.self)
            // The two words of the mask, in memory order (a same-size reinterpretation).
            let mask = unsafeBitCast(JSONLexer.stringAttentionMask(vector), to: SIMD2<UInt64>.self)
            // A branch, not a select: a clean vector then advances by a constant, so the next
            // load does not wait on this one.
            if _fastPath(mask[0] | mask[1] == 0) {
                pos &+= 16
                oc &+= 16
                continue
            }
            let clean = mask[0] != 0
                ? mask[0].trailingZeroBitCount >> 3
                : 8 + mask[1].trailingZeroBitCount >> 3
            pos += clean
            oc += clean
            return
        }
        if pos + 8 <= n {
            let word = UnsafeRawPointer(base + pos).loadUnaligned(as: UInt64.self)
            UnsafeMutableRawPointer(o + oc).storeBytes(of: word, as: UInt64.self)
            let mask = JSONLexer.stringAttentionMask(word)
            let clean = mask == 0 ? 8 : mask.trailingZeroBitCount >> 3
            pos += clean
            oc += clean
            if mask != 0 { return }
        }
        while pos < n {
            let byte = base[pos]
            guard byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") else { return }
            o[oc] = byte
            pos += 1
            oc += 1
        }
    }

    /// The length of the well-formed UTF-8 sequence starting at `pos` (a byte >= 0x80), or nil.
    @inline(__always)
    private static func validUTF8Length(_ input: UnsafeBufferPointer<UInt8>, _ pos: Int) -> Int? {
        guard let shape = JSONLexer.utf8Sequence(lead: input[pos]) else { return nil }
        let length = shape.length, secondRange = shape.second
        guard pos + length <= input.count, secondRange.contains(input[pos + 1]) else { return nil }
        var i = 2
        while i < length {
            guard input[pos + i] & 0xC0 == 0x80 else { return nil }
            i += 1
        }
        return length
    }

    /// `content` as a String. The scanner has already validated it (repairing with U+FFFD), so
    /// where the standard library can take known-valid UTF-8 it is not validated a second time;
    /// for long strings that second pass cost as much as all the scanning.
    @inline(__always)
    private static func string(_ content: UnsafeBufferPointer<UInt8>, isASCII: Bool) -> String {
        #if compiler(>=6.2)
        if #available(macOS 26, iOS 26, tvOS 26, watchOS 26, visionOS 26, *) {
            return String(copying: UTF8Span(unchecked: content.span, isKnownASCII: isASCII))
        }
        #endif
        return String(decoding: content, as: UTF8.self)
    }

    /// Canonical string content without the backslashes at `offsets` (output offsets, from
    /// `base`), so its `\"` and `\\` read `"` and `\` again.
    private static func unescaped(_ content: UnsafeBufferPointer<UInt8>, dropping offsets: [Int], from base: Int, isASCII: Bool) -> String {
        let count = content.count - offsets.count
        let target = UnsafeMutablePointer<UInt8>.allocate(capacity: max(count, 1))
        defer { target.deallocate() }
        guard let source = content.baseAddress else { return "" }
        var i = 0, j = 0
        for offset in offsets {
            let backslash = offset - base
            (target + j).update(from: source + i, count: backslash - i)
            j += backslash - i
            i = backslash + 1
        }
        (target + j).update(from: source + i, count: content.count - i)
        return string(UnsafeBufferPointer(start: target, count: count), isASCII: isASCII)
    }

    /// Writes the escape under `pos` decoded (`\"` and `\\` re-escaped, noted in `reescapes`).
    private mutating func parseEscape(_ input: UnsafeBufferPointer<UInt8>, _ pos: inout Int) throws(JSONParseError) {
        let escapeStart = pos
        pos += 1
        guard pos < input.count else { throw JSONParseError(.unexpectedEnd, at: pos) }
        let c = input[pos]
        pos += 1
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"):
            if buildTree { reescapes.append(outCount) }
            rawEmit(UInt8(ascii: "\\"))
            rawEmit(c)
        case UInt8(ascii: "u"):
            let unit = try readHex4(input, &pos, escapeStart: escapeStart)
            switch unit {
            case 0xD800...0xDBFF:
                // A high surrogate pairs only with an immediately following `\uDC00`-`\uDFFF`;
                // anything else leaves it unpaired, which becomes U+FFFD (the next escape, if any,
                // is decoded on its own).
                if pos + 1 < input.count, input[pos] == UInt8(ascii: "\\"), input[pos + 1] == UInt8(ascii: "u") {
                    var look = pos + 2
                    let low = try readHex4(input, &look, escapeStart: pos)
                    if (0xDC00...0xDFFF).contains(low) {
                        pos = look
                        let value = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                        appendScalar(value)
                        return
                    }
                }
                appendReplacement()
            case 0xDC00...0xDFFF:
                appendReplacement()
            default:
                appendScalar(UInt32(unit))
            }
        default:
            guard let decoded = JSONLexer.decodedEscape(c) else { throw JSONParseError(.invalidEscape, at: escapeStart) }
            rawEmit(decoded)
        }
    }

    private func readHex4(_ input: UnsafeBufferPointer<UInt8>, _ pos: inout Int, escapeStart: Int) throws(JSONParseError) -> UInt16 {
        guard pos + 4 <= input.count else { throw JSONParseError(.unexpectedEnd, at: input.count) }
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard let digit = JSONLexer.hexValue(input[pos]) else { throw JSONParseError(.invalidEscape, at: escapeStart) }
            value = value << 4 | UInt16(digit)
            pos += 1
        }
        return value
    }

    /// Writes scalar `value` as UTF-8 (`"` and `\` re-escaped, noted in `reescapes`).
    private mutating func appendScalar(_ value: UInt32) {
        guard let scalar = Unicode.Scalar(value) else {
            appendReplacement()
            return
        }
        if value == 0x22 || value == 0x5C {
            if buildTree { reescapes.append(outCount) }
            rawEmit(UInt8(ascii: "\\"))
            rawEmit(UInt8(truncatingIfNeeded: value))
            return
        }
        if value >= 0x80 { nonASCII = true }
        UTF8.encode(scalar) { rawEmit($0) }
    }

    private mutating func appendReplacement() {
        nonASCII = true
        rawEmit(0xEF)
        rawEmit(0xBF)
        rawEmit(0xBD)
    }

    /// Handles one ill-formed sequence starting at a byte >= 0x80: U+FFFD for its maximal invalid
    /// subpart (Unicode §3.9, "substitution of maximal subparts", as Swift's own decoder does).
    private mutating func appendUTF8Sequence(_ input: UnsafeBufferPointer<UInt8>, _ pos: inout Int) {
        nonASCII = true
        guard let shape = JSONLexer.utf8Sequence(lead: input[pos]) else {
            appendReplacement()
            pos += 1
            return
        }
        let length = shape.length, secondRange = shape.second
        var consumed = 1
        while consumed < length {
            let i = pos + consumed
            let range = consumed == 1 ? secondRange : 0x80...0xBF
            guard i < input.count, range.contains(input[i]) else {
                appendReplacement()
                pos += consumed
                return
            }
            consumed += 1
        }
        write(UnsafeBufferPointer(rebasing: input[pos..<(pos + length)]))
        pos += length
    }

    private func skipNumber(_ input: UnsafeBufferPointer<UInt8>, _ pos: inout Int) throws(JSONParseError) {
        let start = pos
        let n = input.count
        func isDigit(_ i: Int) -> Bool { i < n && input[i] >= UInt8(ascii: "0") && input[i] <= UInt8(ascii: "9") }
        if input[pos] == UInt8(ascii: "-") { pos += 1 }
        guard isDigit(pos) else { throw JSONParseError(.invalidNumber, at: start) }
        if input[pos] == UInt8(ascii: "0") {
            pos += 1
            if isDigit(pos) { throw JSONParseError(.invalidNumber, at: start) }
        } else {
            while isDigit(pos) { pos += 1 }
        }
        if pos < n, input[pos] == UInt8(ascii: ".") {
            pos += 1
            guard isDigit(pos) else { throw JSONParseError(.invalidNumber, at: start) }
            while isDigit(pos) { pos += 1 }
        }
        if pos < n, input[pos] == UInt8(ascii: "e") || input[pos] == UInt8(ascii: "E") {
            pos += 1
            if pos < n, input[pos] == UInt8(ascii: "+") || input[pos] == UInt8(ascii: "-") { pos += 1 }
            guard isDigit(pos) else { throw JSONParseError(.invalidNumber, at: start) }
            while isDigit(pos) { pos += 1 }
        }
    }

    private mutating func expectLiteral(_ literal: StaticString, _ input: UnsafeBufferPointer<UInt8>, _ pos: inout Int) throws(JSONParseError) {
        let bytes = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        for expected in bytes {
            guard pos < input.count else { throw JSONParseError(.unexpectedEnd, at: pos) }
            guard input[pos] == expected else { throw JSONParseError(.unexpectedByte(input[pos]), at: pos) }
            pos += 1
        }
        if writeCanonical { write(bytes) }
    }

    private func skipWhitespace(_ input: UnsafeBufferPointer<UInt8>, _ pos: inout Int) {
        while pos < input.count, JSONLexer.isWhitespace(input[pos]) { pos += 1 }
    }

    // MARK: - Canonical output

    /// Writes a structural byte (skipped when only the tree is wanted).
    @inline(__always)
    private mutating func emit(_ byte: UInt8) {
        if writeCanonical { rawEmit(byte) }
    }

    /// Writes one byte of string text (always: the string's tree value is read back from it).
    @inline(__always)
    private mutating func rawEmit(_ byte: UInt8) {
        if outCount == outCapacity { grow(to: outCount + 1) }
        out?[outCount] = byte
        outCount += 1
    }

    @inline(__always)
    private mutating func write(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count)
        guard let out else { return }
        (out + outCount).update(from: source, count: bytes.count)
        outCount += bytes.count
    }

    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        if outCount + extra > outCapacity { grow(to: outCount + extra) }
    }

    private mutating func grow(to minimum: Int) {
        let capacity = max(minimum, outCapacity * 2)
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        if let out {
            bigger.update(from: out, count: outCount)
            if ownsOut { out.deallocate() }
        }
        out = bigger
        outCapacity = capacity
        ownsOut = true
    }
}
