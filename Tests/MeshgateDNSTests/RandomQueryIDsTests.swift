import Testing

@testable import MeshgateDNS

@Suite struct RandomQueryIDsTests {
    @Test func idsKeepComingAcrossRefillsAndLookRandom() {
        var ids = RandomQueryIDs()
        let drawn = (0..<1000).map { _ in ids.next() }
        // 1,000 draws from 65,536 values repeat ~8 times on average; a stuck or zeroed buffer
        // (or one refilled with the same bytes) would repeat hundreds of times.
        #expect(Set(drawn).count > 950)
        #expect(Set(drawn[0..<128]) != Set(drawn[128..<256]))
    }
}
