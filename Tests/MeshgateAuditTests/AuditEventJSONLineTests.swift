import Foundation
import MeshgateCore
import Testing

@testable import MeshgateAudit

@Suite("AuditEvent.jsonLine")
struct AuditEventJSONLineTests {
    @Test func httpEventHasTheContractFieldOrder() {
        let event = AuditEvent(
            timestampMillis: 1_795_949_518_123,
            kind: .http,
            client: "127.0.0.1:52144",
            identity: Identity(name: "agent-build-7", team: "platform"),
            action: .block,
            rule: "shadow-mcp-body",
            ruleset: "shadow-mcp",
            detections: ["MCP Initialize", "MCP JSON-RPC"],
            fields: [
                ("method", .string("POST")),
                ("scheme", .string("https")),
                ("host", .string("mcp.linear.app")),
                ("port", .int(443)),
                ("path", .string("/mcp")),
                ("status", .int(403)),
                ("intercepted", .bool(true)),
                ("mcp_method", .string("initialize")),
                ("bytes_in", .int(312)),
                ("bytes_out", .int(96)),
                ("duration_ms", .double(4.25)),
            ],
            requestID: "00f067aa0ba902b7",
            traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        )
        #expect(
            event.jsonLine()
                == #"{"ts":"2026-11-29T10:51:58.123Z","event":"http","client":"127.0.0.1:52144","identity":"agent-build-7","team":"platform","action":"block","rule":"shadow-mcp-body","ruleset":"shadow-mcp","detections":["MCP Initialize","MCP JSON-RPC"],"request_id":"00f067aa0ba902b7","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","method":"POST","scheme":"https","host":"mcp.linear.app","port":443,"path":"/mcp","status":403,"intercepted":true,"mcp_method":"initialize","bytes_in":312,"bytes_out":96,"duration_ms":4.25}"#
        )
    }

    @Test func dnsEventWithUnknownIdentityWritesNulls() {
        let event = AuditEvent(
            timestampMillis: 0,
            kind: .dns,
            client: "10.20.0.7:40000",
            identity: nil,
            action: .allow,
            fields: [
                ("qname", .string("example.com")),
                ("qtype", .string("AAAA")),
                ("rcode", .string("NOERROR")),
                ("answers", .strings(["2606:2800:220:1::1", "2606:2800:220:1::2"])),
            ],
            requestID: "a1"
        )
        #expect(
            event.jsonLine()
                == #"{"ts":"1970-01-01T00:00:00.000Z","event":"dns","client":"10.20.0.7:40000","identity":null,"team":null,"action":"allow","rule":null,"ruleset":null,"detections":[],"request_id":"a1","qname":"example.com","qtype":"AAAA","rcode":"NOERROR","answers":["2606:2800:220:1::1","2606:2800:220:1::2"]}"#
        )
    }

    @Test func identityWithoutTeamAndNullField() {
        let event = AuditEvent(
            timestampMillis: 1_000,
            kind: .ai,
            client: nil,
            identity: Identity(name: "solo", team: nil),
            action: .limit,
            fields: [("budget_remaining", .null), ("model", .optional(nil)), ("provider", .optional("openai"))],
            requestID: "b2"
        )
        #expect(
            event.jsonLine()
                == #"{"ts":"1970-01-01T00:00:01.000Z","event":"ai","client":null,"identity":"solo","team":null,"action":"limit","rule":null,"ruleset":null,"detections":[],"request_id":"b2","budget_remaining":null,"model":null,"provider":"openai"}"#
        )
    }

    static let escapeTable: [(String, String)] = [
        ("plain", #""plain""#),
        ("say \"hi\"", #""say \"hi\"""#),
        (#"C:\path"#, #""C:\\path""#),
        ("line\nbreak", #""line\u000abreak""#),
        ("tab\there", #""tab\u0009here""#),
        ("cr\r", #""cr\u000d""#),
        ("\u{0}nul", #""\u0000nul""#),
        ("\u{1f}unit", #""\u001funit""#),
        ("slash/ok", #""slash/ok""#),
        ("del\u{7f}", "\"del\u{7f}\""),
        ("héllo", "\"héllo\""),
        ("日本語", "\"日本語\""),
        ("emoji 🚀", "\"emoji 🚀\""),
        ("\u{2028}sep", "\"\u{2028}sep\""),
        ("", #""""#),
        // Longer than a small string's 15 bytes, so the heap-stored fast path is the one taken.
        ("a-plain-string-well-over-fifteen-bytes.example.com", #""a-plain-string-well-over-fifteen-bytes.example.com""#),
        ("a long string with a \"quote\" past byte fifteen", #""a long string with a \"quote\" past byte fifteen""#),
        ("a long string whose newline comes late\n", #""a long string whose newline comes late\u000a""#),
    ]

    @Test(arguments: escapeTable)
    func stringEscaping(input: String, expected: String) throws {
        let event = AuditEvent(timestampMillis: 0, kind: .http, client: nil, identity: nil, action: .allow,
                               fields: [("v", .string(input))])
        let line = event.jsonLine()
        #expect(line.hasSuffix(#","v":"# + expected + "}"))
        #expect(!line.contains("\n"))
        // Whatever the escaping, a JSON parser must get the original string back.
        let object = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["v"] as? String == input)
    }

    @Test func keysAndDetectionsAreEscapedToo() throws {
        let event = AuditEvent(timestampMillis: 0, kind: .http, client: "a\"b", identity: nil, action: .log,
                               detections: ["x\\y"], fields: [("we\"ird", .string("v"))])
        let object = try #require(JSONSerialization.jsonObject(with: Data(event.jsonLine().utf8)) as? [String: Any])
        #expect(object["client"] as? String == "a\"b")
        #expect(object["detections"] as? [String] == ["x\\y"])
        #expect(object["we\"ird"] as? String == "v")
    }

    static let doubleTable: [(Double, String)] = [
        (1.5, "1.5"),
        (0, "0.0"),
        (-2.25, "-2.25"),
        (1e21, "1e+21"),
        (Double.nan, "null"),
        (Double.infinity, "null"),
        (-Double.infinity, "null"),
    ]

    @Test(arguments: doubleTable)
    func doublesAreFiniteOrNull(value: Double, expected: String) throws {
        let event = AuditEvent(timestampMillis: 0, kind: .http, client: nil, identity: nil, action: .allow,
                               fields: [("d", .double(value))])
        let line = event.jsonLine()
        #expect(line.hasSuffix(#","d":"# + expected + "}"))
        #expect(try JSONSerialization.jsonObject(with: Data(line.utf8)) is [String: Any])
    }

    static let timestampTable: [(Int64, String)] = [
        (0, "1970-01-01T00:00:00.000Z"),
        (1, "1970-01-01T00:00:00.001Z"),
        (999, "1970-01-01T00:00:00.999Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (-86_400_000, "1969-12-31T00:00:00.000Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"),  // leap day of a year divisible by 400
        (951_868_799_999, "2000-02-29T23:59:59.999Z"),
        (951_868_800_000, "2000-03-01T00:00:00.000Z"),
        (4_107_456_000_000, "2100-02-28T00:00:00.000Z"),
        (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),  // 2100 is not a leap year: Feb 28 is followed by Mar 1
        (1_709_164_800_000, "2024-02-29T00:00:00.000Z"),
        (1_735_689_599_999, "2024-12-31T23:59:59.999Z"),
        (1_735_689_600_000, "2025-01-01T00:00:00.000Z"),
        (1_795_949_518_123, "2026-11-29T10:51:58.123Z"),
        (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
        (-62_135_596_800_000, "0001-01-01T00:00:00.000Z"),
    ]

    @Test(arguments: timestampTable)
    func timestamps(millis: Int64, expected: String) {
        #expect(RFC3339.timestamp(millis: millis) == expected)
        let event = AuditEvent(timestampMillis: millis, kind: .dns, client: nil, identity: nil, action: .allow)
        #expect(event.jsonLine().hasPrefix(#"{"ts":""# + expected + #"","#))
    }

    @Test func timestampsAgreeWithFoundationAcrossFourCenturies() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        // One sample every ~37 days and some odd milliseconds, 1900...2300.
        var millis: Int64 = -2_208_988_800_000
        while millis < 10_413_792_000_000 {
            let expected = formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
            #expect(RFC3339.timestamp(millis: millis) == expected)
            millis += 3_196_800_000 + 86_399_937
        }
    }
}

@Suite("MemoryAuditSink")
struct MemoryAuditSinkTests {
    @Test func keepsEventsInOrder() {
        let sink = MemoryAuditSink()
        for i in 0..<5 {
            sink.record(AuditEvent(timestampMillis: Int64(i), kind: .http, client: nil, identity: nil, action: .allow))
        }
        #expect(sink.events.map(\.timestampMillis) == [0, 1, 2, 3, 4])
        sink.removeAll()
        #expect(sink.events.isEmpty)
    }
}
