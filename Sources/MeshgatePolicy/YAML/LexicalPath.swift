/// Lexical path handling: no file-system access, so a missing directory is not an error here
/// (the state directory, for one, is created later by `ca init`).
package enum LexicalPath {
    /// Makes `path` absolute against `base` (expanding a leading `~/`) and removes `.`, `..`
    /// and repeated slashes.
    package static func resolve(_ path: String, against base: String, home: String?) -> String {
        var expanded = path
        if let home, expanded == "~" || expanded.hasPrefix("~/") {
            expanded = home + expanded.dropFirst()
        }
        let absolute = expanded.hasPrefix("/") ? expanded : base + "/" + expanded
        return normalise(absolute)
    }

    /// `/a/./b/../c//d` becomes `/a/c/d`; `..` above the root stays at the root.
    package static func normalise(_ absolutePath: String) -> String {
        var parts: [Substring] = []
        for component in absolutePath.split(separator: "/", omittingEmptySubsequences: true) {
            switch component {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(component)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The folder holding `absolutePath`.
    package static func directory(of absolutePath: String) -> String {
        guard let slash = absolutePath.lastIndex(of: "/") else { return "/" }
        let folder = String(absolutePath[..<slash])
        return folder.isEmpty ? "/" : folder
    }
}
