import Foundation
import GRDB
import Testing
@testable import MeshgateAI
@testable import MeshgateLedger

/// The ledger's stored JSON against what the Foundation-based builds wrote and read.
@Suite struct LedgerJSONTests {
    // Written by `LedgerSchema.encode` when it used `JSONEncoder()` (no `.sortedKeys`, so keys came
    // in hash order, different per object), for `Self.charges`.
    static let oldLedgerCharges = #"[{"window":"1d","limit":2000000,"subject":{"team":{"_0":"platform"}},"period":{"start":1795910400,"end":1795996800}},"#
        + #"{"window":"month","limit":1000,"subject":{"identity":{"_0":"agent\/\"7\" é\n"}},"period":{"start":1793491200,"end":1796083200}}]"#
    static let oldLedgerOneCharge = #"[{"period":{"end":1795996800,"start":1795910400},"limit":2000000,"window":"1d","subject":{"team":{"_0":"platform"}}}]"#

    // Two lines of a spool file written by `UsageSpool.append` with `JSONEncoder` and `.sortedKeys`,
    // for `Self.fullRecord` and `Self.bareRecord`.
    static let oldSpoolFull = #"{"charges":[{"limit":2000000,"period":{"end":1795996800,"start":1795910400},"subject":{"team":{"_0":"platform"}},"window":"1d"},"#
        + #"{"limit":1000,"period":{"end":1796083200,"start":1793491200},"subject":{"identity":{"_0":"agent\/\"7\" é\n"}},"window":"month"}],"#
        + #""id":"r-1","identity":"agent\/\"7\" é","model":"gpt-4o","provider":"openai","team":"platform","timestampMilliseconds":1795959650123,"#
        + #""usage":{"cacheCreation":4,"cacheRead":3,"estimated":true,"input":100,"output":20}}"#
    static let oldSpoolBare = #"{"charges":[],"id":"r-2","model":"claude","provider":"anthropic","timestampMilliseconds":-1,"#
        + #""usage":{"cacheCreation":0,"cacheRead":0,"estimated":false,"input":0,"output":0}}"#

    static let charges = [
        BudgetCharge(subject: .team("platform"), window: "1d", period: BudgetPeriod(start: 1_795_910_400, end: 1_795_996_800), limit: 2_000_000),
        BudgetCharge(subject: .identity("agent/\"7\" é\n"), window: "month", period: BudgetPeriod(start: 1_793_491_200, end: 1_796_083_200), limit: 1000),
    ]
    static let fullRecord = UsageRecord(id: "r-1", timestampMilliseconds: 1_795_959_650_123, identity: "agent/\"7\" é", team: "platform",
                                        provider: "openai", model: "gpt-4o",
                                        usage: TokenUsage(input: 100, output: 20, cacheRead: 3, cacheCreation: 4, estimated: true), charges: charges)
    static let bareRecord = UsageRecord(id: "r-2", timestampMilliseconds: -1, identity: nil, team: nil, provider: "anthropic", model: "claude",
                                        usage: TokenUsage(), charges: [])

    @Test func chargesWrittenByTheOldEncoderDecode() {
        #expect(LedgerSchema.decode(Self.oldLedgerCharges) == Self.charges)
        #expect(LedgerSchema.decode(Self.oldLedgerOneCharge) == [Self.charges[0]])
        #expect(LedgerJSON.charges("[]") == [])
    }

    @Test func spoolLinesWrittenByTheOldEncoderDecode() {
        #expect(LedgerJSON.record(Array(Self.oldSpoolFull.utf8)) == Self.fullRecord)
        #expect(LedgerJSON.record(Array(Self.oldSpoolBare.utf8)) == Self.bareRecord)
    }

