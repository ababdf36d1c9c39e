import Foundation
import MeshgatePolicy

/// `meshgate rules update` and `meshgate rules rollback`: change the installed rulesets and have
/// the running server reload, as one step. The server is asked to reload only after the new files
/// are in place, and when it refuses (or cannot be reached) the files are put back exactly as they
/// were, so a failure never leaves an installed ruleset the server is not running.
public enum RulesetInstallCommands {
    /// Who asked, for the server's audit line.
    static var requester: String { "meshgate rules (uid \(getuid()), pid \(getpid()))" }

    /// Fetches, verifies, checks and installs a ruleset, then reloads the server. Returns the
    /// line to print.
    public static func update(
        configuration: MeshgateConfiguration, source: String?, allowDowngrade: Bool, reload: Bool, showProgress: Bool
    ) async throws -> String {
        let updater = RulesetUpdater(configuration: configuration, showProgress: showProgress)
        let from = try source.map { try RulesetFetcher.Source(argument: $0) } ?? updater.configuredSource
        let lock = try updater.store.lock()
        defer { withExtendedLifetime(lock) {} }
        let admin = reload ? try AdminClient(configuration: configuration) : nil
        try await admin?.ensureReachable()

        switch try await updater.update(from: from, allowDowngrade: allowDowngrade) {
        case .upToDate(let name, let version):
            return "\(name) \(version) from \(from) is already in force; nothing to do"
        case .installed(let name, let oldVersion, let newVersion, let change):
            let what = "\(name) \(newVersion)" + (oldVersion.map { " (was \($0))" } ?? " (new)")
            guard let admin else {
                change.commit()
                return "installed \(what) in \(updater.store.directory); it takes effect when meshgate next starts or reloads (SIGHUP)"
            }
            let message = try await reloadOrUndo(admin, change: change, expect: "\(name)@\(newVersion)", requestedBy: "rules update \(requester)")
            change.commit()
            return "installed \(what); meshgate \(message)"
        }
    }

    /// Reinstates the previous version of a ruleset and reloads the server.
    public static func rollback(configuration: MeshgateConfiguration, ruleset: String?, reload: Bool) async throws -> String {
        let store = RulesetStore(stateDirectory: configuration.stateDirectory)
        let lock = try store.lock()
        defer { withExtendedLifetime(lock) {} }
        let installed = try store.installed()
        let name: String
        if let ruleset {
            name = ruleset
        } else if installed.count == 1 {
            name = installed[0].name
        } else if installed.isEmpty {
            throw StoreError("nothing has been installed by `rules update` in \(store.directory), so there is nothing to roll back")
        } else {
            throw StoreError("several rulesets are installed (\(installed.map(\.name).joined(separator: ", "))); say which with --ruleset NAME")
        }
        let admin = reload ? try AdminClient(configuration: configuration) : nil
        try await admin?.ensureReachable()

        let (from, to, change) = try store.rollback(name: name)
        let inForce: String
        if let to {
            inForce = "\(name) \(to)"
        } else {
            let shipped = configuration.rulesets.compactMap { try? RulesetSource.load($0) }.first { $0.name == name }
            inForce = shipped.map { "the configured \($0.name) \($0.version) (\($0.file))" } ?? "no \(name) ruleset"
        }
        guard let admin else {
            change.commit()
            return "rolled back \(name) \(from); \(inForce) takes effect when meshgate next starts or reloads (SIGHUP)"
        }
        let message = try await reloadOrUndo(admin, change: change, expect: to.map { "\(name)@\($0)" }, requestedBy: "rules rollback \(requester)")
        change.commit()
        return "rolled back \(name) \(from); \(inForce) is in force; meshgate \(message)"
    }

    private static func reloadOrUndo(_ admin: AdminClient, change: PendingChange, expect: String?, requestedBy: String) async throws -> String {
        do {
            let message = try await admin.reload(requestedBy: requestedBy)
            if let expect, !message.contains(expect) {
                throw StoreError("the running meshgate reloaded but does not report \(expect) (\(message)); is it running with another --config or state_dir?")
            }
            return message
        } catch {
            do {
                try change.undo()
            } catch let undoError {
                throw StoreError("\(error); and putting the previous files back failed too: \(undoError)")
            }
            throw StoreError("\(error); the previously installed rulesets are unchanged")
        }
    }
}
