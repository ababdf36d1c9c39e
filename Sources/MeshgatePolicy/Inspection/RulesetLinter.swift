import MeshgateInspection

/// Times every regex of parsed rulesets with ``PCREPatternProbe`` and says which ones an attacker
/// could make backtrack (a PCRE2 limit, or time that grows faster than the input) and which DLP
/// patterns match the empty string, each at its `file:line`: `meshgate rules check`'s warnings.
public enum RulesetLinter {
    /// One warning about one pattern.
    public struct Warning: Sendable, Hashable, CustomStringConvertible {
        /// Where the regex is written.
        public var location: SourceLocation
        /// `pattern 'NAME' of profile 'P'` or `rule 'ID': header 'NAME'`.
        public var subject: String
        /// What the probe found.
        public var finding: PCREPatternProbe.Finding
        /// How to fix it.
        public var fix: String

        /// Creates a warning.
        public init(location: SourceLocation, subject: String, finding: PCREPatternProbe.Finding, fix: String) {
            self.location = location
            self.subject = subject
            self.finding = finding
            self.fix = fix
        }

        /// `file:line:col: warning: pattern 'P' of profile 'x': hits the match limit on …; fix`.
        public var description: String { "\(location): warning: \(subject): \(finding); \(fix)" }
    }

    /// The outcome of a lint.
    public struct Report: Sendable {
        /// Every warning, in file order.
        public var warnings: [Warning]
        /// Patterns left untimed because `totalBudget` ran out (their empty-match check still ran).
        public var untimed: Int
    }

    /// Lints the regexes of `rulesets`. Each distinct pattern text is timed once, under `limits` (the
    /// proxy's); timing stops once `totalBudget` is spent. Patterns that do not compile are skipped
    /// (loading the policy reports them).
    public static func lint(
        _ rulesets: [Ruleset],
        probe: PCREPatternProbe = PCREPatternProbe(),
        limits: PCRERegex.Limits = .default,
        totalBudget: Duration = .seconds(30)
    ) -> Report {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: totalBudget)
        var timed: [String: PCREPatternProbe.Finding?] = [:]
        var warnings: [Warning] = []
        var untimed = 0

        func check(_ text: String, at location: SourceLocation, subject: String, isBodyPattern: Bool) {
            guard let regex = try? PCRERegex(text, limits: limits) else { return }
            if let known = timed[text] {
                if let finding = known { warnings.append(Warning(location: location, subject: subject, finding: finding, fix: fix(for: finding, pattern: text))) }
            } else if clock.now < deadline {
                let finding = probe.probe(regex, checkEmptyMatch: false).first
                timed[text] = .some(finding)
                if let finding { warnings.append(Warning(location: location, subject: subject, finding: finding, fix: fix(for: finding, pattern: text))) }
            } else {
                untimed += 1
            }
            // Header selectors may well mean "present, any value" ('.*'); only body patterns are detections.
            if isBodyPattern, PCREPatternProbe.matchesEmpty(regex) {
                warnings.append(Warning(location: location, subject: subject, finding: .emptyMatch, fix: fix(for: .emptyMatch, pattern: text)))
            }
        }

        for ruleset in rulesets {
            for profile in ruleset.dlpProfiles {
                for pattern in profile.patterns {
                    check(pattern.regex, at: pattern.location, subject: "pattern '\(pattern.name)' of profile '\(profile.name)'", isBodyPattern: true)
                }
            }
            for rule in ruleset.rules {
                for header in rule.match.headers {
                    check(header.regex, at: header.location, subject: "rule '\(rule.id)': header '\(header.name)'", isBodyPattern: false)
                }
            }
        }
        return Report(warnings: warnings, untimed: untimed)
    }

    /// The fix to suggest for `finding` on `pattern`.
    static func fix(for finding: PCREPatternProbe.Finding, pattern: String) -> String {
        switch finding {
        case .emptyMatch:
            return "an empty match is never a detection (so it does not fire on a request without a body), but only its non-empty matches count: "
                + "make it need at least one character (+ instead of *, no optional-only pattern)"
        case .limitHit, .slow:
            if hasNestedRepeat(pattern) {
                return "use a possessive quantifier or atomic group so a repeat cannot give back what it took, e.g. (a+)+$ → (a++)$ or (?>a+)$"
            }
            return "a repeat is tried again from every position inside a long run: let it start only where a run starts, "
                + "with a lookbehind and a possessive repeat, as in (?<![\\s,])(?:\\s|,)*+; or (?<!a)a++$"
        }
    }

    /// Whether a quantified group holds a quantifier itself, as in `(a+)+` or `(\w+\s?)*`.
    static func hasNestedRepeat(_ pattern: String) -> Bool {
        let bytes = Array(pattern.utf8)
        var openings: [(index: Int, quantified: Bool)] = []
        var i = 0
        var inClass = false
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\\") {
                i += 2
                continue
            }
            if inClass {
                if c == UInt8(ascii: "]") { inClass = false }
                i += 1
                continue
            }
            switch c {
            case UInt8(ascii: "["): inClass = true
            case UInt8(ascii: "("): openings.append((i, false))
            case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "{"):
                // `(?` and `(*` introducers are not quantifiers; anything else inside a group is.
                if i > 0, bytes[i - 1] != UInt8(ascii: "("), !openings.isEmpty {
                    for index in openings.indices { openings[index].quantified = true }
                }
            case UInt8(ascii: ")"):
                let group = openings.popLast()
                if group?.quantified == true, i + 1 < bytes.count,
                   [UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "{")].contains(bytes[i + 1]) {
                    return true
                }
            default:
                break
            }
            i += 1
        }
        return false
    }
}
