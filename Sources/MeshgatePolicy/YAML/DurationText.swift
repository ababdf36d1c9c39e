import Foundation

/// Duration spellings shared by every duration-valued key.
package enum DurationText {
    /// Parses `30s`, `5m`, `1h`, `1d`, `2w`, `500ms` or a plain number of seconds.
    package static func parse(_ text: String) -> Duration? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000),
                                        ("d", 86_400_000), ("w", 604_800_000)]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var number = Substring(trimmed)
        var millisPerUnit: Int64 = 1000
        for (suffix, factor) in units where number.hasSuffix(suffix) {
            number = number.dropLast(suffix.count)
            millisPerUnit = factor
            break
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && $0.isNumber }), let count = Int64(number) else {
            return nil
        }
        let (millis, overflow) = count.multipliedReportingOverflow(by: millisPerUnit)
        guard !overflow else { return nil }
        return .milliseconds(millis)
    }
}
