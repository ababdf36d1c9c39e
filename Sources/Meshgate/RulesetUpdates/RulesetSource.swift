import MeshgatePolicy

/// Where a configured ruleset comes from: a file, or one of the shipped rulesets built into the
/// binary (`builtin:shadow-mcp.yaml`), which is what a configuration without `rulesets:` runs.
enum RulesetSource {
    static let builtinPrefix = "builtin:"

    /// The default of `rulesets:`, in evaluation order: the shipped rulesets that run unless the
    /// configuration says otherwise (the strict Shadow-MCP tier is built in but opt-in).
    static var shipped: [String] { ShippedRulesets.defaults.map { builtinPrefix + $0 } }

    /// Whether `entry` names a built-in ruleset rather than a file.
    static func isBuiltin(_ entry: String) -> Bool { entry.hasPrefix(builtinPrefix) }

    /// Loads the ruleset `entry` names. A built-in one is parsed from the binary, and its errors and
    /// test failures name it as `builtin:NAME` with the line in the file shipped in `rulesets/`.
    static func load(_ entry: String) throws(RulesetError) -> Ruleset {
        guard isBuiltin(entry) else { return try Ruleset.load(path: entry) }
        let name = String(entry.dropFirst(builtinPrefix.count))
        guard let file = ShippedRulesets.files.first(where: { $0.name == name }) else {
            throw RulesetError(location: SourceLocation(file: entry, line: nil, column: nil), keyPath: "rulesets",
                               message: "no ruleset '\(name)' is built into this meshgate",
                               fix: "built in: \(ShippedRulesets.files.map { builtinPrefix + $0.name }.joined(separator: ", "))")
        }
        return try Ruleset.parse(yaml: file.yaml, file: entry)
    }
}
