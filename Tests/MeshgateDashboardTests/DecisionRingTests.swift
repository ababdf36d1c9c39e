import MeshgateCore
@testable import MeshgateDashboard
import Testing

@Suite struct DecisionRingTests {
    func ring(_ count: Int, capacity: Int) -> DecisionRing {
        var ring = DecisionRing(capacity: capacity)
        for i in 1...count { ring.append(Fixture.dns(Int64(i), name: "n\(i).example")) }
        return ring
    }

    @Test func keepsTheNewestWhenFullAndNumbersEveryEvent() {
        let r = ring(12, capacity: 5)
        #expect(r.count == 5)
        #expect(r.oldestSequence == 8)
        #expect(r.nextSequence == 13)
        #expect(r.events(after: 0, limit: 100).map(\.sequence) == [8, 9, 10, 11, 12])
        #expect(r.events(after: 0, limit: 100).map(\.event.timestampMillis) == [8, 9, 10, 11, 12])
        #expect(r.event(7) == nil, "overwritten")
        #expect(r.event(9)?.timestampMillis == 9)
        #expect(r.event(13) == nil, "not yet")
    }

    @Test func aReaderGetsOnlyWhatCameAfterItsCursorAndTheNewestWhenLimited() {
        let r = ring(10, capacity: 100)
        #expect(r.events(after: 7, limit: 100).map(\.sequence) == [8, 9, 10])
        #expect(r.events(after: 10, limit: 100).isEmpty)
        #expect(r.events(after: 0, limit: 3).map(\.sequence) == [8, 9, 10], "the newest three, oldest first")
        #expect(r.events(after: 0, limit: 0).isEmpty)
    }

    @Test func filtersWalkTheWholeRing() {
        var r = DecisionRing(capacity: 50)
        for i in 1...40 { r.append(i % 10 == 0 ? Fixture.http(Int64(i), action: .block) : Fixture.dns(Int64(i))) }
        let blocked = r.events(after: 0, limit: 10) { $0.action == .block }
        #expect(blocked.map(\.sequence) == [10, 20, 30, 40])
    }

    @Test func anEmptyRingAnswersNothing() {
        let r = DecisionRing(capacity: 3)
        #expect(r.events(after: 0, limit: 10).isEmpty)
        #expect(r.event(1) == nil)
        #expect(r.oldestSequence == 1)
    }
}

@Suite struct DecisionFilterTests {
    @Test func eachFilterNarrowsAndTextMatchesAnyCaseAsASubstring() {
        let blocked = Fixture.http(host: "api.githubcopilot.com", action: .block, rule: "shadow-mcp-host", identity: "agent-7", team: "Platform")
        let allowed = Fixture.dns(name: "example.com")
        #expect(DecisionFilter().accepts(blocked) && DecisionFilter().isEmpty)
        #expect(DecisionFilter(action: "block").accepts(blocked))
        #expect(!DecisionFilter(action: "block").accepts(allowed))
        #expect(DecisionFilter(event: "dns").accepts(allowed) && !DecisionFilter(event: "dns").accepts(blocked))
        #expect(DecisionFilter(host: "GitHub").accepts(blocked))
        #expect(DecisionFilter(host: "example").accepts(allowed), "a DNS line's name is its host")
        #expect(DecisionFilter(who: "platform").accepts(blocked), "team matches")
        #expect(DecisionFilter(who: "agent-7").accepts(blocked))
        #expect(!DecisionFilter(who: "agent-7").accepts(allowed), "no identity")
        #expect(DecisionFilter(rule: "shadow").accepts(blocked) && !DecisionFilter(rule: "shadow").accepts(allowed))
        #expect(!DecisionFilter(event: "http", action: "allow").accepts(blocked), "all set filters must match")
        #expect(DecisionFilter(event: "", action: "").isEmpty, "empty query values are no filter")
    }
}

