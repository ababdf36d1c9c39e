/// Where the gateway puts usage the ledger cannot take (`ai.ledger_unavailable: fail_open`, or a
/// settlement that failed), so that usage the provider billed is never lost.
///
/// A protocol so that the gateway stays free of file I/O: the file-backed spool, which the ledger
/// maintenance replays, is `UsageSpool` in MeshgateLedger.
public protocol UsageSpoolSink: Sendable {
    /// Keeps `record` until it is replayed into the ledger; throws when it cannot.
    func append(_ record: UsageRecord) async throws
}
