import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Testing
import X509

@testable import MeshgateTLS

/// Real sockets on 127.0.0.1: a server presenting a leaf from the test CA, and a client using the
/// upstream context, as the proxy does towards an origin.
@Suite struct UpstreamTLSTests {
    struct Attempt {
        var result: Result<String?, any Error>
        var peerCertificate: NIOSSLCertificate?
    }

    /// Records the handshake result and, on failure, the certificate the server had presented.
    final class Observer: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let promise: EventLoopPromise<Attempt>

        init(promise: EventLoopPromise<Attempt>) { self.promise = promise }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case .handshakeCompleted(let proto) = event as? TLSUserEvent {
                promise.succeed(Attempt(result: .success(proto), peerCertificate: nil))
                context.close(promise: nil)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            let peer = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self).peerCertificate
            promise.succeed(Attempt(result: .failure(error), peerCertificate: peer))
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            promise.succeed(Attempt(result: .failure(ChannelError.eof), peerCertificate: nil))
        }
    }

    static func connect(clientContext: NIOSSLContext, host: String, serverLeaf: MintedLeaf) async throws -> Attempt {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let serverContext = try InterceptContexts.makeServerContext(for: serverLeaf)
        let server = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: serverContext))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let promise = group.next().makePromise(of: Attempt.self)
        let client = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        UpstreamTLS.makeClientHandler(context: clientContext, host: host),
                        Observer(promise: promise)
                    )
                }
            }
            .connect(to: try #require(server.localAddress))
            .get()
        let attempt = try await promise.futureResult.get()
        try? await client.close()
        try? await server.close()
        try await group.shutdownGracefully()
        return attempt
    }

    static func writeBundle(_ ca: CertificateAuthority, in dir: TemporaryDirectory) throws -> String {
        let path = dir.file("upstream-ca.pem")
        try ca.certificatePEM.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aBundleWithTheIssuingCAIsTrusted() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let ca = Fixtures.ecdsaCA
        let context = try UpstreamTLS.makeClientContext(trust: .pemBundle(path: try Self.writeBundle(ca, in: dir)))
        let leaf = try LeafMinter(authority: ca).mint(host: "example.com")

        let attempt = try await Self.connect(clientContext: context, host: "example.com", serverLeaf: leaf)
        #expect(try attempt.result.get() == "http/1.1")
    }

    @Test func theSystemStoreDoesNotTrustTheTestCA() async throws {
        let context = try UpstreamTLS.makeClientContext(trust: .system)
        let leaf = try LeafMinter(authority: Fixtures.ecdsaCA).mint(host: "example.com")

        let attempt = try await Self.connect(clientContext: context, host: "example.com", serverLeaf: leaf)
        guard case .failure(let error) = attempt.result else {
            Issue.record("the handshake succeeded against a CA no system store holds")
            return
        }
        let plain = UpstreamTLS.describe(error, host: "example.com")
        #expect(plain.contains("not trusted"))
        #expect(plain.contains("example.com"))

        let refined = UpstreamTLS.describe(error, host: "example.com", peerCertificate: attempt.peerCertificate)
        #expect(refined.contains("not trusted"))
        #expect(refined.contains("unknown issuer"))
    }

    @Test func aHostnameMismatchIsReportedAsSuch() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let ca = Fixtures.ecdsaCA
        let context = try UpstreamTLS.makeClientContext(trust: .pemBundle(path: try Self.writeBundle(ca, in: dir)))
        let leaf = try LeafMinter(authority: ca).mint(host: "example.com")

        let attempt = try await Self.connect(clientContext: context, host: "other.example", serverLeaf: leaf)
        guard case .failure(let error) = attempt.result else {
            Issue.record("the handshake accepted a certificate for another name")
            return
        }
        #expect(UpstreamTLS.describe(error, host: "other.example").hasPrefix("hostname mismatch"))
        let refined = UpstreamTLS.describe(error, host: "other.example", peerCertificate: attempt.peerCertificate)
        #expect(refined.contains("example.com"))
    }

    @Test func anExpiredCertificateIsReportedAsExpired() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let ca = Fixtures.ecdsaCA
        let context = try UpstreamTLS.makeClientContext(trust: .pemBundle(path: try Self.writeBundle(ca, in: dir)))
        let leaf = try LeafMinter(authority: ca, validity: 3_600).mint(host: "example.com", now: Date() - 3 * 3_600)

        let attempt = try await Self.connect(clientContext: context, host: "example.com", serverLeaf: leaf)
        guard case .failure(let error) = attempt.result else {
            Issue.record("the handshake accepted an expired certificate")
            return
        }
        let refined = UpstreamTLS.describe(error, host: "example.com", peerCertificate: attempt.peerCertificate)
        #expect(refined.contains("expired"))
    }

    @Test func aMissingOrEmptyBundleIsAConfigurationError() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let missing = dir.file("nope.pem")
        let error = #expect(throws: UpstreamTLSError.self) {
            try UpstreamTLS.makeClientContext(trust: .pemBundle(path: missing))
        }
        #expect(error?.description.contains(missing) == true)

        let empty = dir.file("empty.pem")
        try "".write(toFile: empty, atomically: true, encoding: .utf8)
        let emptyError = #expect(throws: UpstreamTLSError.self) {
            try UpstreamTLS.makeClientContext(trust: .pemBundle(path: empty))
        }
        #expect(emptyError?.description.contains("no certificates") == true)
    }

    @Test(arguments: [
        ("system", UpstreamTrust.system),
        ("/etc/meshgate/ca-bundle.pem", UpstreamTrust.pemBundle(path: "/etc/meshgate/ca-bundle.pem")),
    ])
    func trustParsesTheConfigValue(value: String, expected: UpstreamTrust) {
        #expect(UpstreamTrust(configValue: value) == expected)
    }

    @Test func describeExplainsErrorsWithoutACertificate() {
        #expect(
            UpstreamTLS.describe(NIOSSLExtraError.failedToValidateHostname, host: "a.example").hasPrefix(
                "hostname mismatch"
            )
        )
        #expect(
            UpstreamTLS.describe(NIOSSLError.handshakeFailed(.sslError([.eofDuringHandshake])), host: "a.example")
                == "a.example closed the connection during the TLS handshake"
        )
        #expect(UpstreamTLS.describe(NIOSSLError.uncleanShutdown, host: "a.example").contains("close_notify"))
    }
}
