import Foundation

/// Identifiers for reservations and usage records: time-ordered, then random.
package enum LedgerIDs {
    /// 32 lowercase hex digits: the time in milliseconds (48 bits), then 80 random bits.
    ///
    /// Time first so that each write lands at the end of the ledger's id indexes: with wholly
    /// random ids every settled call dirtied a page of its own anywhere in `usage_events`'s index,
    /// and a batch of N settlements wrote N pages to the log, more as the ledger grew.
    package static func make(now: Date = Date()) -> String {
        var generator = SystemRandomNumberGenerator()
        let milliseconds = UInt64(max(0, now.timeIntervalSince1970 * 1000)) & 0xFFFF_FFFF_FFFF
        let random: UInt64 = generator.next()
        let more: UInt16 = generator.next()
        return hex(milliseconds, digits: 12) + hex(random, digits: 16) + hex(UInt64(more), digits: 4)
    }

    private static func hex(_ value: UInt64, digits count: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: count - digits.count) + digits
    }
}
