import Testing
@testable import MeshgateInspection

@Suite struct MCPConnectorRemovalTests {
    static func text(_ bytes: [UInt8]?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

    @Test func onlyTheNamedConnectorsToolsAreRemoved() throws {
        let body = #"{"model":"gpt-4.1","input":"x","tools":[{"type":"function","name":"f"},{"type":"mcp","server_label":"Dropbox","connector_id":"connector_dropbox"},{"type":"mcp","server_label":"s","server_url":"https://s.example/mcp"}],"tool_choice":"auto"}"#
        let edited = Self.text(MCPRecognizer.removingConnectors(["connector_dropbox"], from: Array(body.utf8)))
        #expect(edited == #"{"model":"gpt-4.1","input":"x","tools":[{"type":"function","name":"f"},{"type":"mcp","server_label":"s","server_url":"https://s.example/mcp"}],"tool_choice":"auto"}"#)
        #expect(MCPRecognizer.removingConnectors(["connector_gmail"], from: Array(body.utf8)) == nil, "nothing to remove")
    }

    @Test func aToolListLeftEmptyGoesWithItsToolChoice() {
        let body = #"{"model":"m","tools":[{"type":"mcp","server_label":"Gmail"}],"tool_choice":"required","input":"é \"q\"\n"}"#
        #expect(Self.text(MCPRecognizer.removingConnectors(["Gmail"], from: Array(body.utf8))) == #"{"model":"m","input":"é \"q\"\u000a"}"#)
        #expect(MCPRecognizer.removingConnectors(["Gmail"], from: Array("not json".utf8)) == nil)
    }

    @Test func theRecognizerNamesConnectorsByIdElseLabel() {
        let body = #"{"model":"m","input":"x","tools":[{"type":"mcp","server_label":"Dropbox","connector_id":"connector_dropbox"},{"type":"mcp","server_label":"Gmail"},{"type":"mcp","server_label":"s","server_url":"https://s.example/mcp"}]}"#
        let finding = MCPRecognizer.recognize(request: MCPRequestInfo(method: "POST", path: "/v1/responses", headers: [], body: Array(body.utf8)))
        #expect(finding?.connectors == ["connector_dropbox", "Gmail"])
        #expect(finding?.serverURLs == ["https://s.example/mcp"])
    }
}
