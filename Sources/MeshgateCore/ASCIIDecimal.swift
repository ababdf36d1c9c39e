/// Decimal digits written straight into a byte buffer, for text built on hot paths (audit lines,
/// client addresses) where formatting through `String` allocates.
package enum ASCIIDecimal {
    /// Appends `value` in decimal, zero-padded on the left to at least `minimumWidth` digits.
    package static func append(_ value: UInt64, minimumWidth: Int = 1, to out: inout [UInt8]) {
        let start = out.count
        var rest = value
        repeat {
            out.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        while out.count - start < minimumWidth { out.append(UInt8(ascii: "0")) }
        out[start...].reverse()
    }
}
