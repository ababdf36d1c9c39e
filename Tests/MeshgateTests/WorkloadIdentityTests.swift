import Meshgate
import MeshgateCore
import NIOCore
import Testing

@Suite struct WorkloadIdentityTests {
    static let resolver = ConfiguredIdentityResolver([
        .init(name: "ci-runner", team: "platform", uid: 1001),
        .init(name: "agents", team: "ai", cgroup: "/system.slice/agents.service"),
        .init(name: "both", team: "x", uid: 2000, cgroup: "/user.slice"),
        .init(name: "subnet", team: "infra", cidrs: [CIDR("10.20.0.0/16")!]),
    ])

    @Test(arguments: [
        (UInt32(1001), "/system.slice/other.service", "ci-runner"),
        (UInt32(5), "/system.slice/agents.service", "agents"),
        (UInt32(5), "/system.slice/agents.service/worker-3", "agents"),
        (UInt32(5), "/system.slice/agents.service-evil", nil),
        (UInt32(2000), "/user.slice/user-2000.slice", "both"),
        (UInt32(2001), "/user.slice/user-2001.slice", nil),
    ] as [(UInt32, String, String?)])
    func workloads(uid: UInt32, cgroup: String, expected: String?) throws {
        let client = try SocketAddress(ipAddress: "127.0.0.1", port: 5000)
        let result = Self.resolver.identify(client: client, workload: LocalWorkload(uid: uid, cgroup: cgroup))
        if let expected {
            let teams = ["ci-runner": "platform", "agents": "ai", "both": "x"]
            #expect(result == .identified(Identity(name: expected, team: teams[expected])))
        } else {
            #expect(result == .anonymous)
        }
    }

    @Test func forwardedTrafficFallsBackToTheSourceAddress() throws {
        let client = try SocketAddress(ipAddress: "10.20.3.4", port: 5000)
        #expect(Self.resolver.identify(client: client, workload: nil) == .identified(Identity(name: "subnet", team: "infra")))
        #expect(Self.resolver.usesWorkloads)
    }
}
