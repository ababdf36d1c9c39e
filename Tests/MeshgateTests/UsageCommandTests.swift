import Foundation
@testable import MeshgateAI
import Testing
@testable import Meshgate

/// `meshgate usage` reading a SQLite ledger directly (the binary is exercised end to end in
/// EndToEndTests/AIUsageCommandTests).
@Suite struct UsageCommandTests {
    @Test func theTableShowsTeamsThenIdentities() {
        let report = UsageReport(teams: [
            UsageReport.Team(team: "platform", used: 1234, limit: 2_000_000, reserved: 0, remaining: 1_998_766, window: "1d", resetsAt: 1_772_409_600),
            UsageReport.Team(team: "research", used: 99, limit: nil, reserved: 0, remaining: nil, window: "month", resetsAt: 1_775_001_600),
        ], identities: [
            UsageReport.Identity(identity: "agent-build-7", team: "platform", used: 1234, limit: 5000, remaining: 3766, window: "1d", resetsAt: 1_772_409_600),
            UsageReport.Identity(identity: "stray", team: nil, used: 5, limit: nil, remaining: nil, window: "month", resetsAt: 1_775_001_600),
        ])
        #expect(UsageCommand.table(report) == """
            TEAM      USED  LIMIT    REMAINING  WINDOW  RESETS AT
            platform  1234  2000000  1998766    1d      2026-03-02T00:00:00Z
            research  99    -        -          month   2026-04-01T00:00:00Z

            IDENTITY       TEAM      USED  LIMIT  REMAINING  WINDOW  RESETS AT
            agent-build-7  platform  1234  5000   3766       1d      2026-03-02T00:00:00Z
            stray          -         5     -      -          month   2026-04-01T00:00:00Z

            """)
    }

    @Test func anEmptyReportSaysSo() {
        #expect(UsageCommand.table(UsageReport(teams: [], identities: [])) == "no team usage or budgets\n\nno identity usage\n")
    }

    @Test func aLedgerThatDoesNotExistYetReadsAsEmptyAndIsNotCreated() async throws {
        let dir = try AIRuntimeTests.directory()
        let configuration = try AIRuntimeTests.configuration(dir, ai: "ai:\n  budgets:\n    - { team: platform, tokens: 500, window: 1h }\n")
        let report = try await UsageCommand.report(configuration: configuration, team: nil, now: 1_772_366_400)
        #expect(report.json == #"{"teams":[{"team":"platform","used":0,"limit":500,"remaining":500,"window":"1h","resets_at":"2026-03-01T13:00:00Z"}],"identities":[]}"#)
        #expect(!FileManager.default.fileExists(atPath: dir + "/state/ledger.db"))
    }

    @Test func anUnreadableLedgerNamesTheFileAndTheFix() async throws {
        let dir = try AIRuntimeTests.directory()
        try Data("this is not a database, just text".utf8).write(to: URL(fileURLWithPath: dir + "/ledger.db"))
        let configuration = try AIRuntimeTests.configuration(dir, ai: "ai:\n  ledger: sqlite:ledger.db\n")
        do {
            _ = try await UsageCommand.report(configuration: configuration, team: nil)
            Issue.record("a file that is not a database cannot be read")
        } catch let error as UsageCommand.LedgerError {
            #expect(error.description.hasPrefix("cannot read token usage from the sqlite ledger \(dir)/ledger.db: "), "\(error)")
            #expect(error.description.contains("readable"), "\(error)")
            #expect(!error.description.contains("\n"))
        }
    }
}
