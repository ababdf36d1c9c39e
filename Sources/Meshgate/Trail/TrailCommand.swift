import Foundation
import MeshgatePolicy

/// What `meshgate trail` reads and prints.
public enum TrailCommand {
    /// The trail of `files` (default: the configured audit log).
    public static func run(configuration: MeshgateConfiguration, files: [String], identity: String?, since: String?,
                           request: String?, json: Bool, now: Date = Date()) throws -> String {
        var paths = files
        if paths.isEmpty {
            guard case .file(let path) = configuration.audit.destination else {
                throw RulesCommands.UsageError(message: "the audit log goes to standard output (audit.path: \"-\"); pass the collected log with --file")
            }
            paths = [path]
        }
        var sinceMillis: Int64?
        if let since {
            guard let duration = DurationText.parse(since) else {
                throw RulesCommands.UsageError(message: "--since '\(since)' is not a duration such as 30m, 1h or 2d")
            }
            let (seconds, attos) = duration.components
            sinceMillis = Int64(now.timeIntervalSince1970 * 1000) - (seconds * 1000 + attos / 1_000_000_000_000_000)
        }
        var lines: [Substring] = []
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw RulesCommands.UsageError(message: "cannot read the audit log \(path)" + (FileManager.default.fileExists(atPath: path)
                    ? ": permission denied (run as a user that can read it)" : ": no such file (has meshgate served a request yet?)"))
            }
            lines += String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
        }
        let trail = AuditTrail(lines: lines, filter: .init(identity: identity, sinceMillis: sinceMillis, request: request))
        var out = json ? trail.json() + "\n" : trail.text()
        if trail.unreadable > 0, !json { out += "(\(trail.unreadable) line\(trail.unreadable == 1 ? " was" : "s were") not audit JSON and skipped)\n" }
        return out
    }
}
