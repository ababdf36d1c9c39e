/// The file a YAML tree was read from: its name for messages, the folder that relative paths in
/// it resolve against, and which YAML conveniences its reader accepts.
package struct YAMLSource: Sendable {
    /// The file name as the user gave it, used in error messages.
    package let file: String
    /// Absolute folder that relative paths resolve against.
    package let baseDirectory: String
    /// The home directory for `~/` paths, when known.
    package let homeDirectory: String?
    /// Whether `<<` merge keys are folded into the mapping holding them; the configuration
    /// accepts them, rulesets (so far) read `<<` as an unknown key.
    package let foldsMergeKeys: Bool

    /// Creates a source.
    package init(file: String, baseDirectory: String, homeDirectory: String? = nil, foldsMergeKeys: Bool = false) {
        self.file = file
        self.baseDirectory = baseDirectory
        self.homeDirectory = homeDirectory
        self.foldsMergeKeys = foldsMergeKeys
    }

    /// Resolves a path from the file to an absolute, lexically normalised one.
    package func resolve(_ path: String) -> String {
        LexicalPath.resolve(path, against: baseDirectory, home: homeDirectory)
    }
}
