import NIOCore
import NIOSSL

/// Server-side TLS contexts for intercepted connections.
public enum InterceptContexts {
    /// The only protocol offered to intercepted clients: the proxy parses HTTP/1.1, and a client that
    /// wanted h2 falls back to it through ALPN.
    public static let applicationProtocols = ["http/1.1"]

    /// The TLS 1.2 cipher suites offered to intercepted clients: Mozilla's "intermediate" profile
    /// (ECDHE with AES-GCM or ChaCha20-Poly1305 only; no CBC, no static RSA key exchange), in its order.
    /// TLS 1.3's suites are all AEAD and BoringSSL offers all of them. Every leaf has an ECDSA key, so
    /// the RSA entries are only there to keep the list the profile's.
    public static let tls12CipherSuites = [
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
    ]

    /// The name of the placeholder leaf the base configuration needs; never served to a client with SNI.
    public static let placeholderHost = "meshgate.invalid"

    /// The one server context shared by every intercepted connection. Its `sslContextCallback` looks up
    /// (or mints) the leaf for the ClientHello's SNI in `cache` and swaps in that leaf's chain and key.
    /// A client without SNI gets the placeholder leaf, which it will reject: serve such clients with
    /// `makeServerContext(for:)` and a leaf for the address they connected to.
    /// Minimum TLS 1.2, with `tls12CipherSuites`; ALPN offers only `http/1.1`.
    public static func makeSharedServerContext(cache: LeafCertificateCache) throws -> NIOSSLContext {
        let placeholder = try cache.minter.mint(host: placeholderHost)
        var configuration = baseConfiguration(for: placeholder)
        configuration.sslContextCallback = { values, promise in
            guard let serverName = values.serverHostname, !serverName.isEmpty else {
                promise.succeed(.noChanges)
                return
            }
            // Some clients put the URL's port into the SNI; minting for `host:port` would fail the handshake.
            cache.leaf(for: ServerName.host(serverName), on: promise.futureResult.eventLoop)
                .map { leaf in
                    var override = NIOSSLContextConfigurationOverride()
                    override.certificateChain = leaf.chain.map { .certificate($0) }
                    override.privateKey = .privateKey(leaf.privateKey)
                    return override
                }
                .cascade(to: promise)
        }
        return try NIOSSLContext(configuration: configuration)
    }

    /// A server context that serves exactly `leaf`, for clients that sent no SNI (e.g. they connected
    /// to an IP address); mint the leaf for that address.
    public static func makeServerContext(for leaf: MintedLeaf) throws -> NIOSSLContext {
        try NIOSSLContext(configuration: baseConfiguration(for: leaf))
    }

    private static func baseConfiguration(for leaf: MintedLeaf) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: leaf.chain.map { .certificate($0) },
            privateKey: .privateKey(leaf.privateKey)
        )
        configuration.minimumTLSVersion = .tlsv12
        configuration.cipherSuites = tls12CipherSuites.joined(separator: ":")
        configuration.applicationProtocols = applicationProtocols
        configuration.shutdownTimeout = CloseNotify.timeout
        return configuration
    }
}
