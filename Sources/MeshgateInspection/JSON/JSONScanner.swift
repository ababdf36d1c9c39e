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
    /// The canonical text written so far.
    private(set) var canonical: [UInt8] = []
    private var valueCount = 0
    private var scratch: [UInt8] = []

    // Parallel stacks rather than an enum of payloads, so appending to the innermost container
    // mutates it in place instead of copying it (which would make long arrays quadratic).
    private enum Kind { case array, object }
    private var kinds: [Kind] = []
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
        if writeCanonical { canonical.reserveCapacity(bytes.count) }
        return bytes.withUnsafeBufferPointer { input in
            do throws(JSONParseError) {
                return .success(try scan(input))
            } catch {
                return .failure(error)
            }
        }
    }

    // MARK: - The state machine

    private mutating func scan(_ input: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> JSONValue {
        var pos = 0
        let n = input.count
        skipWhitespace(input, &pos)

        parseValue: while true {
            guard pos < n else { throw JSONParseError(.unexpectedEnd, at: pos) }
            valueCount += 1
            if valueCount > limits.maxValues { throw JSONParseError(.tooManyValues(limit: limits.maxValues), at: pos) }

            var produced: JSONValue
            switch input[pos] {
            case UInt8(ascii: "{"):
                guard kinds.count < limits.maxDepth else { throw JSONParseError(.tooDeep(limit: limits.maxDepth), at: pos) }
                emit(UInt8(ascii: "{"))
                pos += 1
                skipWhitespace(input, &pos)
                if pos < n, input[pos] == UInt8(ascii: "}") {
                    emit(UInt8(ascii: "}"))
                    pos += 1
                    produced = .object([])
                } else {
                    let key = try parseKey(input, &pos)
                    kinds.append(.object)
                    objects.append([])
                    pendingKeys.append(key)
                    continue parseValue
                }
            case UInt8(ascii: "["):
                guard kinds.count < limits.maxDepth else { throw JSONParseError(.tooDeep(limit: limits.maxDepth), at: pos) }
                emit(UInt8(ascii: "["))
                pos += 1
                skipWhitespace(input, &pos)
                if pos < n, input[pos] == UInt8(ascii: "]") {
                    emit(UInt8(ascii: "]"))
                    pos += 1
                    produced = .array([])
                } else {
                    kinds.append(.array)
                    arrays.append([])
                    continue parseValue
                }
            case UInt8(ascii: "\""):
                try parseString(input, &pos)
                emitScratchAsString()
                produced = buildTree ? .string(String(decoding: scratch, as: UTF8.self)) : .null
            case UInt8(ascii: "t"):
                try expectLiteral("true", input, &pos)
                produced = .bool(true)
            case UInt8(ascii: "f"):
                try expectLiteral("false", input, &pos)
                produced = .bool(false)
            case UInt8(ascii: "n"):
                try expectLiteral("null", input, &pos)
                produced = .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let start = pos
                try skipNumber(input, &pos)
                let text = UnsafeBufferPointer(rebasing: input[start..<pos])
                if writeCanonical { canonical.append(contentsOf: text) }
                produced = buildTree ? .number(String(decoding: text, as: UTF8.self)) : .null
            case let byte:
                throw JSONParseError(.unexpectedByte(byte), at: pos)
            }

            // Hand the finished value to its container; closing a container finishes another value.
            while true {
                skipWhitespace(input, &pos)
                guard let kind = kinds.last else {
                    guard pos == n else { throw JSONParseError(.trailingData, at: pos) }
                    return produced
                }
                guard pos < n else { throw JSONParseError(.unexpectedEnd, at: pos) }
                let byte = input[pos]
                switch kind {
                case .array:
                    if buildTree { arrays[arrays.count - 1].append(produced) }
                    if byte == UInt8(ascii: ",") {
                        emit(byte)
                        pos += 1
                        skipWhitespace(input, &pos)
                        continue parseValue
                    }
                    guard byte == UInt8(ascii: "]") else { throw JSONParseError(.unexpectedByte(byte), at: pos) }
                    emit(byte)
                    pos += 1
                    kinds.removeLast()
                    produced = .array(arrays.removeLast())
                case .object:
                    let key = pendingKeys.removeLast()
                    if buildTree { objects[objects.count - 1].append((key: key, value: produced)) }
                    if byte == UInt8(ascii: ",") {
                        emit(byte)
                        pos += 1
                        skipWhitespace(input, &pos)
                        pendingKeys.append(try parseKey(input, &pos))
                        continue parseValue
                    }
                    guard byte == UInt8(ascii: "}") else { throw JSONParseError(.unexpectedByte(byte), at: pos) }
                    emit(byte)
                    pos += 1
                    kinds.removeLast()
                    produced = .object(objects.removeLast())
                }
            }
        }
    }

    // MARK: - Tokens

    /// Parses `"key"` and the `:` after it (writing `"key":`), leaving `pos` at the member's value.
    private mutating func parseKey(_ input: UnsafeBufferPointer<UInt8>, _ pos: inout Int) throws(JSONParseError) -> String {
        guard pos < input.count else { throw JSONParseError(.unexpectedEnd, at: pos) }
        guard input[pos] == UInt8(ascii: "\"") else { throw JSONParseError(.unexpectedByte(input[pos]), at: pos) }
        try parseString(input, &pos)
        emitScratchAsString()
        let key = buildTree ? String(decoding: scratch, as: UTF8.self) : ""
        skipWhitespace(input, &pos)
        guard pos < input.count else { throw JSONParseError(.unexpectedEnd, at: pos) }
        guard input[pos] == UInt8(ascii: ":") else { throw JSONParseError(.unexpectedByte(input[pos]), at: pos) }
        emit(UInt8(ascii: ":"))
        pos += 1
        skipWhitespace(input, &pos)
        return key
    }

    /// Decodes the string starting at the `"` under `pos` into `scratch` (valid UTF-8, escapes
    /// undone); leaves `pos` after the closing quote.
    private mutating func parseString(_ input: UnsafeBufferPointer<UInt8>, _ pos: inout Int) throws(JSONParseError) {
        scratch.removeAll(keepingCapacity: true)
        pos += 1
        let n = input.count
        while true {
            // Copy runs of plain printable ASCII in one go.
            let runStart = pos
            while pos < n, input[pos] >= 0x20, input[pos] < 0x80, input[pos] != UInt8(ascii: "\""), input[pos] != UInt8(ascii: "\\") {
                pos += 1
            }
            if pos > runStart { scratch.append(contentsOf: UnsafeBufferPointer(rebasing: input[runStart..<pos])) }
            guard pos < n else { throw JSONParseError(.unexpectedEnd, at: pos) }
            let byte = input[pos]
            switch byte {
            case UInt8(ascii: "\""):
                pos += 1
                return
            case UInt8(ascii: "\\"):
                try parseEscape(input, &pos)
            case 0..<0x20:
                throw JSONParseError(.controlCharacterInString(byte), at: pos)
            default:
                appendUTF8Sequence(input, &pos)
            }
        }
    }

    private mutating func parseEscape(_ input: UnsafeBufferPointer<UInt8>, _ pos: inout Int) throws(JSONParseError) {
        let escapeStart = pos
        pos += 1
        guard pos < input.count else { throw JSONParseError(.unexpectedEnd, at: pos) }
        let c = input[pos]
        pos += 1
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(c)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
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
                JSONTextEncoding.appendReplacement(to: &scratch)
            case 0xDC00...0xDFFF:
                JSONTextEncoding.appendReplacement(to: &scratch)
            default:
                appendScalar(UInt32(unit))
            }
        default:
            throw JSONParseError(.invalidEscape, at: escapeStart)
        }
    }

    private func readHex4(_ input: UnsafeBufferPointer<UInt8>, _ pos: inout Int, escapeStart: Int) throws(JSONParseError) -> UInt16 {
        guard pos + 4 <= input.count else { throw JSONParseError(.unexpectedEnd, at: input.count) }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let c = input[pos]
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
            default: throw JSONParseError(.invalidEscape, at: escapeStart)
            }
            value = value << 4 | UInt16(digit)
            pos += 1
        }
        return value
    }

    private mutating func appendScalar(_ value: UInt32) {
        if let scalar = Unicode.Scalar(value) {
            UTF8.encode(scalar) { scratch.append($0) }
        } else {
            JSONTextEncoding.appendReplacement(to: &scratch)
        }
    }

    /// Copies one UTF-8 sequence starting at a byte >= 0x80, or U+FFFD for its maximal invalid
    /// subpart (Unicode §3.9, "substitution of maximal subparts", as Swift's own decoder does).
    private mutating func appendUTF8Sequence(_ input: UnsafeBufferPointer<UInt8>, _ pos: inout Int) {
        let lead = input[pos]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondRange = 0x80...0x9F
        case 0xF0: length = 4; secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondRange = 0x80...0x8F
        default:
            JSONTextEncoding.appendReplacement(to: &scratch)
            pos += 1
            return
        }
        var consumed = 1
        while consumed < length {
            let i = pos + consumed
            let range = consumed == 1 ? secondRange : 0x80...0xBF
            guard i < input.count, range.contains(input[i]) else {
                JSONTextEncoding.appendReplacement(to: &scratch)
                pos += consumed
                return
            }
            consumed += 1
        }
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: input[pos..<(pos + length)]))
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
        if writeCanonical { canonical.append(contentsOf: bytes) }
    }

    private func skipWhitespace(_ input: UnsafeBufferPointer<UInt8>, _ pos: inout Int) {
        while pos < input.count {
            switch input[pos] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): pos += 1
            default: return
            }
        }
    }

    // MARK: - Canonical output

    private mutating func emit(_ byte: UInt8) {
        if writeCanonical { canonical.append(byte) }
    }

    /// Writes `scratch` as a quoted string. Only `"` and `\` are escaped again: they are the two
    /// characters that could otherwise let a string's content pose as JSON structure (a quoted
    /// `{"method":"tools/call"}` inside a GitHub issue body stays `{\"method\":\"tools/call\"}`).
    /// Every other escape stays decoded, so `tools\u002fcall` reads `tools/call`.
    private mutating func emitScratchAsString() {
        guard writeCanonical else { return }
        canonical.append(UInt8(ascii: "\""))
        for byte in scratch {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { canonical.append(UInt8(ascii: "\\")) }
            canonical.append(byte)
        }
        canonical.append(UInt8(ascii: "\""))
    }
}
