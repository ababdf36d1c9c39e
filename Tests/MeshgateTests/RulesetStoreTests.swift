import Foundation
import Meshgate
import Testing

@Suite struct RulesetVersionTests {
    @Test(arguments: [
        ("2026.11.3", "2026.11.24"),
        ("1.9", "1.10"),
        ("1.0", "1.0.1"),
        ("2026.11.24", "2026.11.24-2"),
        ("1.0-rc1", "1.0.1"),
        ("007", "8"),
        ("a", "b"),
    ])
    func older(_ old: String, _ new: String) {
        #expect(RulesetVersion.isOlder(old, than: new))
        #expect(!RulesetVersion.isOlder(new, than: old))
        #expect(RulesetVersion.compare(new, old) == 1)
    }

    /// Pre-releases (`-` and a letter) sort before their release; revisions (`-` and a digit) after.
    @Test(arguments: [
        ("2026.02.01-rc1", "2026.02.01"),
        ("2026.02.01", "2026.02.02-rc1"),
        ("2026.02.01-rc1", "2026.02.02-rc1"),
        ("2026.02.01-rc2", "2026.02.01-rc10"),
        ("2026.02.01-alpha", "2026.02.01-beta"),
        ("2026.02.01-beta.2", "2026.02.01-rc.1"),
        ("2026.02.01-rc1", "2026.02.01-rc1.1"),
        ("2026.02.01-rc9", "2026.02.01-2"),
        ("2026.02.01", "2026.02.01-2"),
        ("2026.02.01-2-rc1", "2026.02.01-2"),
        ("1.0.0-rc.1", "1.0.0"),
        ("1.9-rc1", "1.10-rc1"),
        ("2026.01.31", "2026.02.01-rc1"),
    ])
    func preReleasesComeBeforeTheirRelease(_ old: String, _ new: String) {
        #expect(RulesetVersion.compare(old, new) == -1)
        #expect(RulesetVersion.compare(new, old) == 1)
    }

    @Test func preReleaseIsRecognised() {
        #expect(RulesetVersion.isPreRelease("2026.02.01-rc1"))
        #expect(RulesetVersion.isPreRelease("1.0.0-beta.2"))
        #expect(!RulesetVersion.isPreRelease("2026.02.01"))
        #expect(!RulesetVersion.isPreRelease("2026.02.01-2"))
        #expect(RulesetVersion.compare("2026.02.01-rc01", "2026.02.01-rc1") == 0)
    }

    @Test func equalVersionsAreNotOlder() {
        #expect(RulesetVersion.compare("2026.11.24", "2026.11.24") == 0)
        #expect(RulesetVersion.compare("01.2", "1.2") == 0)
        #expect(!RulesetVersion.isOlder("3", than: "3"))
    }
}

@Suite struct RulesetStoreTests {
    static func ruleset(_ version: String, name: String = "fleet") -> [UInt8] {
        Array("ruleset: \(name)\nversion: \"\(version)\"\nrules: []\n".utf8)
    }

    static func makeStore(keep: Int = 5) throws -> (RulesetStore, String) {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("meshgate-store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let configured = state + "/fleet.yaml"
        try Data(ruleset("1")).write(to: URL(fileURLWithPath: configured))
        return (RulesetStore(stateDirectory: state, keep: keep), configured)
    }

    @Test func installedRulesetsReplaceTheConfiguredFileOfTheSameName() throws {
        let (store, configured) = try Self.makeStore()
        #expect(try store.effectiveRulesets(configured: [configured]).map(\.version) == ["1"])
        try store.install(name: "fleet", version: "2", bytes: Self.ruleset("2")).commit()
        try store.install(name: "extra", version: "1", bytes: Self.ruleset("1", name: "extra")).commit()
        let effective = try store.effectiveRulesets(configured: [configured])
        #expect(effective.map { "\($0.name)@\($0.version)" } == ["fleet@2", "extra@1"])
        #expect(effective[0].file == store.currentPath("fleet"))
    }

    @Test func undoRestoresExactlyWhatWasThere() throws {
        let (store, configured) = try Self.makeStore()
        // First install over nothing: undo removes it.
        try store.install(name: "fleet", version: "2", bytes: Self.ruleset("2")).undo()
        #expect(!FileManager.default.fileExists(atPath: store.currentPath("fleet")))
        #expect(try store.effectiveRulesets(configured: [configured]).map(\.version) == ["1"])

        try store.install(name: "fleet", version: "2", bytes: Self.ruleset("2")).commit()
        try store.install(name: "fleet", version: "3", bytes: Self.ruleset("3")).undo()
        #expect(try store.installed().map(\.version) == ["2"])
        #expect(store.history("fleet").isEmpty, "the archive made for 3 went back into place")
    }

    @Test func historyKeepsTheNewestVersionsAndRollbackWalksBack() throws {
        let (store, configured) = try Self.makeStore(keep: 2)
        for version in ["2", "3", "4", "5"] {
            try store.install(name: "fleet", version: version, bytes: Self.ruleset(version)).commit()
        }
        #expect(store.history("fleet").map(\.version) == ["4", "3"])

        let first = try store.rollback(name: "fleet")
        #expect(first.from == "5" && first.to == "4")
        first.change.commit()
        #expect(try store.installed().map(\.version) == ["4"])
        #expect(store.history("fleet").map(\.version) == ["3"])

        // A rollback that is undone leaves history alone.
        try store.rollback(name: "fleet").change.undo()
        #expect(try store.installed().map(\.version) == ["4"])
        #expect(store.history("fleet").map(\.version) == ["3"])

        try store.rollback(name: "fleet").change.commit()
        let last = try store.rollback(name: "fleet")
        #expect(last.to == nil, "no history left: the configured file applies again")
        last.change.commit()
        #expect(try store.effectiveRulesets(configured: [configured]).map(\.version) == ["1"])
        #expect(throws: StoreError.self) { try store.rollback(name: "fleet") }
    }

    @Test(arguments: ["../escape", "a/b", ".hidden", "", "sp ace"])
    func unsafeNamesAreRefused(_ name: String) throws {
        let (store, _) = try Self.makeStore()
        #expect(throws: StoreError.self) { try store.install(name: name, version: "1", bytes: Self.ruleset("1")) }
    }

    @Test func aSecondLockHolderIsToldSomeoneElseIsUpdating() throws {
        let (store, _) = try Self.makeStore()
        let held = try store.lock()
        #expect(throws: StoreError.self) { _ = try store.lock() }
        withExtendedLifetime(held) {}
    }
}

