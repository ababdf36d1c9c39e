import Meshgate
import Testing

@Suite("inspection.undecodable")
struct InspectionUndecodableConfigurationTests {
    @Test func defaultsToBlock() throws {
        let configuration = try MeshgateConfiguration.parse(yaml: "state_dir: ./state\n", path: "conf/meshgate.yaml")
        #expect(configuration.inspection.undecodable == .block)
        let explicit = try MeshgateConfiguration.parse(yaml: "inspection:\n  max_body_bytes: 4096\n", path: "conf/meshgate.yaml")
        #expect(explicit.inspection.undecodable == .block)
    }

    @Test(arguments: [("block", MeshgateConfiguration.Inspection.Undecodable.block), ("allow", .allow)])
    func parsesEachChoice(value: String, expected: MeshgateConfiguration.Inspection.Undecodable) throws {
        let configuration = try MeshgateConfiguration.parse(yaml: "inspection:\n  undecodable: \(value)\n", path: "conf/meshgate.yaml")
        #expect(configuration.inspection.undecodable == expected)
    }

    @Test func reachesTheProxy() throws {
        let allowing = try MeshgateConfiguration.parse(yaml: "inspection:\n  undecodable: allow\n", path: "conf/meshgate.yaml")
        #expect(MeshgateServer.proxyConfiguration(from: allowing).undecodable == .allow)
        let blocking = try MeshgateConfiguration.parse(yaml: "state_dir: ./state\n", path: "conf/meshgate.yaml")
        #expect(MeshgateServer.proxyConfiguration(from: blocking).undecodable == .block)
    }

    @Test func anUnknownChoiceIsNamedWithTheChoices() throws {
        let error = try #require(throws: ConfigurationError.self) {
            try MeshgateConfiguration.parse(yaml: "inspection:\n  undecodable: inspect\n", path: "conf/meshgate.yaml")
        }
        #expect(error.keyPath == "inspection.undecodable", "\(error)")
        #expect(error.line == 2)
        #expect(error.description.contains("invalid value 'inspect'") && error.description.contains("block, allow"), "\(error)")
    }
}
