import Foundation
import MeshgateCore
import NIOCore
import NIOHTTP1
import Testing
@testable import MeshgateProxy

@Suite struct TransparentClassifierTests {
    static let destination = try! SocketAddress(ipAddress: "10.77.2.2", port: 80)

    static func classify(_ uri: String, host: String?) -> ProxyRequestKind {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: uri)
        if let host { head.headers.add(name: "Host", value: host) }
        return ProxyRequestClassifier.classify(head, mode: .transparentHTTP(destination: destination, fallbackHost: "10.77.2.2"), configuration: ProxyConfiguration())
    }

    @Test func theHostHeaderNamesTheRequestButTheDialledAddressAndPortAreUsed() {
        guard case .forward(let target) = Self.classify("/x?y=1", host: "allowed.test:8080") else {
            Issue.record("expected forward")
            return
        }
        #expect(target.origin == HostPort(host: "allowed.test", port: 80), "the port is the one dialled")
        #expect(target.path == "/x?y=1")
        #expect(target.pinnedAddress == Self.destination)
    }

    @Test func withoutHostTheFallbackNameApplies() {
        guard case .forward(let target) = Self.classify("/", host: nil) else {
            Issue.record("expected forward")
            return
        }
        #expect(target.origin.host == "10.77.2.2")
    }

    @Test func absoluteFormKeepsThePinnedAddressAndConnectIsRefused() {
        guard case .forward(let target) = Self.classify("http://elsewhere.test/p", host: "x") else {
            Issue.record("expected forward")
            return
        }
        #expect(target.origin.host == "elsewhere.test")
        #expect(target.pinnedAddress == Self.destination, "naming another host does not move the connection")
        let connect = ProxyRequestClassifier.classify(HTTPRequestHead(version: .http1_1, method: .CONNECT, uri: "a:443"),
                                                      mode: .transparentHTTP(destination: Self.destination, fallbackHost: "a"),
                                                      configuration: ProxyConfiguration())
        guard case .reject(let status, _) = connect else {
            Issue.record("expected reject")
            return
        }
        #expect(status == .badRequest)
    }

    @Test func interceptedTransparentRequestsArePinned() {
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")
        let kind = ProxyRequestClassifier.classify(head, mode: .intercepted(authority: HostPort(host: "allowed.test", port: 443), serverName: "allowed.test", pinned: Self.destination), configuration: ProxyConfiguration())
        guard case .forward(let target) = kind else {
            Issue.record("expected forward")
            return
        }
        #expect(target.pinnedAddress == Self.destination)
        #expect(target.serverName == "allowed.test")
    }
}

@Suite struct SocketOwnerTests {
    /// A fake /proc with one client socket of ours (its directories are owned by us, as the owner
    /// filter expects) held by pid 4242 in a systemd unit's cgroup.
    static func fakeProc() throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("meshgate-proc-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root + "/net", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/4242/fd", withIntermediateDirectories: true)
        let header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        // 127.0.0.1:51000 -> 10.77.2.2:443, ESTABLISHED (01), inode 99887; and a LISTEN socket on the same port.
        try (header
            + "   0: 0100007F:C738 02024D0A:01BB 01 00000000:00000000 00:00000000 00000000  \(getuid())        0 99887 1 0000000000000000 20 4 30 10 -1\n"
            + "   1: 0100007F:C738 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11111 1 0000000000000000 20 4 30 10 -1\n")
            .write(toFile: root + "/net/tcp", atomically: true, encoding: .utf8)
        try header.write(toFile: root + "/net/tcp6", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: root + "/4242/fd/7", withDestinationPath: "socket:[99887]")
        try "0::/system.slice/ci-runner.service\n".write(toFile: root + "/4242/cgroup", atomically: true, encoding: .utf8)
        return root
    }

    @Test func findsTheOwnerAndItsCgroup() throws {
        let root = try Self.fakeProc()
        let owner = SocketOwner.lookup(address: [127, 0, 0, 1], port: 51000, withCgroup: true, procRoot: root)
        #expect(owner == LocalWorkload(uid: getuid(), cgroup: "/system.slice/ci-runner.service"))
        #expect(SocketOwner.lookup(address: [127, 0, 0, 1], port: 51001, withCgroup: true, procRoot: root) == nil, "forwarded traffic has no local socket")
    }

    @Test func addressesAreWrittenAsProcDoes() {
        #expect(SocketOwner.hex4([127, 0, 0, 1]) == "0100007F")
        #expect(SocketOwner.hexPort(443) == "01BB")
        #expect(SocketOwner.hex16(SocketOwner.mapped([10, 77, 2, 2])) == "0000000000000000FFFF0000" + "02024D0A")
    }

    @Test func theRealProcFindsOurOwnSocket() throws {
        // A real loopback connection made by this process: its owner is our uid.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener); close(client) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = bind(listener, $0, length); _ = getsockname(listener, $0, &length) }
        }
        listen(listener, 1)
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, length) }
        }
        #expect(connected == 0)
        var local = sockaddr_in()
        var localLength = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &local) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(client, $0, &localLength) }
        }
        let owner = SocketOwner.lookup(address: [127, 0, 0, 1], port: Int(UInt16(bigEndian: local.sin_port)), withCgroup: true)
        #expect(owner?.uid == getuid())
        #expect(owner?.cgroup?.hasPrefix("/") == true)
    }
}
