import Dispatch
import Foundation
import NIOCore
import NIOEmbedded
import NIOPosix
import Testing

@testable import MeshgateTLS

@Suite struct LeafCertificateCacheTests {
    /// A settable clock.
    final class ManualClock: @unchecked Sendable {
        private let lock = NSLock()
        private var current: Date
        init(_ start: Date) { current = start }
        var now: Date {
            get { lock.withLock { current } }
            set { lock.withLock { current = newValue } }
        }
    }

    static func makeCache(
        capacity: Int = 10_000,
        clock: ManualClock? = nil,
        beforeMint: (@Sendable (String) -> Void)? = nil
    ) throws -> LeafCertificateCache {
        let minter = try LeafMinter(authority: Fixtures.ecdsaCA)
        let now: @Sendable () -> Date
        if let clock {
            now = { clock.now }
        } else {
            now = { Date() }
        }
        return LeafCertificateCache(minter: minter, capacity: capacity, now: now, beforeMint: beforeMint)
    }

    @Test func hitsDoNotMintAgainAndNamesAreNormalised() throws {
        let cache = try Self.makeCache()
        let loop = EmbeddedEventLoop()
        let first = try cache.leaf(for: "example.com", on: loop).wait()
        let second = try cache.leaf(for: "EXAMPLE.com.", on: loop).wait()
        #expect(first.certificate == second.certificate)
        #expect(cache.mintCount == 1)
        #expect(cache.count == 1)
    }

    @Test func evictsTheLeastRecentlyUsedHostAtCapacity() throws {
        let cache = try Self.makeCache(capacity: 2)
        let loop = EmbeddedEventLoop()
        func fetch(_ host: String) throws -> MintedLeaf { try cache.leaf(for: host, on: loop).wait() }

        let a = try fetch("a.example")
        _ = try fetch("b.example")
        _ = try fetch("a.example")  // a is now the most recent
        _ = try fetch("c.example")  // evicts b
        #expect(cache.count == 2)
        #expect(cache.mintCount == 3)

        #expect(try fetch("a.example").certificate == a.certificate)
        #expect(cache.mintCount == 3)
        _ = try fetch("b.example")  // was evicted: minted again
        #expect(cache.mintCount == 4)
        #expect(cache.count == 2)
    }

    @Test func fiftyConcurrentRequestsFromSeveralLoopsMintOnce() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 4)
        let cache = try Self.makeCache()
        let loops = Array(group.makeIterator())
        let futures = (0..<50).map { i in
            let loop = loops[i % loops.count]
            return loop.flatSubmit { cache.leaf(for: i.isMultiple(of: 2) ? "example.com" : "Example.com", on: loop) }
        }
        let leaves = try await EventLoopFuture.whenAllSucceed(futures, on: loops[0]).get()
        try await group.shutdownGracefully()

        #expect(cache.mintCount == 1)
        #expect(leaves.count == 50)
        #expect(Set(leaves.map(\.certificate.serialNumber)).count == 1)
    }

    @Test func requestsArrivingDuringAMintJoinIt() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 4)
        let gate = DispatchSemaphore(value: 0)
        let cache = try Self.makeCache(beforeMint: { _ in gate.wait() })
        let loops = Array(group.makeIterator())

        // The first request holds its loop inside the mint until the gate opens.
        let first = loops[0].flatSubmit { cache.leaf(for: "example.com", on: loops[0]) }
        var spins = 0
        while cache.mintCount == 0, spins < 10_000 {
            try await Task.sleep(for: .milliseconds(1))
            spins += 1
        }
        var futures = [first]
        for i in 1..<50 {
            let loop = loops[1 + i % 3]
            futures.append(loop.flatSubmit { cache.leaf(for: "example.com", on: loop) })
        }
        spins = 0
        while cache.waiterCount(for: "example.com") < 49, spins < 10_000 {
            try await Task.sleep(for: .milliseconds(1))
            spins += 1
        }
        #expect(cache.waiterCount(for: "example.com") == 49)
        gate.signal()

        let leaves = try await EventLoopFuture.whenAllSucceed(futures, on: loops[1]).get()
        try await group.shutdownGracefully()
        #expect(cache.mintCount == 1)
        #expect(Set(leaves.map(\.certificate.serialNumber)).count == 1)
        #expect(cache.waiterCount(for: "example.com") == 0)
    }

    @Test func aFailedMintFailsEveryoneAndIsNotCached() throws {
        let clock = ManualClock(Fixtures.ecdsaCA.certificate.notValidAfter + 60)
        let cache = try Self.makeCache(clock: clock)
        let loop = EmbeddedEventLoop()
        #expect(throws: LeafMintError.self) { try cache.leaf(for: "example.com", on: loop).wait() }
        #expect(cache.count == 0)
        #expect(throws: LeafMintError.self) { try cache.leaf(for: "example.com", on: loop).wait() }
        #expect(cache.mintCount == 2)
    }

    @Test func invalidNamesFailWithoutMinting() throws {
        let cache = try Self.makeCache()
        #expect(throws: LeafMintError.self) { try cache.leaf(for: "bad name", on: EmbeddedEventLoop()).wait() }
        #expect(cache.mintCount == 0)
    }

    @Test func aLeafNearExpiryIsReminted() throws {
        let start = Date()
        let clock = ManualClock(start)
        let cache = try Self.makeCache(clock: clock)
        let loop = EmbeddedEventLoop()
        let first = try cache.leaf(for: "example.com", on: loop).wait()

        clock.now = start + 5 * 86_400  // two days left of seven: still served
        #expect(try cache.leaf(for: "example.com", on: loop).wait().certificate == first.certificate)
        #expect(cache.mintCount == 1)

        clock.now = start + 6.5 * 86_400  // half a day left: renewed
        let renewed = try cache.leaf(for: "example.com", on: loop).wait()
        #expect(renewed.certificate != first.certificate)
        #expect(renewed.certificate.notValidAfter > clock.now + 6 * 86_400)
        #expect(cache.mintCount == 2)
        #expect(cache.count == 1)
    }
}
