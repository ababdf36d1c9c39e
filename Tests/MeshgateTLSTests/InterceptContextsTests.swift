import NIOCore
import NIOEmbedded
import NIOSSL
import NIOTLS
import Testing
import X509

@testable import MeshgateTLS

/// Full intercepted handshakes between two EmbeddedChannels on one EmbeddedEventLoop: the server's
/// sslContextCallback completes its promise through the cache, and NIOSSL resumes the handshake on a
/// later loop tick, so the test runs pending tasks and shuttles bytes until both sides are done.
@Suite struct InterceptContextsTests {
    /// Records the handshake outcome of one side.
    final class Recorder: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        var negotiated: String?? = nil
        var error: (any Error)?

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case .handshakeCompleted(let proto) = event as? TLSUserEvent { negotiated = .some(proto) }
            context.fireUserInboundEventTriggered(event)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            if self.error == nil { self.error = error }
        }

        var done: Bool { negotiated != nil || error != nil }
    }

    struct Outcome {
        var clientProtocol: String??
        var serverProtocol: String??
        var clientError: (any Error)?
        var serverError: (any Error)?
        var peerCertificate: Certificate?
    }

    static func clientContext(trusting ca: CertificateAuthority, protocols: [String]) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates([try NIOSSLCertificate(bytes: ca.certificateDER, format: .der)])
        configuration.certificateVerification = .fullVerification
        configuration.applicationProtocols = protocols
        return try NIOSSLContext(configuration: configuration)
    }

    static func handshake(
        client clientContext: NIOSSLContext,
        serverHostname: String?,
        connectTo address: SocketAddress,
        server serverContext: NIOSSLContext
    ) throws -> Outcome {
        let loop = EmbeddedEventLoop()
        let client = EmbeddedChannel(loop: loop)
        let server = EmbeddedChannel(loop: loop)
        // Closing a TLS channel waits for the peer's close_notify (or NIOSSL's shutdown timeout), which
        // `EmbeddedChannel.finish()` would block on: close, deliver the alerts, then let the timeout fire.
        defer {
            client.close(promise: nil)
            server.close(promise: nil)
            shuttle()
            loop.advanceTime(by: .seconds(60))
        }
        /// Runs pending tasks and moves each side's output to the other. Errors surface in the recorders.
        func shuttle() {
            loop.run()
            while let bytes = try? client.readOutbound(as: ByteBuffer.self) {
                _ = try? server.writeInbound(bytes)
            }
            loop.run()
            while let bytes = try? server.readOutbound(as: ByteBuffer.self) {
                _ = try? client.writeInbound(bytes)
            }
        }
        let clientHandler = try NIOSSLClientHandler(context: clientContext, serverHostname: serverHostname)
        let clientRecorder = Recorder()
        let serverRecorder = Recorder()
        try client.pipeline.syncOperations.addHandlers([clientHandler, clientRecorder])
        try server.pipeline.syncOperations.addHandlers([NIOSSLServerHandler(context: serverContext), serverRecorder])

        _ = client.connect(to: address)
        server.pipeline.fireChannelActive()

        var iterations = 0
        while !(clientRecorder.done && serverRecorder.done), iterations < 200 {
            iterations += 1
            shuttle()
        }
        return Outcome(
            clientProtocol: clientRecorder.negotiated,
            serverProtocol: serverRecorder.negotiated,
            clientError: clientRecorder.error,
            serverError: serverRecorder.error,
            peerCertificate: try clientHandler.peerCertificate.map(x509)
        )
    }

    static var anyAddress: SocketAddress {
        get throws { try SocketAddress(ipAddress: "192.0.2.1", port: 443) }
    }

    @Test(arguments: ["example.com", "api.another.test"])
    func interceptedHandshakePresentsAMintedLeafForTheSNI(host: String) throws {
        let ca = Fixtures.ecdsaCA
        let cache = LeafCertificateCache(minter: try LeafMinter(authority: ca))
        let server = try InterceptContexts.makeSharedServerContext(cache: cache)
        let client = try Self.clientContext(trusting: ca, protocols: ["h2", "http/1.1"])

        let outcome = try Self.handshake(
            client: client,
            serverHostname: host,
            connectTo: try Self.anyAddress,
            server: server
        )

        #expect(outcome.clientError == nil)
        #expect(outcome.serverError == nil)
        #expect(outcome.clientProtocol == .some("http/1.1"))
        #expect(outcome.serverProtocol == .some("http/1.1"))
        let peer = try #require(outcome.peerCertificate)
        #expect(try peer.extensions.subjectAlternativeNames.map(Array.init) == [.dnsName(host)])
        #expect(peer.issuer == ca.certificate.subject)
        #expect(ca.certificate.publicKey.isValidSignature(peer.signature, for: peer))
        #expect(cache.count == 1)
    }

    @Test func oneSharedContextServesManyHostsFromTheCache() throws {
        let ca = Fixtures.rsaCA
        let cache = LeafCertificateCache(minter: try LeafMinter(authority: ca))
        let server = try InterceptContexts.makeSharedServerContext(cache: cache)
        let client = try Self.clientContext(trusting: ca, protocols: ["http/1.1"])

        for host in ["a.example", "b.example", "a.example"] {
            let outcome = try Self.handshake(
                client: client,
                serverHostname: host,
                connectTo: try Self.anyAddress,
                server: server
            )
            #expect(outcome.clientError == nil)
            #expect(try outcome.peerCertificate?.extensions.subjectAlternativeNames.map(Array.init) == [.dnsName(host)])
        }
        #expect(cache.mintCount == 2)
    }

    @Test func aClientThatDoesNotTrustTheCAFails() throws {
        let cache = LeafCertificateCache(minter: try LeafMinter(authority: Fixtures.ecdsaCA))
        let server = try InterceptContexts.makeSharedServerContext(cache: cache)
        let client = try Self.clientContext(trusting: Fixtures.rsaCA, protocols: ["http/1.1"])

        let outcome = try Self.handshake(
            client: client,
            serverHostname: "example.com",
            connectTo: try Self.anyAddress,
            server: server
        )
        #expect(outcome.clientError != nil)
        #expect(outcome.clientProtocol == nil)
    }

    @Test func aClientWithoutSNIGetsTheLeafForTheAddressItDialled() throws {
        let ca = Fixtures.ecdsaCA
        let leaf = try LeafMinter(authority: ca).mint(host: "192.0.2.1")
        let server = try InterceptContexts.makeServerContext(for: leaf)
        let client = try Self.clientContext(trusting: ca, protocols: ["http/1.1"])

        // No server name: NIOSSL checks the certificate against the address connected to.
        let outcome = try Self.handshake(
            client: client,
            serverHostname: nil,
            connectTo: try Self.anyAddress,
            server: server
        )
        #expect(outcome.clientError == nil)
        #expect(outcome.clientProtocol == .some("http/1.1"))
        #expect(outcome.peerCertificate == leaf.certificate)
    }

    /// A client that puts the URL's port into the SNI (Go's `hey` sets `tls.Config.ServerName` to the
    /// request's `Host`) gets the leaf for the host; minting for `host:port` failed the handshake with
    /// CERT_CB_ERROR (an `internal_error` alert to the client).
    @Test(arguments: ["example.com:8443", "example.com:443", "Example.COM.:443"])
    func aServerNameWithAPortGetsTheLeafForTheHost(serverName: String) throws {
        let ca = Fixtures.ecdsaCA
        let cache = LeafCertificateCache(minter: try LeafMinter(authority: ca))
        let server = try InterceptContexts.makeSharedServerContext(cache: cache)
        // Go checks the certificate against the name it sent, which no certificate can match; clients
        // that send such names skip that check (hey) or fail it on their own. Only the chain is checked.
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates([try NIOSSLCertificate(bytes: ca.certificateDER, format: .der)])
        configuration.certificateVerification = .noHostnameVerification
        let client = try NIOSSLContext(configuration: configuration)

        let outcome = try Self.handshake(
            client: client,
            serverHostname: serverName,
            connectTo: try Self.anyAddress,
            server: server
        )
        #expect(outcome.serverError == nil)
        #expect(outcome.clientError == nil)
        let peer = try #require(outcome.peerCertificate)
        #expect(try peer.extensions.subjectAlternativeNames.map(Array.init) == [.dnsName("example.com")])
    }

    /// Intercepted TLS 1.2 offers only Mozilla "intermediate" suites: a client that can only do a CBC
    /// suite fails, one that offers an AEAD ECDHE suite succeeds. (Static-RSA suites fail anyway: every
    /// leaf has an ECDSA key.)
    @Test(arguments: [
        ("ECDHE-ECDSA-AES128-SHA", false),
        ("ECDHE-RSA-AES128-SHA", false),
        ("ECDHE-ECDSA-AES256-SHA", false),
        ("ECDHE-ECDSA-AES128-GCM-SHA256", true),
        ("ECDHE-ECDSA-AES256-GCM-SHA384", true),
        ("ECDHE-ECDSA-CHACHA20-POLY1305", true),
    ])
    func tls12OffersOnlyIntermediateSuites(suite: String, accepted: Bool) throws {
        let ca = Fixtures.ecdsaCA
        let server = try InterceptContexts.makeSharedServerContext(
            cache: LeafCertificateCache(minter: try LeafMinter(authority: ca))
        )
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates([try NIOSSLCertificate(bytes: ca.certificateDER, format: .der)])
        configuration.maximumTLSVersion = .tlsv12
        configuration.cipherSuites = suite
        let client = try NIOSSLContext(configuration: configuration)

        let outcome = try Self.handshake(
            client: client,
            serverHostname: "example.com",
            connectTo: try Self.anyAddress,
            server: server
        )
        #expect((outcome.clientError == nil) == accepted, "\(suite): \(String(describing: outcome.clientError))")
        #expect((outcome.clientProtocol != nil) == accepted)
    }

    @Test func tls11IsRefused() throws {
        let ca = Fixtures.ecdsaCA
        let server = try InterceptContexts.makeSharedServerContext(
            cache: LeafCertificateCache(minter: try LeafMinter(authority: ca))
        )
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates([try NIOSSLCertificate(bytes: ca.certificateDER, format: .der)])
        configuration.minimumTLSVersion = .tlsv1
        configuration.maximumTLSVersion = .tlsv11
        let client = try NIOSSLContext(configuration: configuration)

        let outcome = try Self.handshake(
            client: client,
            serverHostname: "example.com",
            connectTo: try Self.anyAddress,
            server: server
        )
        #expect(outcome.clientError != nil)
        #expect(outcome.clientProtocol == nil)
    }
}