    /// The new text is the old `.sortedKeys` text but for two escapes JSON lets a writer choose:
    /// `JSONEncoder` wrote `/` as `\/` and a newline as `\n`, `JSONText` writes `/` and `\u000a`.
    @Test func theNewTextIsTheOldSortedText() {
        func respelled(_ old: String) -> String {
            old.replacingOccurrences(of: #"\/"#, with: "/").replacingOccurrences(of: #"\n"#, with: #"\u000a"#)
        }
        #expect(String(decoding: LedgerJSON.line(Self.bareRecord), as: UTF8.self) == Self.oldSpoolBare)
        #expect(String(decoding: LedgerJSON.line(Self.fullRecord), as: UTF8.self) == respelled(Self.oldSpoolFull))
        // The spool's charges are the array as the old encoder wrote it with sorted keys.
        let oldSortedCharges = String(Self.oldSpoolFull.dropFirst(#"{"charges":"#.count).prefix { $0 != "]" }) + "]"
        #expect(LedgerSchema.encode(Self.charges) == respelled(oldSortedCharges))
    }

    /// What this build writes, read by the decoder the Foundation-based builds used.
    @Test func theOldDecoderReadsTheNewText() throws {
        let decoder = JSONDecoder()
        let charges = try decoder.decode([OldShape.Charge].self, from: Data(LedgerSchema.encode(Self.charges).utf8))
        #expect(charges.map(\.current) == Self.charges)
        for record in [Self.fullRecord, Self.bareRecord, Self.awkwardRecord] {
            let old = try decoder.decode(OldShape.Record.self, from: Data(LedgerJSON.line(record)))
            #expect(old.current == record)
        }
    }

    static let awkwardRecord = UsageRecord(
        id: "id \u{0}\u{1F}\t\"\\/ \u{7F}", timestampMilliseconds: .max, identity: "🧪 ü \u{2028}", team: "", provider: "p", model: "m",
        usage: TokenUsage(input: .max, output: 0, cacheRead: 1, cacheCreation: 2, estimated: false),
        charges: [BudgetCharge(subject: .team("t\r\n"), window: "90s", period: BudgetPeriod(start: .min, end: -1), limit: 0)])

    @Test func roundTrips() {
        for record in [Self.fullRecord, Self.bareRecord, Self.awkwardRecord] {
            let line = LedgerJSON.line(record)
            #expect(!line.contains(0x0A), "a spool line holds no raw newline")
            #expect(LedgerJSON.record(line) == record)
            #expect(LedgerSchema.decode(LedgerSchema.encode(record.charges)) == record.charges)
        }
    }

    @Test func nullOptionalsAndUnknownKeysAreReadAsJSONDecoderDid() {
        let line = #"{"charges":[],"id":"x","identity":null,"team":null,"model":"m","provider":"p","timestampMilliseconds":5,"#
            + #""usage":{"cacheCreation":0,"cacheRead":0,"estimated":false,"input":1,"output":2,"reasoning":9},"extra":[1,{"a":null}]}"#
        let record = LedgerJSON.record(Array(line.utf8))
        #expect(record?.identity == nil && record?.team == nil && record?.usage.output == 2)
        #expect(record != nil)
    }

    @Test(arguments: [
        "", "null", "{}", #"{"a":1}"#, "[", "[{}]", "[1]",
        #"[{"window":"1d","limit":1,"subject":{"team":{"_0":"t"},"identity":{"_0":"i"}},"period":{"start":0,"end":1}}]"#,
        #"[{"window":"1d","limit":1,"subject":{"robot":{"_0":"t"}},"period":{"start":0,"end":1}}]"#,
        #"[{"window":"1d","limit":"1","subject":{"team":{"_0":"t"}},"period":{"start":0,"end":1}}]"#,
        #"[{"window":"1d","limit":1.5,"subject":{"team":{"_0":"t"}},"period":{"start":0,"end":1}}]"#,
        #"[{"window":"1d","limit":1,"subject":{"team":{"_0":"t"}},"period":{"start":0,"end":99999999999999999999}}]"#,
    ])
    func unreadableChargesAreNone(text: String) {
        #expect(LedgerJSON.charges(text) == nil)
        #expect(LedgerSchema.decode(text) == [])
    }

    @Test func unreadableSpoolLinesAreNone() {
        #expect(LedgerJSON.record(Array(#"{"id":"torn","times"#.utf8)) == nil)
        #expect(LedgerJSON.record(Array(Self.oldSpoolBare.replacingOccurrences(of: #""estimated":false"#, with: #""estimated":0"#).utf8)) == nil)
        #expect(LedgerJSON.record(Array(Self.oldSpoolBare.replacingOccurrences(of: #""id":"r-2","#, with: "").utf8)) == nil)
        #expect(LedgerJSON.record(Array(Self.oldSpoolBare.replacingOccurrences(of: #""id":"r-2""#, with: #""id":"r-2","team":7"#).utf8)) == nil)
    }

    /// A reservation row as the old build stored it is given back to its windows by this one.
    @Test func aReservationRowWrittenByTheOldBuildIsReleased() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/ledger.db"
            let ledger = try SQLiteTokenLedger(path: path, holder: "a")
            guard case .reserved(let reservation) = try await ledger.reserve(100, charges: Self.charges, now: 1_795_959_650) else {
                Issue.record("not reserved")
                return
            }
            #expect(try await ledger.windowTotals(Self.charges).values.map(\.reserved) == [100, 100])
            try ledger.close()
            let db = try DatabaseQueue(path: path)
            try await db.write { db in
                try db.execute(sql: "UPDATE reservations SET charges = ? WHERE id = ?", arguments: [Self.oldLedgerCharges, reservation.id])
            }
            try db.close()
            let reopened = try SQLiteTokenLedger(path: path, holder: "a")
            #expect(try await reopened.releaseHeld() == 1)
            #expect(try await reopened.windowTotals(Self.charges).values.map(\.reserved) == [0, 0])
        }
    }

    @Test func aSpoolFileWrittenByTheOldBuildIsReplayed() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir + "/spool.jsonl"
            try (Self.oldSpoolFull + "\n" + Self.oldSpoolBare + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            let spool = UsageSpool(path: path)
            #expect(try await spool.pending() == [Self.fullRecord, Self.bareRecord])
            try await spool.append(Self.awkwardRecord)
            #expect(try await spool.pending() == [Self.fullRecord, Self.bareRecord, Self.awkwardRecord])
        }
    }
}

