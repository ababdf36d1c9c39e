import MeshgateCore
import NIOCore
import Testing

@Suite struct SocketAddressAuditTests {
    @Test(arguments: [
        ("127.0.0.1", 53, "127.0.0.1:53"),
        ("0.0.0.0", 0, "0.0.0.0:0"),
        ("255.255.255.255", 65535, "255.255.255.255:65535"),
        ("10.20.3.40", 5353, "10.20.3.40:5353"),
        ("::1", 53, "[::1]:53"),
        ("2001:db8::7", 443, "[2001:db8::7]:443"),
        ("::ffff:10.77.1.2", 3129, "10.77.1.2:3129"),
    ])
    func auditDescriptionIsIPColonPort(_ ip: String, _ port: Int, _ expected: String) throws {
        #expect(try SocketAddress(ipAddress: ip, port: port).auditDescription == expected)
    }
}
