/// RFC 3339 timestamps (`2026-11-29T10:51:58.123Z`) from Unix milliseconds, by civil-from-days
/// arithmetic (Howard Hinnant's algorithm) so the audit hot path needs no date formatter.
package enum RFC3339 {
    /// Appends the UTC timestamp for `millis` since the Unix epoch, with millisecond precision.
    /// Years outside 0000...9999 cannot be written in RFC 3339; they are printed with as many
    /// digits as they need (and a sign when negative) rather than wrapped.
    package static func appendTimestamp(millis: Int64, to out: inout [UInt8]) {
        let (seconds, ms) = floorDivMod(millis, 1000)
        let (days, secondOfDay) = floorDivMod(seconds, 86_400)
        let (year, month, day) = civilFromDays(days)

        if year < 0 {
            out.append(UInt8(ascii: "-"))
            appendPadded(-year, width: 4, to: &out)
        } else {
            appendPadded(year, width: 4, to: &out)
        }
        out.append(UInt8(ascii: "-"))
        appendPadded(month, width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendPadded(day, width: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        appendPadded(secondOfDay / 3600, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendPadded(secondOfDay / 60 % 60, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendPadded(secondOfDay % 60, width: 2, to: &out)
        out.append(UInt8(ascii: "."))
        appendPadded(ms, width: 3, to: &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// The timestamp as a `String`.
    package static func timestamp(millis: Int64) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(24)
        appendTimestamp(millis: millis, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// (year, month 1...12, day 1...31) of the proleptic Gregorian calendar for days since 1970-01-01.
    package static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        CivilDate.components(ofDay: days)
    }

    private static func floorDivMod(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        var q = a / b
        var r = a % b
        if r < 0 {
            q -= 1
            r += b
        }
        return (q, r)
    }

    /// `value` (never negative: callers pass the sign separately) zero-padded to `width`.
    private static func appendPadded(_ value: Int64, width: Int, to out: inout [UInt8]) {
        ASCIIDecimal.append(value.magnitude, minimumWidth: width, to: &out)
    }
}
