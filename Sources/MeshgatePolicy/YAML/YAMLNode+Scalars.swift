import Foundation
import MeshgateCore
import Yams

extension YAMLNode {
    /// The scalar's text, as written (no YAML 1.1 coercions: `on` stays `on`); anything else is
    /// "expected \(expected)".
    package func scalar(expected: String, fix: String? = nil) throws(YAMLError) -> String {
        guard case .scalar(let scalar) = node, !isNull else {
            throw error("expected \(expected), found \(found)", fix: fix)
        }
        return scalar.string
    }

    /// A non-empty string.
    package func string(expected: String = "a string") throws(YAMLError) -> String {
        let text = try scalar(expected: expected)
        guard !text.isEmpty else { throw error("expected \(expected), found an empty string") }
        return text
    }

    /// A name for ids and headers: visible ASCII letters, digits and `-._:/`, so it can appear
    /// in an `X-Meshgate-Rule` header unescaped.
    package func identifier(expected: String) throws(YAMLError) -> String {
        let text = try string(expected: expected)
        let valid = text.utf8.allSatisfy { c in
            (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39)
                || c == 0x2D || c == 0x2E || c == 0x5F || c == 0x3A || c == 0x2F
        }
        guard valid else {
            throw error("invalid \(expected) '\(text)'", fix: "use letters, digits, '-', '_', '.', ':' and '/' only")
        }
        return text
    }

    /// A whole number in `range`; `what` names it in the range message ("port 70000 is out of range").
    package func int(in range: ClosedRange<Int>, what: String = "value") throws(YAMLError) -> Int {
        let text = try scalar(expected: "a whole number")
        // YAML 1.1 lets people group digits (1_000_000); quoted numbers are accepted too.
        let digits = text.replacingOccurrences(of: "_", with: "")
        guard let value = Int(digits) else {
            throw error("expected a whole number, found '\(text)'")
        }
        guard range.contains(value) else {
            throw error("\(what) \(value) is out of range (\(range.lowerBound)-\(range.upperBound))")
        }
        return value
    }

    /// `true`/`false` (YAML 1.1's `yes`/`no`/`on`/`off` too).
    package func bool() throws(YAMLError) -> Bool {
        let text = try scalar(expected: "true or false")
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error("expected true or false, found '\(text)'")
        }
    }

    /// A positive duration: `30s`, `5m`, `1h`, `1d`, `7d`, `500ms`, `2w`, or plain seconds.
    package func duration() throws(YAMLError) -> Duration {
        let text = try scalar(expected: "a duration such as 30s, 5m, 1h or 7d")
        guard let value = DurationText.parse(text) else {
            throw error(
                "expected a duration such as 30s, 5m, 1h or 7d, found '\(text)'",
                fix: "write a whole number followed by ms, s, m, h, d or w (a plain number means seconds)"
            )
        }
        guard value > .zero else { throw error("a duration must be longer than zero, found '\(text)'") }
        return value
    }

    /// A byte count: a whole number, or one with a `KiB`, `MiB` or `GiB` suffix.
    package func byteCount(in range: ClosedRange<Int> = 1...Int.max) throws(YAMLError) -> Int {
        let text = try scalar(expected: "a size in bytes such as 65536 or 64KiB")
        let units: [(String, Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("B", 1)]
        var number = Substring(text.replacingOccurrences(of: "_", with: ""))
        var multiplier = 1
        for (suffix, factor) in units where number.hasSuffix(suffix) {
            number = number.dropLast(suffix.count)
            multiplier = factor
            break
        }
        let trimmed = number.trimmingCharacters(in: .whitespaces)
        guard let base = Int(trimmed) else {
            throw error("expected a size in bytes such as 65536 or 64KiB, found '\(text)'")
        }
        let (value, overflow) = base.multipliedReportingOverflow(by: multiplier)
        guard !overflow, range.contains(value) else {
            throw error("size \(text) is out of range (\(range.lowerBound)-\(range.upperBound) bytes)")
        }
        return value
    }

    /// One of an enum's spellings; a near miss gets a suggestion.
    package func choice<T: RawRepresentable & CaseIterable>(_: T.Type) throws(YAMLError) -> T where T.RawValue == String {
        let allowed = T.allCases.map(\.rawValue)
        let text = try scalar(expected: "one of " + allowed.joined(separator: ", "))
        if let value = T(rawValue: text) { return value }
        var fix = "expected one of: " + allowed.joined(separator: ", ")
        if let guess = KeySuggestion.closest(to: text, in: allowed) { fix = "did you mean '\(guess)'? " + fix }
        throw error("invalid value '\(text)'", fix: fix)
    }

    /// A file path, resolved against the folder of the file it is written in.
    package func path() throws(YAMLError) -> String {
        source.resolve(try string(expected: "a file path"))
    }
}
