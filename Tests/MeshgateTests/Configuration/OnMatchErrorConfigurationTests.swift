import Meshgate
import MeshgatePolicy
import Testing

@Suite("inspection.on_match_error")
struct OnMatchErrorConfigurationTests {
    @Test func defaultsToBlockAndReachesThePolicy() throws {
        let configuration = try MeshgateConfiguration.parse(yaml: "state_dir: ./state\nrulesets: []\n", path: "conf/meshgate.yaml")
        #expect(configuration.inspection.onMatchError == .block)
        #expect(try PolicyReloader.compile(configuration).onMatchError == MatchErrorMode.block)
    }

    @Test func allowReachesThePolicy() throws {
        let configuration = try MeshgateConfiguration.parse(
            yaml: "state_dir: ./state\nrulesets: []\ninspection:\n  on_match_error: allow\n", path: "conf/meshgate.yaml")
        #expect(configuration.inspection.onMatchError == .allow)
        #expect(try PolicyReloader.compile(configuration).onMatchError == MatchErrorMode.allow)
    }

    @Test func anUnknownValueIsRefusedWithItsChoices() {
        do {
            _ = try MeshgateConfiguration.parse(yaml: "inspection:\n  on_match_error: ignore\n", path: "conf/meshgate.yaml")
            Issue.record("accepted on_match_error: ignore")
        } catch {
            #expect("\(error)".contains("conf/meshgate.yaml:2"), "\(error)")
            #expect("\(error)".contains("block, allow"), "\(error)")
        }
    }
}
