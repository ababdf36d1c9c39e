/// A deliberately plain canonicaliser to check `JSONCanonicalizer` against: recursive descent over
/// a byte array, one byte at a time, no word or vector tricks, invalid UTF-8 repaired by the
/// standard library's own decoder. Slow, and only for the small documents tests generate (it
/// recurses per nesting level and ignores `JSONLimits`).
struct ReferenceJSONCanonicalizer {
    private let bytes: [UInt8]
    private var index = 0
    private var out: [UInt8] = []

    /// The canonical text of `bytes` (UTF-8, no BOM), or nil when it is not one JSON value.
    static func canonicalText(_ bytes: [UInt8]) -> [UInt8]? {
        var reference = ReferenceJSONCanonicalizer(bytes: bytes)
        reference.skipWhitespace()
        guard reference.value() else { return nil }
        reference.skipWhitespace()
        return reference.index == bytes.count ? reference.out : nil
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
            index += 1
        }
    }

    /// Consumes `byte` (writing it) when it is next.
    private mutating func take(_ byte: Character) -> Bool {
        guard let ascii = byte.asciiValue, current == ascii else { return false }
        out.append(ascii)
        index += 1
        return true
    }

    private mutating func value() -> Bool {
        switch current {
        case UInt8(ascii: "{"): return container(close: "}", member: { $0.member() })
        case UInt8(ascii: "["): return container(close: "]", member: { $0.value() })
        case UInt8(ascii: "\""): return string()
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        case .some(let byte) where byte == UInt8(ascii: "-") || (0x30...0x39).contains(byte): return number()
        default: return false
        }
    }

    private mutating func container(close: Character, member: (inout Self) -> Bool) -> Bool {
        index += 1
        out.append(bytes[index - 1])
        skipWhitespace()
        if take(close) { return true }
        while true {
            guard member(&self) else { return false }
            skipWhitespace()
            if take(",") {
                skipWhitespace()
                continue
            }
            return take(close)
        }
    }

    private mutating func member() -> Bool {
        guard current == UInt8(ascii: "\""), string() else { return false }
        skipWhitespace()
        guard take(":") else { return false }
        skipWhitespace()
        return value()
    }

    private mutating func literal(_ word: String) -> Bool {
        for character in word {
            guard take(character) else { return false }
        }
        return true
    }

    private mutating func number() -> Bool {
        let start = index
        func digits(_ reference: inout Self) -> Int {
            var count = 0
            while let byte = reference.current, (0x30...0x39).contains(byte) {
                reference.index += 1
                count += 1
            }
            return count
        }
        if current == UInt8(ascii: "-") { index += 1 }
        if current == UInt8(ascii: "0") {
            index += 1
        } else if digits(&self) == 0 {
            return false
        }
        if current == UInt8(ascii: ".") {
            index += 1
            guard digits(&self) > 0 else { return false }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard digits(&self) > 0 else { return false }
        }
        // A digit straight after a leading zero ("01") is not a number.
        if let byte = current, (0x30...0x39).contains(byte) { return false }
        out += bytes[start..<index]
        return true
    }

    private mutating func string() -> Bool {
        index += 1
        out.append(UInt8(ascii: "\""))
        var raw: [UInt8] = []
        func flush(_ reference: inout Self) {
            reference.out += Array(String(decoding: raw, as: UTF8.self).utf8)
            raw = []
        }
        while let byte = current {
            if byte == UInt8(ascii: "\"") {
                flush(&self)
                out.append(byte)
                index += 1
                return true
            }
            if byte < 0x20 { return false }
            if byte != UInt8(ascii: "\\") {
                raw.append(byte)
                index += 1
                continue
            }
            flush(&self)
            guard index + 1 < bytes.count else { return false }
            let escape = bytes[index + 1]
            index += 2
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), escape]
            case UInt8(ascii: "/"): out.append(escape)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard let unit = hex4() else { return false }
                var scalar: UInt32 = 0xFFFD
                if (0xD800...0xDBFF).contains(unit) {
                    // Paired only with a `\u` low surrogate right after it; else it alone is U+FFFD.
                    if index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                        let afterHigh = index
                        index += 2
                        guard let low = hex4() else { return false }
                        if (0xDC00...0xDFFF).contains(low) {
                            scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            index = afterHigh
                        }
                    }
                } else if !(0xDC00...0xDFFF).contains(unit) {
                    scalar = unit
                }
                if scalar == 0x22 || scalar == 0x5C { out.append(UInt8(ascii: "\\")) }
                out += Array(String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8)
            default:
                return false
            }
        }
        return false
    }

    private mutating func hex4() -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        guard let value = UInt32(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16) else { return nil }
        // `UInt32(_:radix:)` takes a sign; JSON does not.
        guard bytes[index..<(index + 4)].allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") }) else { return nil }
        index += 4
        return value
    }
}
