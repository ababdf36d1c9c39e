/// Byte-level JSON writing shared by the audit line encoder, the admin endpoints and `JSONValue`.
/// Written by hand because the audit line is on the hot path and its field order is contractual.
package enum JSONText {
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `s` as a quoted JSON string: `"` and `\` are escaped, control characters become
    /// `\u00XX`, and everything else (valid UTF-8, as every Swift `String` is) passes through.
    package static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Nearly every audit string needs no escaping: then it is one copy, not a byte-by-byte
        // append (which was the audit writer's largest cost at ~100k DNS queries/s).
        let copied = s.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            guard !bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else { return false }
            out.append(contentsOf: bytes)
            return true
        } ?? false
        if copied {
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""):
                out.append(UInt8(ascii: "\\"))
                out.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\"))
                out.append(UInt8(ascii: "\\"))
            case 0..<0x20:
                out.append(UInt8(ascii: "\\"))
                out.append(UInt8(ascii: "u"))
                out.append(UInt8(ascii: "0"))
                out.append(UInt8(ascii: "0"))
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Appends a string, or `null` when nil.
    package static func appendOptionalString(_ s: String?, to out: inout [UInt8]) {
        if let s { appendString(s, to: &out) } else { appendNull(to: &out) }
    }

    /// Appends `null`.
    package static func appendNull(to out: inout [UInt8]) {
        out.append(contentsOf: "null".utf8)
    }

    /// Appends a decimal integer.
    package static func appendInt(_ value: Int64, to out: inout [UInt8]) {
        out.append(contentsOf: String(value).utf8)
    }

    /// Appends a finite double in Swift's shortest round-trip form (valid JSON); NaN and the
    /// infinities have no JSON spelling and become `null`.
    package static func appendDouble(_ value: Double, to out: inout [UInt8]) {
        guard value.isFinite else {
            appendNull(to: &out)
            return
        }
        out.append(contentsOf: value.description.utf8)
    }

    /// Appends `true` or `false`.
    package static func appendBool(_ value: Bool, to out: inout [UInt8]) {
        out.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// Appends a JSON array of strings.
    package static func appendStringArray(_ values: [String], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (i, v) in values.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            appendString(v, to: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// A quoted JSON string as a `String`, for small bodies built outside the hot path.
    package static func quoted(_ s: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 2)
        appendString(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
