import Meshgate
import Testing

@Suite("Non-loopback binds")
struct NonLoopbackBindTests {
    @Test("are refused without allow_clients or identities", arguments: [
        ("explicit", "0.0.0.0:3128"),
        ("explicit", "\"[::]:3128\""),
        ("transparent", "\":3129\""),
        ("ai", "10.1.2.3:8088"),
        ("ai", "gateway.internal:8088"),
    ])
    func refused(listener: String, address: String) throws {
        let yaml = """
            state_dir: ./state
            listeners:
              admin: 127.0.0.1:9090
              \(listener): \(address)
            """
        let error = try #require(throws: ConfigurationError.self) {
            try MeshgateConfiguration.parse(yaml: yaml, path: "meshgate.yaml")
        }
        #expect(error.line == 4)
        #expect(error.keyPath == "listeners.\(listener)")
        #expect(error.description.contains("other machines can reach"))
        #expect(error.fix?.contains("access.allow_clients") == true)
        #expect(error.fix?.contains("bind 127.0.0.1") == true)
    }

    @Test("are accepted once the file says who may connect", arguments: [
        "access:\n  allow_clients: [10.0.0.0/8]\n",
        "access:\n  allow_clients: [127.0.0.0/8]\n",
        "identities:\n  - { name: nodes, cidrs: [10.0.0.0/8] }\n",
    ])
    func accepted(extra: String) throws {
        let c = try MeshgateConfiguration.parse(yaml: "listeners:\n  explicit: 0.0.0.0:3128\n" + extra, path: "m.yaml")
        #expect(c.listeners.explicit?.isWildcard == true)
    }

    @Test("loopback binds and the admin and DNS listeners are not covered by the rule", arguments: [
        "listeners:\n  explicit: localhost:3128\n",
        "listeners:\n  explicit: 127.0.0.2:3128\n",
        "listeners:\n  explicit: \"[::1]:3128\"\n",
        "listeners:\n  admin: 0.0.0.0:9090\n",
        "listeners:\n  dns: 0.0.0.0:53\ndns:\n  upstreams: [1.1.1.1]\n",
    ])
    func notCovered(yaml: String) throws {
        _ = try MeshgateConfiguration.parse(yaml: yaml, path: "m.yaml")
    }
}