@Suite struct DecisionRollupTests {
    @Test func countsByEventAndActionAndRuleHitsPerRuleset() {
        var rollup = DecisionRollup()
        rollup.add(Fixture.http(action: .block, rule: "r1", ruleset: "shadow-mcp"))
        rollup.add(Fixture.http(action: .block, rule: "r1", ruleset: "shadow-mcp"))
        rollup.add(Fixture.http(action: .log, rule: "r1", ruleset: "other"))
        rollup.add(Fixture.dns())
        #expect(rollup.total == 4)
        #expect(rollup.byEventAndAction["http"] == ["block": 2, "log": 1])
        #expect(rollup.byEventAndAction["dns"] == ["allow": 1])
        #expect(rollup.hits(ruleset: "shadow-mcp", rule: "r1") == 2)
        #expect(rollup.hits(ruleset: "other", rule: "r1") == 1)
        #expect(rollup.hits(ruleset: "shadow-mcp", rule: "r2") == 0)
    }

    @Test func remembersTheLatestRulesetChangesWithWhoAsked() {
        var rollup = DecisionRollup()
        for i in 0..<25 {
            rollup.add(.rulesetChange(timestampMillis: Int64(i), change: "update", ruleset: "shadow-mcp", oldVersion: "v\(i)", newVersion: "v\(i + 1)",
                                      requestedBy: "rules update from 127.0.0.1", file: "/state/rulesets/shadow-mcp.yaml"))
        }
        #expect(rollup.changes.count == DecisionRollup.maxChanges)
        #expect(rollup.changes.last == DecisionRollup.RulesetChange(timestampMillis: 24, ruleset: "shadow-mcp", change: "update", oldVersion: "v24",
                                                                    newVersion: "v25", requestedBy: "rules update from 127.0.0.1",
                                                                    file: "/state/rulesets/shadow-mcp.yaml"))
        #expect(rollup.ruleHits.isEmpty, "a ruleset change is not a rule hit")
    }

    @Test func ruleKeysAreBounded() {
        var rollup = DecisionRollup()
        for i in 0..<(DecisionRollup.maxRules + 10) { rollup.add(Fixture.http(action: .log, rule: "rule-\(i)", ruleset: "generated")) }
        #expect(rollup.ruleHits.count == DecisionRollup.maxRules)
        #expect(rollup.droppedRuleKeys == 10)
        rollup.add(Fixture.http(action: .log, rule: "rule-0", ruleset: "generated"))
        #expect(rollup.hits(ruleset: "generated", rule: "rule-0") == 2, "known rules keep counting")
    }
}

@Suite struct DecisionRingBatchTests {
    @Test func aBatchLargerThanTheRingKeepsItsTailAndCountsTheRest() {
        var ring = DecisionRing(capacity: 4)
        ring.append(Fixture.dns(0))
        ring.append(contentsOf: (1...10).map { Fixture.dns(Int64($0)) }[...])
        #expect(ring.nextSequence == 12)
        #expect(ring.events(after: 0, limit: 100).map(\.sequence) == [8, 9, 10, 11])
        #expect(ring.events(after: 0, limit: 100).map(\.event.timestampMillis) == [7, 8, 9, 10])
        ring.append(contentsOf: [Fixture.dns(11), Fixture.dns(12)][...])
        #expect(ring.events(after: 9, limit: 100).map(\.event.timestampMillis) == [9, 10, 11, 12])
    }

    @Test func batchesOfAnySizeShowTheLastEventsInOrder() {
        var generator = SystemRandomNumberGenerator()
        for capacity in [1, 2, 5, 64] {
            var ring = DecisionRing(capacity: capacity)
            var all: [Int64] = []
            for _ in 0..<200 {
                let size = Int.random(in: 0...(capacity * 2 + 1), using: &generator)
                let events = (0..<size).map { Fixture.dns(Int64(all.count + $0)) }
                all += events.map(\.timestampMillis)
                if size == 1, Bool.random(using: &generator) { ring.append(events[0]) } else { ring.append(contentsOf: events[...]) }
                #expect(ring.nextSequence == UInt64(all.count + 1))
                #expect(ring.events(after: 0, limit: .max).map(\.event.timestampMillis) == Array(all.suffix(capacity)), "capacity \(capacity)")
                if let last = all.last { #expect(ring.event(UInt64(all.count))?.timestampMillis == last) }
                let after = UInt64(max(0, all.count - 3))
                #expect(ring.events(after: after, limit: 2).map(\.sequence) == Array(max(after + 1, ring.oldestSequence)..<ring.nextSequence).suffix(2))
            }
        }
    }
}