/// The types as they were `Codable` when Foundation wrote the ledger's JSON (same property names
/// and types, so synthesized `Codable` gives the same shapes): the reader of older builds.
private enum OldShape {
    enum Subject: Codable {
        case team(String)
        case identity(String)
    }

    struct Period: Codable {
        var start: Int64
        var end: Int64
    }

    struct Charge: Codable {
        var subject: Subject
        var window: String
        var period: Period
        var limit: Int

        var current: BudgetCharge {
            let subject: BudgetSubject = switch self.subject {
            case .team(let name): .team(name)
            case .identity(let name): .identity(name)
            }
            return BudgetCharge(subject: subject, window: window, period: BudgetPeriod(start: period.start, end: period.end), limit: limit)
        }
    }

    struct Usage: Codable {
        var input: Int
        var output: Int
        var cacheRead: Int
        var cacheCreation: Int
        var estimated: Bool
    }

    struct Record: Codable {
        var id: String
        var timestampMilliseconds: Int64
        var identity: String?
        var team: String?
        var provider: String
        var model: String
        var usage: Usage
        var charges: [Charge]

        var current: UsageRecord {
            UsageRecord(id: id, timestampMilliseconds: timestampMilliseconds, identity: identity, team: team, provider: provider, model: model,
                        usage: TokenUsage(input: usage.input, output: usage.output, cacheRead: usage.cacheRead,
                                          cacheCreation: usage.cacheCreation, estimated: usage.estimated),
                        charges: charges.map(\.current))
        }
    }
}
