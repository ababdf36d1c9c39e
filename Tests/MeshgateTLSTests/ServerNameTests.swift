import Testing

@testable import MeshgateTLS

@Suite struct ServerNameTests {
    @Test(arguments: [
        ("example.com", "example.com"),
        ("Example.COM.", "example.com"),
        ("example.com:8443", "example.com"),
        ("example.com:443", "example.com"),
        ("API.Example.com.:443", "api.example.com"),
        ("[::1]:443", "::1"),
        // Not `host:port`: left alone (and then refused by the minter, as any bad name is).
        ("example.com:", "example.com:"),
        ("example.com:http", "example.com:http"),
        ("example.com:99999", "example.com:99999"),
        ("a:b:443", "a:b:443"),
    ])
    func theHostOfAServerName(serverName: String, host: String) {
        #expect(ServerName.host(serverName) == host)
    }
}
