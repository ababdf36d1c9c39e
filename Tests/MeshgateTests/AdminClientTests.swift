import Testing
@testable import Meshgate

/// How `meshgate reload` and the rules commands read the admin listener's reply to `POST /admin/reload`.
@Suite struct AdminClientTests {
    private static func outcome(_ status: Int, _ body: String) throws -> String {
        try AdminClient.reloadOutcome(status: status, body: Array(body.utf8))
    }

    @Test func aReloadedReplyGivesItsMessage() throws {
        // As `AdminRouter` answers a reload (the message quoted with `JSONText.quoted`).
        #expect(try Self.outcome(200, #"{"status":"reloaded","message":"policy \"prod\" reloaded: 12 rules\nfrom \/etc"}"#)
                == "policy \"prod\" reloaded: 12 rules\nfrom /etc")
        #expect(try Self.outcome(200, #"{"status":"reloaded","message":"caf\u00e9 ☕"}"#) == "café ☕")
    }

    @Test(arguments: ["", "ok", #"{"status":"reloaded"}"#, #"{"message":7}"#, #"["message"]"#, #"{"message":"x""#])
    func aReplyWithoutAMessageSaysReloaded(body: String) throws {
        #expect(try Self.outcome(200, body) == "reloaded")
    }

    @Test func aRefusalThrowsTheServersError() {
        // As `AdminResponse.error` writes it.
        let error = #expect(throws: StoreError.self) {
            try Self.outcome(500, #"{"error":"rules.yaml line 3: unknown key \"mathc\""}"#)
        }
        #expect(error?.description == #"the running meshgate refused to reload (500): rules.yaml line 3: unknown key "mathc""#)
    }

    @Test(arguments: ["<html>502 Bad Gateway</html>", #"{"error":{"code":1}}"#, #"{"message":"no"}"#])
    func aRefusalWithoutAnErrorStringShowsTheBody(body: String) {
        let error = #expect(throws: StoreError.self) { try Self.outcome(502, body) }
        #expect(error?.description == "the running meshgate refused to reload (502): \(body)")
    }
}
