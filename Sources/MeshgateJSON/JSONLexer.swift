/// The token rules both JSON tokenizers share: which bytes end a run of string content, what an
/// escape stands for, hex digits, whitespace and the shape of a UTF-8 sequence.
///
/// `JSONScanner` (strict, one pass over a whole body, writing the canonical text and the tree) and
/// `JSONFieldScanner` (lenient, resumable over chunks cut anywhere, reporting key paths) keep
/// separate state machines, because one is fused with the canonical writer on the inspection hot
/// path and the other must stop and resume mid-token; the lexing under them is this one copy, so
/// the two cannot come to read a string differently.
enum JSONLexer {
    /// The byte the single-character escape `\c` stands for (`\"` `\\` `\/` `\b` `\f` `\n` `\r`
    /// `\t`); nil for `u` and for every byte JSON defines no escape for.
    @inline(__always)
    static func decodedEscape(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): c
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "f"): 0x0C
        case UInt8(ascii: "n"): 0x0A
        case UInt8(ascii: "r"): 0x0D
        case UInt8(ascii: "t"): 0x09
        default: nil
        }
    }

    /// The value of the hex digit `c` (either case), or nil.
    @inline(__always)
    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Whether `byte` is whitespace between tokens (RFC 8259: space, tab, LF, CR).
    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
    }

    /// The length of the well-formed UTF-8 sequence `lead` can start and the range its second
    /// byte must fall in (Unicode Table 3-7; later bytes are 0x80...0xBF), or nil when `lead`
    /// starts none.
    @inline(__always)
    static func utf8Sequence(lead: UInt8) -> (length: Int, second: ClosedRange<UInt8>)? {
        switch lead {
        case 0xC2...0xDF: (2, 0x80...0xBF)
        case 0xE0: (3, 0xA0...0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: (3, 0x80...0xBF)
        case 0xED: (3, 0x80...0x9F)
        case 0xF0: (4, 0x90...0xBF)
        case 0xF1...0xF3: (4, 0x80...0xBF)
        case 0xF4: (4, 0x80...0x8F)
        default: nil
        }
    }

    /// The offset of the first `"` or `\` in `bytes` at or after `from`, or `bytes.count`: the
    /// end of a run of raw string content, found a word at a time.
    @inline(__always)
    static func firstQuoteOrBackslash(in bytes: UnsafeRawBufferPointer, from: Int) -> Int {
        let n = bytes.count
        var pos = from
        guard let base = bytes.baseAddress else { return n }
        while pos + 8 <= n {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: pos, as: UInt64.self))
            let mask = quoteOrBackslashMask(word)
            if mask != 0 { return pos + mask.trailingZeroBitCount >> 3 }
            pos += 8
        }
        while pos < n {
            let byte = base.load(fromByteOffset: pos, as: UInt8.self)
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return pos }
            pos += 1
        }
        return n
    }

    /// 0x80 in each lane of `vector` that is `"`, `\`, below 0x20, or 0x80 and above (a byte
    /// that ends a run of string content the canonical text copies verbatim), else 0.
    /// Comparisons on Swift's SIMD types are not lowered to vector compares (they become a loop
    /// over the lanes), but this lane-wise wrapping arithmetic is; and unlike the word version
    /// no borrow crosses lanes, so every lane is exact.
    @inline(__always)
    static func stringAttentionMask(_ vector: SIMD16<UInt8>) -> SIMD16<UInt8> {
        let ones = SIMD16<UInt8>(repeating: 1)
        let quote = vector ^ SIMD16<UInt8>(repeating: UInt8(ascii: "\""))
        let backslash = vector ^ SIMD16<UInt8>(repeating: UInt8(ascii: "\\"))
        let hasQuote = (quote &- ones) & ~quote
        let hasBackslash = (backslash &- ones) & ~backslash
        let hasControl = (vector &- SIMD16<UInt8>(repeating: 0x20)) & ~vector
        return (hasQuote | hasBackslash | hasControl | vector) & SIMD16<UInt8>(repeating: 0x80)
    }

    /// The high bit of each byte of `word` (memory order = little-endian) that is `"`, `\`, below
    /// 0x20, or 0x80 and above. Bits above the lowest one may be spurious (a borrow carries up),
    /// but the lowest set bit is always exact, which is all the callers use.
    @inline(__always)
    static func stringAttentionMask(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let hasControl = (word &- ones &* 0x20) & ~word
        return (quoteOrBackslashMask(word) | hasControl | word) & 0x8080_8080_8080_8080
    }

    /// As `stringAttentionMask(_:)` for `"` and `\` alone.
    @inline(__always)
    private static func quoteOrBackslashMask(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let hasQuote = (quote &- ones) & ~quote
        let hasBackslash = (backslash &- ones) & ~backslash
        return (hasQuote | hasBackslash) & 0x8080_8080_8080_8080
    }
}
