import MeshgateCore
import NIOCore
import NIOEmbedded
import Testing
@testable import MeshgateProxy

@Suite struct UpstreamPoolTests {
    static func connection(_ host: String, loop: EmbeddedEventLoop) throws -> UpstreamConnection {
        let channel = EmbeddedChannel(loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 443)).wait()
        return UpstreamConnection(channel: channel, key: UpstreamKey(scheme: "https", origin: HostPort(host: host, port: 443), serverName: host))
    }

    @Test func idleConnectionsAcrossOriginsAreCappedOldestFirst() throws {
        let loop = EmbeddedEventLoop()
        let pool = UpstreamPool(eventLoop: loop, maxIdlePerKey: 8, maxIdleTotal: 3)
        let connections = try (1...5).map { try Self.connection("h\($0).test", loop: loop) }
        for connection in connections { pool.release(connection) }
        #expect(pool.idleCount == 3, "a sweep over many hosts keeps at most the cap")
        #expect(!connections[0].channel.isActive && !connections[1].channel.isActive, "the two oldest were closed")
        #expect(pool.take(connections[0].key) == nil)
        #expect(pool.take(connections[4].key) === connections[4], "the newest is still pooled")
        #expect(pool.idleCount == 2)
        pool.closeAll()
        #expect(pool.idleCount == 0)
        #expect(!connections[2].channel.isActive)
    }

    @Test func thePerOriginLimitStillHolds() throws {
        let loop = EmbeddedEventLoop()
        let pool = UpstreamPool(eventLoop: loop, maxIdlePerKey: 2, maxIdleTotal: 100)
        let connections = try (1...3).map { _ in try Self.connection("same.test", loop: loop) }
        for connection in connections { pool.release(connection) }
        #expect(pool.idleCount == 2)
        #expect(!connections[2].channel.isActive, "over the per-origin limit: closed instead of pooled")
    }
}
