/// A problem at one spot of a YAML file (a ruleset or `meshgate.yaml`), reading like a compiler
/// diagnostic so editors and terminals can jump to it:
/// `rulesets/shadow-mcp.yaml:12:14: rule 'shadow-mcp-host': match.host[1]: invalid host pattern 'mcp.*.com'; …`.
///
/// Both loaders throw this one type (as ``RulesetError`` and `ConfigurationError`), so a message
/// is located and worded the same way whichever file it is about.
public struct YAMLError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where the problem is (file always; line and column when known).
    public var location: SourceLocation
    /// The ruleset rule the problem is in, when it is inside one.
    public var rule: String?
    /// Dotted key path such as `rules[2].match.host[0]` or `identities[1].cidrs[0]`; empty for
    /// file-level problems.
    public var keyPath: String
    /// What is wrong, naming the offending value (and, for a regex, the compiler's message and offset).
    public var message: String
    /// How to fix it, when there is an obvious fix.
    public var fix: String?
    /// The offending scalar as written, when the problem is one value (nil for a missing key, a
    /// list or mapping of the wrong shape, or a file-level problem).
    public var value: String?

    /// Creates an error.
    public init(location: SourceLocation, rule: String? = nil, keyPath: String = "", message: String, fix: String? = nil,
                value: String? = nil) {
        self.location = location
        self.rule = rule
        self.keyPath = keyPath
        self.message = message
        self.fix = fix
        self.value = value
    }

    /// Creates an error from its position's parts.
    public init(file: String, line: Int?, column: Int?, keyPath: String, message: String, fix: String? = nil) {
        self.init(location: SourceLocation(file: file, line: line, column: column), keyPath: keyPath, message: message, fix: fix)
    }

    /// The file as the user named it (or `<defaults>` for built-in values).
    public var file: String {
        get { location.file }
        set { location.file = newValue }
    }

    /// 1-based line of the offending node, when known.
    public var line: Int? {
        get { location.line }
        set { location.line = newValue }
    }

    /// 1-based column of the offending node, when known.
    public var column: Int? {
        get { location.column }
        set { location.column = newValue }
    }

    /// `file:line:column: rule 'ID': key.path: message; fix`, leaving out what is unknown.
    public var description: String {
        var text = location.description + ": "
        if let rule { text += "rule '\(rule)': " }
        if !keyPath.isEmpty { text += keyPath + ": " }
        text += message
        if let fix { text += "; " + fix }
        return text
    }
}
