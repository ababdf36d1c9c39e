import Meshgate
import MeshgateCore
import Testing

@Suite("audit.query_keys")
struct AuditQueryKeysConfigurationTests {
    @Test func defaultsToNoKeyAndReachesTheProxy() throws {
        let configuration = try MeshgateConfiguration.parse(yaml: "state_dir: ./state\n", path: "conf/meshgate.yaml")
        #expect(configuration.audit.queryKeys.isEmpty)
        #expect(MeshgateServer.proxyConfiguration(from: configuration).auditRedactor.queryKeys.isEmpty)
    }

    @Test func listedKeysReachTheProxysRedactor() throws {
        let configuration = try MeshgateConfiguration.parse(
            yaml: "audit:\n  path: ./audit.jsonl\n  query_keys: [page, api-version]\n", path: "conf/meshgate.yaml")
        #expect(configuration.audit.queryKeys == ["page", "api-version"])
        let redactor = MeshgateServer.proxyConfiguration(from: configuration).auditRedactor
        #expect(redactor.requestTarget("/x?page=2&api-version=1&key=k") == "/x?page=2&api-version=1&key=REDACTED")
    }

    @Test func aKeyThatIsNotAStringIsRefusedWithItsLine() {
        #expect(throws: (any Error).self) {
            try MeshgateConfiguration.parse(yaml: "audit:\n  query_keys: [page, [nested]]\n", path: "conf/meshgate.yaml")
        }
    }
}
