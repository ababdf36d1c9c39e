import MeshgateCore

/// Tokens per UTC day, team, identity, provider and model, from the `ai` audit lines: the Token
/// spend page's chart and provider/model split. The caps and the current window's use come from
/// the ledger; this is the history the ledger does not keep. Pure and bounded.
public struct SpendHistory: Sendable {
    public struct Key: Hashable, Sendable, Codable {
        /// Days since the Unix epoch (UTC).
        public var day: Int64
        public var team: String
        public var identity: String
        public var provider: String
        public var model: String
    }

    public struct Tokens: Sendable, Equatable, Codable {
        public var input: Int64 = 0
        public var output: Int64 = 0
        public var calls: Int64 = 0
        public var total: Int64 { input + output }
    }

    /// Days kept.
    public static let days: Int64 = 30
    /// Keys kept; the oldest day's go first when more arrive.
    public static let maxKeys = 50_000

    public private(set) var entries: [Key: Tokens] = [:]
    private var dirty: Set<Key> = []

    public init(entries: [Key: Tokens] = [:]) {
        self.entries = entries
    }

    public static func day(ofMillis millis: Int64) -> Int64 { millis >= 0 ? millis / 86_400_000 : (millis - 86_399_999) / 86_400_000 }

    public mutating func add(_ event: AuditEvent) {
        guard event.kind == .ai else { return }
        let key = Key(day: Self.day(ofMillis: event.timestampMillis), team: event.team ?? "", identity: event.identity ?? "",
                      provider: event.string("provider") ?? "unknown", model: event.string("model") ?? "unknown")
        var tokens = entries[key] ?? Tokens()
        tokens.input += event.int("input_tokens") ?? 0
        tokens.output += event.int("output_tokens") ?? 0
        tokens.calls += 1
        entries[key] = tokens
        dirty.insert(key)
        if entries.count > Self.maxKeys || key.day > (newestDay ?? key.day) { prune(today: key.day) }
        newestDay = max(newestDay ?? key.day, key.day)
    }

    private var newestDay: Int64?

    /// Drops days older than ``days`` before `today`, and the oldest days while over ``maxKeys``.
    public mutating func prune(today: Int64) {
        let cutoff = today - Self.days + 1
        var removed = entries.keys.filter { $0.day < cutoff }
        if entries.count - removed.count > Self.maxKeys {
            let byDay = entries.keys.filter { $0.day >= cutoff }.sorted { $0.day < $1.day }
            removed += byDay.prefix(entries.count - removed.count - Self.maxKeys)
        }
        for key in removed {
            entries[key] = nil
            dirty.insert(key)
        }
    }

    /// The keys changed since the last call with their tokens (nil when removed), for the store.
    public mutating func takeDirty() -> [(key: Key, tokens: Tokens?)] {
        defer { dirty.removeAll(keepingCapacity: true) }
        return dirty.map { ($0, entries[$0]) }
    }

    /// Marks everything changed (after a failed write).
    public mutating func markAllDirty() {
        dirty.formUnion(entries.keys)
    }
}
