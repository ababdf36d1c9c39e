import MeshgateCore

/// How often a token budget resets.
///
/// Fixed windows are aligned to multiples of their length since the Unix epoch, in UTC (so a `1d`
/// window runs from 00:00:00Z to the next 00:00:00Z and a `7d` window starts on Thursdays, as the
/// epoch did); `month` runs from the first of a calendar month 00:00:00Z to the first of the next.
public enum BudgetWindow: Sendable, Hashable {
    /// A fixed length in whole seconds (at least 1).
    case fixed(seconds: Int64)
    /// Calendar months in UTC.
    case month

    /// Creates a fixed window from a `Duration`, rounded down to whole seconds (at least 1).
    public init(_ duration: Duration) {
        self = .fixed(seconds: max(1, duration.components.seconds))
    }

    /// A stable name for the window, used as part of ledger keys and in reports: `month`, or the
    /// shortest of `Nd`, `Nh`, `Nm`, `Ns` that is exact (`1h`, `1d`, `7d`, `30d`, `90s`).
    public var label: String {
        switch self {
        case .month:
            return "month"
        case .fixed(let seconds):
            if seconds % 86_400 == 0 { return "\(seconds / 86_400)d" }
            if seconds % 3_600 == 0 { return "\(seconds / 3_600)h" }
            if seconds % 60 == 0 { return "\(seconds / 60)m" }
            return "\(seconds)s"
        }
    }

    /// The window containing `instant` (Unix seconds).
    public func period(containing instant: Int64) -> BudgetPeriod {
        switch self {
        case .fixed(let length):
            let length = max(1, length)
            // Floor division, so instants before 1970 land in the right window too.
            let index = instant >= 0 ? instant / length : -((-instant + length - 1) / length)
            return BudgetPeriod(start: index * length, end: (index + 1) * length)
        case .month:
            let (year, month, _) = CivilDate.components(ofDay: Self.floorDiv(instant, 86_400))
            let start = CivilDate.day(year: year, month: month, day: 1) * 86_400
            let (nextYear, nextMonth) = month == 12 ? (year + 1, 1) : (year, month + 1)
            let end = CivilDate.day(year: nextYear, month: nextMonth, day: 1) * 86_400
            return BudgetPeriod(start: start, end: end)
        }
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }
}

/// One window's span, `[start, end)` in Unix seconds.
public struct BudgetPeriod: Sendable, Hashable {
    /// The first second of the window.
    public var start: Int64
    /// The first second after it: the `resets_at` instant.
    public var end: Int64

    /// Creates a period.
    public init(start: Int64, end: Int64) {
        self.start = start
        self.end = end
    }

    /// Whole seconds from `now` until the window resets, at least 1 (the `Retry-After` value).
    public func retryAfterSeconds(now: Double) -> Int64 {
        let remaining = Double(end) - now
        guard remaining > 1 else { return 1 }
        return Int64(remaining.rounded(.up))
    }

    /// `end` as RFC 3339 UTC with second precision, e.g. `2026-03-01T00:00:00Z`.
    public var resetsAtText: String { CivilDate.rfc3339(end) }
}

extension CivilDate {
    /// `seconds` since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
    package static func rfc3339(_ seconds: Int64) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : -((-seconds + 86_399) / 86_400)
        let secondOfDay = seconds - days * 86_400
        let (y, m, d) = components(ofDay: days)
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))Z"
    }
}
