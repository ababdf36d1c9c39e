import MeshgateInspection
import Testing

@Suite struct MCPHeaderValueTests {
    // The examples of the 2026-07-28 Streamable HTTP "Value Encoding" table.
    @Test(arguments: [
        ("us-west1", "us-west1"),
        ("=?base64?SGVsbG8sIOS4lueVjA==?=", "Hello, 世界"),
        ("=?base64?IHBhZGRlZCA=?=", " padded "),
        ("=?base64?bGluZTEKbGluZTI=?=", "line1\nline2"),
        ("=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=", "=?base64?literal?="),
        ("  get_weather \t", "get_weather"),
        ("=?base64?not*base64?=", "=?base64?not*base64?="),
        ("=?BASE64?SGk=?=", "=?BASE64?SGk=?="),
    ])
    func decodes(raw: String, expected: String) {
        #expect(MCPHeaderValue.decode(raw) == expected)
    }
}
