import Foundation
import Testing

/// What an intercepted client's TLS handshake may negotiate, checked with `openssl s_client` through
/// the explicit proxy: Mozilla's "intermediate" profile for TLS 1.2, and an SNI that carries a port.
@Suite(.serialized) struct InterceptedTLSProfileTests {
    let group = TestGroup.shared

    /// Runs `openssl s_client` through `proxy` to `localhost:port` with `extra` arguments.
    static func sClient(proxy: TestProxy, port: Int, pki: TestPKI, _ extra: [String]) async throws -> ProcessResult {
        try await ProcessRunner.run("openssl", [
            "s_client", "-proxy", "127.0.0.1:\(proxy.port)", "-connect", "localhost:\(port)",
            "-CAfile", pki.meshgateCAPath, "-verify_return_error",
        ] + extra, stdin: Data("Q\n".utf8), timeout: 20)
    }

    @Test(arguments: [
        ("ECDHE-RSA-AES128-SHA", false),
        ("ECDHE-ECDSA-AES128-SHA", false),
        ("ECDHE-ECDSA-AES256-SHA", false),
        ("AES128-SHA", false),
        ("ECDHE-ECDSA-AES128-GCM-SHA256", true),
        ("ECDHE-ECDSA-AES256-GCM-SHA384", true),
        ("ECDHE-ECDSA-CHACHA20-POLY1305", true),
    ])
    func tls12NegotiatesOnlyIntermediateSuites(suite: String, accepted: Bool) async throws {
        let pki = try TestPKI.make()
        let origin = try await TestOrigin(group: group, tls: pki.originContext)
        let proxy = try await TestProxy(group: group, pki: pki) { $0.connectPorts = [443, origin.port] }

        let s = try await Self.sClient(proxy: proxy, port: origin.port, pki: pki, ["-servername", "localhost", "-tls1_2", "-cipher", suite])
        let negotiated = s.stdoutText.contains("Cipher is \(suite)")
        #expect(negotiated == accepted, "\(suite):\n\(s.stdoutText.prefix(1500))\n\(s.stderr.prefix(1000))")
        await proxy.stop()
        await origin.close()
    }

    /// The ClientHello a Go program sends when it sets `ServerName` to the URL's `host:port`, without Go.
    @Test func anSNIWithAPortGetsTheLeafForTheHost() async throws {
        let pki = try TestPKI.make()
        let origin = try await TestOrigin(group: group, tls: pki.originContext)
        let proxy = try await TestProxy(group: group, pki: pki) { $0.connectPorts = [443, origin.port] }

        let s = try await Self.sClient(proxy: proxy, port: origin.port, pki: pki, ["-servername", "localhost:\(origin.port)", "-verify_hostname", "localhost"])
        #expect(s.stdoutText.contains("Verify return code: 0 (ok)"), "\(s.stdoutText.prefix(1500))\n\(s.stderr.prefix(1000))")
        #expect(s.stdoutText.contains("meshgate test CA"))
        await proxy.stop()
        await origin.close()
    }
}
