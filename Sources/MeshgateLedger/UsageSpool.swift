import Foundation
import MeshgateAI

/// Usage metered while the ledger was unreachable (`ai.ledger_unavailable: fail_open`): an
/// append-only file of JSON lines, one `UsageRecord` each (in `LedgerJSON`'s shape), replayed
/// into the ledger by `reconcile`.
///
/// Replaying is idempotent because the ledger records each id once, so a crash in the middle of a
/// reconcile only means the next one re-sends lines the ledger then skips. A torn last line (the
/// process died mid-append) is skipped and counted, not fatal.
public actor UsageSpool: UsageSpoolSink {
    /// The spool file.
    public let path: String

    /// A spool that could not be written.
    public struct WriteError: Error, CustomStringConvertible {
        /// The file.
        public var path: String
        /// What failed.
        public var reason: String
        /// A one-line cause.
        public var description: String { "cannot append to usage spool \(path): \(reason)" }
    }

    /// What a reconcile did.
    public struct ReconcileResult: Sendable, Hashable {
        /// Records handed to the ledger.
        public var replayed: Int
        /// Lines that could not be read (skipped).
        public var unreadable: Int
    }

    /// Creates a spool at `path` (the file is created on first append).
    public init(path: String) {
        self.path = path
    }

    /// Appends one record, flushed to the OS before returning.
    public func append(_ record: UsageRecord) throws {
        var line = LedgerJSON.line(record)
        line.append(0x0A)
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw WriteError(path: path, reason: String(cString: strerror(errno))) }
        defer { _ = Foundation.close(fd) }
        let written = line.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        guard written == line.count else { throw WriteError(path: path, reason: String(cString: strerror(errno))) }
    }

    /// Records spooled and not yet reconciled.
    public func pending() throws -> [UsageRecord] {
        try read().records
    }

    /// Replays every spooled record into `ledger`, then empties the spool. On a ledger error the
    /// spool is left as it was (nothing is lost) and the error is thrown.
    @discardableResult
    public func reconcile(into ledger: any TokenLedger) async throws -> ReconcileResult {
        let (records, unreadable) = try read()
        for record in records { try await ledger.record(record) }
        if FileManager.default.fileExists(atPath: path) { try Data().write(to: URL(fileURLWithPath: path)) }
        return ReconcileResult(replayed: records.count, unreadable: unreadable)
    }

    private func read() throws -> (records: [UsageRecord], unreadable: Int) {
        guard FileManager.default.fileExists(atPath: path) else { return ([], 0) }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        var records: [UsageRecord] = []
        var unreadable = 0
        for line in data.split(separator: 0x0A, omittingEmptySubsequences: true) {
            if let record = LedgerJSON.record(Array(line)) {
                records.append(record)
            } else {
                unreadable += 1
            }
        }
        return (records, unreadable)
    }
}
