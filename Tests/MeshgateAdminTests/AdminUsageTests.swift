import MeshgateAdmin
import Testing

/// `GET /admin/usage`: token usage as JSON, behind the admin token like `POST /admin/reload`.
struct AdminUsageTests {
    private actor Teams {
        var asked: [String?] = []
        func record(_ team: String?) { asked.append(team) }
    }

    @Test func usageNeedsTheAdminToken() async throws {
        let teams = Teams()
        try await withAdminServer(configure: { server in
            server.setUsageHandler { team in
                await teams.record(team)
                return .success(#"{"teams":[],"identities":[]}"#)
            }
        }) { base in
            let anonymous = try await curl("GET", base + "/admin/usage")
            #expect(anonymous.status == 401)
            #expect(anonymous.text.contains("Authorization: Bearer TOKEN"))
            let wrong = try await curl("GET", base + "/admin/usage", headers: ["Authorization: Bearer nope"])
            #expect(wrong.status == 401)
            #expect(await teams.asked.isEmpty, "the report is not even computed for an unauthenticated caller")
        }
    }

    @Test func usageAnswersTheHandlersJSONAndPassesTheTeamFilter() async throws {
        let teams = Teams()
        let body = #"{"teams":[{"team":"platform","used":12,"limit":100,"remaining":88,"window":"1d","resets_at":"2026-03-02T00:00:00Z"}],"identities":[]}"#
        try await withAdminServer(configure: { server in
            server.setUsageHandler { team in
                await teams.record(team)
                return .success(body)
            }
        }) { base in
            let all = try await curl("GET", base + "/admin/usage", headers: [adminAuthorization])
            #expect(all.status == 200)
            #expect(all.headers["content-type"] == "application/json")
            #expect(all.text == body)
            let one = try await curl("GET", base + "/admin/usage?team=platform", headers: [adminAuthorization])
            #expect(one.status == 200)
            #expect(await teams.asked == [nil, "platform"])
        }
    }

    @Test func usageIsUnavailableWithoutTheGatewayOrItsLedger() async throws {
        try await withAdminServer { base in
            let response = try await curl("GET", base + "/admin/usage", headers: [adminAuthorization])
            #expect(response.status == 503)
            #expect(response.text.contains("AI gateway is not running"))
        }
        try await withAdminServer(configure: { server in
            server.setUsageHandler { _ in .failure(LedgerDown()) }
        }) { base in
            let response = try await curl("GET", base + "/admin/usage", headers: [adminAuthorization])
            #expect(response.status == 503)
            #expect(response.text.contains("token ledger (postgres) unavailable"), "\(response.text)")
        }
    }

    @Test func usageRefusesOtherMethods() async throws {
        try await withAdminServer { base in
            let response = try await curl("POST", base + "/admin/usage", headers: [adminAuthorization])
            #expect(response.status == 405)
            #expect(response.headers["allow"] == "GET, HEAD")
        }
    }
}

private struct LedgerDown: Error, CustomStringConvertible {
    var description: String { "token ledger (postgres) unavailable: connection refused" }
}
