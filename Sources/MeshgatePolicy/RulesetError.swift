/// A problem in a ruleset file, reading like a compiler diagnostic:
/// `rulesets/shadow-mcp.yaml:12:14: rule 'shadow-mcp-host': match.host[1]: invalid host pattern 'mcp.*.com'; …`.
public struct RulesetError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where the problem is (file always; line and column when known).
    public var location: SourceLocation
    /// The rule the problem is in, when it is inside a rule.
    public var rule: String?
    /// Dotted key path such as `rules[2].match.host[0]` or `dlp_profiles.secrets.patterns[1].regex`;
    /// empty for file-level problems.
    public var keyPath: String
    /// What is wrong, naming the offending value (and, for a regex, the compiler's message and offset).
    public var message: String
    /// How to fix it, when there is an obvious fix.
    public var fix: String?

    /// Creates an error.
    public init(location: SourceLocation, rule: String? = nil, keyPath: String = "", message: String, fix: String? = nil) {
        self.location = location
        self.rule = rule
        self.keyPath = keyPath
        self.message = message
        self.fix = fix
    }

    /// `file:line:column: rule 'ID': key.path: message; fix`.
    public var description: String {
        var text = location.description + ": "
        if let rule { text += "rule '\(rule)': " }
        if !keyPath.isEmpty { text += keyPath + ": " }
        text += message
        if let fix { text += "; " + fix }
        return text
    }
}
