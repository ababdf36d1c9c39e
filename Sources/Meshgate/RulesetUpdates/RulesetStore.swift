import Foundation
import MeshgatePolicy

/// The rulesets `rules update` installed, in `state_dir/rulesets/`:
///
///     rulesets/NAME.yaml                   the version in force (replaces a configured file of that name)
///     rulesets/history/NAME/VERSION.yaml   the versions before it, newest `keep` kept
///     rulesets/.lock                       held while an update or rollback runs
///
/// Every change is a rename within one directory, so a reload that happens at any moment sees a
/// complete old or a complete new file.
public struct RulesetStore: Sendable {
    /// `state_dir/rulesets`.
    public let directory: String
    /// How many previous versions of each ruleset to keep.
    public var keep: Int

    /// The store under `stateDirectory`.
    public init(stateDirectory: String, keep: Int = 5) {
        self.directory = (stateDirectory as NSString).appendingPathComponent("rulesets")
        self.keep = keep
    }

    /// An installed ruleset file.
    public struct Entry: Sendable, Equatable {
        /// Its `ruleset:` name.
        public var name: String
        /// Its `version:`.
        public var version: String
        /// Where it is.
        public var path: String
    }

    /// The path the version in force of `name` is installed at.
    public func currentPath(_ name: String) -> String {
        (directory as NSString).appendingPathComponent("\(name).yaml")
    }

    private func historyDirectory(_ name: String) -> String {
        (directory as NSString).appendingPathComponent("history/\(name)")
    }

