/// Orders ruleset `version` strings the way publishers write them ("2026.11.24", "1.10.2",
/// "2026.11.24-2"): runs of digits compare as numbers, other runs as text, so "2026.11.3" is older
/// than "2026.11.24" and "1.9" older than "1.10".
public enum RulesetVersion {
    /// Whether `a` is older than `b`.
    public static func isOlder(_ a: String, than b: String) -> Bool { compare(a, b) < 0 }

    /// -1, 0 or 1 as `a` is older than, the same as, or newer than `b`.
    public static func compare(_ a: String, _ b: String) -> Int {
        let left = runs(a), right = runs(b)
        for (x, y) in zip(left, right) {
            let order = compareRun(x, y)
            if order != 0 { return order }
        }
        return left.count == right.count ? 0 : (left.count < right.count ? -1 : 1)
    }

    private static func runs(_ text: String) -> [Substring] {
        var result: [Substring] = []
        var start = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(after: index)
            if next < text.endIndex, text[next].isASCIIDigit != text[index].isASCIIDigit {
                result.append(text[start..<next])
                start = next
            }
            index = next
        }
        if start < text.endIndex { result.append(text[start...]) }
        return result
    }

    private static func compareRun(_ x: Substring, _ y: Substring) -> Int {
        let xDigits = x.first?.isASCIIDigit ?? false, yDigits = y.first?.isASCIIDigit ?? false
        if xDigits && yDigits {
            let a = x.drop { $0 == "0" }, b = y.drop { $0 == "0" }
            if a.count != b.count { return a.count < b.count ? -1 : 1 }
            return a == b ? 0 : (a < b ? -1 : 1)
        }
        // A number sorts after text in the same place ("1.0" < "1.0.1", "1.0-rc1" < "1.0.1").
        if xDigits != yDigits { return xDigits ? 1 : -1 }
        return x == y ? 0 : (x < y ? -1 : 1)
    }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
