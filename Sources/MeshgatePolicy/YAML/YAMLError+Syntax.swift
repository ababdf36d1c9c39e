import Yams

extension YAMLError {
    /// Translates a Yams syntax error, keeping its line and column and adding a hint for the
    /// slip that most often causes it.
    package init(yaml error: any Error, file: String, text: String) {
        var line: Int?
        var column: Int?
        var message = "invalid YAML"
        var fix: String? = "check the indentation and quoting around this spot"
        func describe(_ problem: String, _ context: YamlError.Context?, _ mark: Mark) {
            line = mark.line
            column = mark.column
            message = "invalid YAML: " + problem
            if let context { message += " (\(context.text) at line \(context.mark.line))" }
        }
        if let yamlError = error as? YamlError {
            switch yamlError {
            case .scanner(let context, let problem, let mark, _),
                 .parser(let context, let problem, let mark, _),
                 .composer(let context, let problem, let mark, _):
                describe(problem, context, mark)
                fix = Self.syntaxHint(text: text, line: mark.line) ?? fix
            case .reader(let problem, let offset, _, _):
                message = "invalid YAML: " + problem
                if let offset {
                    let prefix = text.prefix(offset)
                    line = prefix.reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
                    column = prefix.count - (prefix.lastIndex(of: "\n").map { prefix.distance(from: prefix.startIndex, to: $0) + 1 } ?? 0) + 1
                }
                fix = "save the file as UTF-8 text"
            case .duplicatedKeysInMapping(let duplicates, let context):
                line = context.mark.line
                column = context.mark.column
                message = "duplicate key " + duplicates.map { "'\($0)'" }.joined(separator: ", ")
                fix = "keep one of them"
            default:
                message = "invalid YAML: \(yamlError)"
                fix = nil
            }
        } else {
            message = "invalid YAML: \(error)"
            fix = nil
        }
        self.init(location: SourceLocation(file: file, line: line, column: column), message: message, fix: fix)
    }

    /// libyaml's messages describe the parser's state, not the user's slip; these are the slips
    /// that produce them most often.
    private static func syntaxHint(text: String, line: Int) -> String? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard line >= 1, line <= lines.count else { return nil }
        let source = lines[line - 1]
        if source.prefix(while: { $0 == " " || $0 == "\t" }).contains("\t") {
            return "indent with spaces, not tabs"
        }
        // Inside [ ] a plain scalar may not start with ':', so [::1/128] is a syntax error.
        if source.contains("["), source.contains("::") {
            return "quote IPv6 addresses inside [ ] and listener addresses starting with '[', e.g. [\"::1/128\"] or \"[::1]:3128\""
        }
        return nil
    }
}
