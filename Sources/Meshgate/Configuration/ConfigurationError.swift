/// A problem in `meshgate.yaml`, pointing at the offending spot and saying how to fix it.
///
/// `description` reads like a compiler diagnostic so editors and terminals can jump to it:
/// `meshgate.yaml:4:3: listeners.explicit: expected host:port, found 'localhost'; write e.g. 127.0.0.1:3128`.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The configuration file as the user named it (or `<defaults>` for built-in values).
    public var file: String
    /// 1-based line of the offending node, when known.
    public var line: Int?
    /// 1-based column of the offending node, when known.
    public var column: Int?
    /// Dotted key path such as `identities[1].cidrs[0]`; empty for file-level problems.
    public var keyPath: String
    /// What is wrong, naming the offending value.
    public var message: String
    /// How to fix it, when there is an obvious fix.
    public var fix: String?

    /// Creates an error.
    public init(file: String, line: Int?, column: Int?, keyPath: String, message: String, fix: String? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.keyPath = keyPath
        self.message = message
        self.fix = fix
    }

    /// `file:line:column: key.path: message; fix`.
    public var description: String {
        var location = file
        if let line {
            location += ":\(line)"
            if let column { location += ":\(column)" }
        }
        var text = location + ": "
        if !keyPath.isEmpty { text += keyPath + ": " }
        text += message
        if let fix { text += "; " + fix }
        return text
    }
}
