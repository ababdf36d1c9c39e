/// Orders ruleset `version` strings the way publishers write them ("2026.11.24", "1.10.2",
/// "2026.11.24-2", "2026.12.01-rc1"), SemVer-like:
///
/// - runs of digits compare as numbers, other runs as text, so "2026.11.3" is older than
///   "2026.11.24" and "1.9" older than "1.10";
/// - a `-` followed by a letter starts a pre-release, which sorts before its release:
///   "2026.02.01-rc1" < "2026.02.01" < "2026.02.02-rc1". Pre-releases of one release compare the
///   same way, numbers as numbers ("rc2" < "rc10", "alpha" < "beta" < "rc");
/// - a `-` followed by a digit is a revision of the release, newer than it
///   ("2026.11.24" < "2026.11.24-2"), as publishers have been writing since updates shipped.
///
/// So a signed pre-release cannot be installed (or replayed) over its release.
public enum RulesetVersion {
    /// Whether `a` is older than `b`.
    public static func isOlder(_ a: String, than b: String) -> Bool { compare(a, b) < 0 }

    /// -1, 0 or 1 as `a` is older than, the same as, or newer than `b`.
    public static func compare(_ a: String, _ b: String) -> Int {
        let (releaseA, preA) = split(a), (releaseB, preB) = split(b)
        let order = compareRuns(releaseA, releaseB)
        if order != 0 { return order }
        switch (preA, preB) {
        case (nil, nil): return 0
        case (nil, _): return 1
        case (_, nil): return -1
        case (let x?, let y?): return compareRuns(x, y)
        }
    }

    /// Whether `version` names a pre-release ("2026.02.01-rc1").
    public static func isPreRelease(_ version: String) -> Bool { split(version).preRelease != nil }

    /// The release part and the pre-release part (after the first `-` that a letter follows).
    private static func split(_ version: String) -> (release: Substring, preRelease: Substring?) {
        var index = version.startIndex
        while let dash = version[index...].firstIndex(of: "-") {
            let next = version.index(after: dash)
            if next < version.endIndex, version[next].isASCIILetter {
                return (version[..<dash], version[next...])
            }
            index = next
        }
        return (version[...], nil)
    }

    private static func compareRuns(_ a: Substring, _ b: Substring) -> Int {
        let left = runs(a), right = runs(b)
        for (x, y) in zip(left, right) {
            let order = compareRun(x, y)
            if order != 0 { return order }
        }
        return left.count == right.count ? 0 : (left.count < right.count ? -1 : 1)
    }

    private static func runs(_ text: Substring) -> [Substring] {
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
    var isASCIILetter: Bool { isASCII && isLetter }
}