    /// The installed rulesets in force, by name.
    public func installed() throws(RulesetError) -> [Entry] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var entries: [Entry] = []
        for file in files.sorted() where file.hasSuffix(".yaml") && !file.hasPrefix(".") {
            let path = (directory as NSString).appendingPathComponent(file)
            let ruleset = try Ruleset.load(path: path)
            entries.append(Entry(name: ruleset.name, version: ruleset.version, path: path))
        }
        return entries
    }

    /// The previous versions of `name`, newest first.
    public func history(_ name: String) -> [Entry] {
        let folder = historyDirectory(name)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        var entries: [Entry] = []
        for file in files where file.hasSuffix(".yaml") && !file.hasPrefix(".") {
            let path = (folder as NSString).appendingPathComponent(file)
            guard let ruleset = try? Ruleset.load(path: path) else { continue }
            entries.append(Entry(name: ruleset.name, version: ruleset.version, path: path))
        }
        return entries.sorted { RulesetVersion.compare($0.version, $1.version) > 0 }
    }

    /// The rulesets in force for a configuration: each configured file, except that an installed
    /// ruleset of the same name takes its place; installed rulesets with new names follow, by name.
    public func effectiveRulesets(configured: [String]) throws(RulesetError) -> [Ruleset] {
        var installed: [String: Ruleset] = [:]
        for entry in try self.installed() {
            installed[entry.name] = try Ruleset.load(path: entry.path)
        }
        var result: [Ruleset] = []
        for file in configured {
            let shipped = try RulesetSource.load(file)
            result.append(installed.removeValue(forKey: shipped.name) ?? shipped)
        }
        result += installed.keys.sorted().compactMap { installed[$0] }
        return result
    }

    /// Checks that `name` is safe to use as a file name.
    public static func validate(name: String) throws {
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
        guard allowed, !name.isEmpty, !name.hasPrefix("."), name.count <= 100 else {
            throw StoreError("ruleset name '\(name)' cannot be installed: use letters, digits, '.', '_' and '-' (not first)")
        }
    }

    // MARK: Changes

    /// Takes the store's lock for the life of the returned value, so two updates (or an update
    /// and the server's periodic one) never interleave.
    public func lock() throws -> StoreLock {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let path = (directory as NSString).appendingPathComponent(".lock")
        let fd = open(path, O_RDWR | O_CREAT, 0o600)
        guard fd >= 0 else { throw StoreError("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw StoreError("another `meshgate rules update` or `rules rollback` is running (it holds \(path)); try again when it has finished")
        }
        return StoreLock(fd: fd)
    }

    /// Makes `bytes` (ruleset `name` at `version`, already verified and checked) the version in
    /// force, archiving the one it replaces. Until ``PendingChange/commit()`` the change can be
    /// undone exactly.
    public func install(name: String, version: String, bytes: [UInt8]) throws -> PendingChange {
        try Self.validate(name: name)
        let current = currentPath(name)
        let history = historyDirectory(name)
        try FileManager.default.createDirectory(atPath: history, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        var archived: String?
        if let previous = try? Ruleset.load(path: current) {
            let archive = (history as NSString).appendingPathComponent("\(Self.fileSafe(previous.version)).yaml")
            unlink(archive)
            // A hard link keeps the file in force in place until the rename below replaces it.
            guard link(current, archive) == 0 else {
                throw StoreError("cannot archive \(current) to \(archive): \(String(cString: strerror(errno)))")
            }
            AtomicFile.syncDirectory(of: archive)
            archived = archive
        }
        try AtomicFile.write(bytes, to: current)
        return PendingChange(store: self, name: name, undoRename: archived.map { ($0, current) }, undoRemove: archived == nil ? current : nil)
    }

    /// Puts the newest archived version of `name` back in force (or, when there is none, removes
    /// the installed copy so the configured file applies again). Returns the versions before and
    /// after and the change, undoable until committed.
    public func rollback(name: String) throws -> (from: String, to: String?, change: PendingChange) {
        try Self.validate(name: name)
        let current = currentPath(name)
        guard let installed = try? Ruleset.load(path: current) else {
            throw StoreError("no installed version of '\(name)' to roll back from; the configured file is in force")
        }
        // Set the version being rolled back aside (not in history, so it is not chosen again).
        let aside = (directory as NSString).appendingPathComponent(".\(name).rolled-back")
        unlink(aside)
        guard link(current, aside) == 0 else {
            throw StoreError("cannot set \(current) aside: \(String(cString: strerror(errno)))")
        }
        if let previous = history(name).first {
            // Copied rather than moved, so that an undo leaves history exactly as it was.
            guard let bytes = FileManager.default.contents(atPath: previous.path) else {
                unlink(aside)
                throw StoreError("cannot read \(previous.path)")
            }
            try AtomicFile.write(Array(bytes), to: current)
            return (installed.version, previous.version,
                    PendingChange(store: self, name: name, undoRename: (aside, current), undoRemove: nil, discard: [aside, previous.path]))
        }
        guard unlink(current) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(aside)
            throw StoreError("cannot remove \(current): \(reason)")
        }
        AtomicFile.syncDirectory(of: current)
        return (installed.version, nil, PendingChange(store: self, name: name, undoRename: (aside, current), undoRemove: nil, discard: [aside]))
    }

    /// Drops all but the newest `keep` archived versions of `name`.
    func prune(_ name: String) {
        for old in history(name).dropFirst(max(keep, 0)) { unlink(old.path) }
    }

    /// A version string as a file name.
    static func fileSafe(_ version: String) -> String {
        String(version.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_") ? $0 : "_" })
    }
}

/// An install or rollback that has happened on disk and can still be undone exactly, for when the
/// running server refuses the result.
public struct PendingChange: Sendable {
    let store: RulesetStore
    let name: String
    let undoRename: (from: String, to: String)?
    let undoRemove: String?
    var discard: [String] = []

    /// Keeps the change: prunes history past the retention limit.
    public func commit() {
        for path in discard { unlink(path) }
        store.prune(name)
    }

    /// Restores the files exactly as they were before the change.
    public func undo() throws {
        if let (from, to) = undoRename { try AtomicFile.rename(from, over: to) }
        if let undoRemove {
            unlink(undoRemove)
            AtomicFile.syncDirectory(of: undoRemove)
        }
    }
}

/// Holds the store's lock until released or deinitialised.
public final class StoreLock: Sendable {
    private let fd: Int32
    init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }
}
