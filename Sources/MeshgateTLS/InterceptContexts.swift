import NIOCore
import NIOSSL

/// Server-side TLS contexts for intercepted connections.
public enum InterceptContexts {
    /// The only protocol offered to intercepted clients: the proxy parses HTTP/1.1, and a client that
    /// wanted h2 falls back to it through ALPN.
    public static let applicationProtocols = ["http/1.1"]

    /// The name of the placeholder leaf the base configuration needs; never served to a client with SNI.
    public static let placeholderHost = "meshgate.invalid"

    /// The one server context shared by every intercepted connection. Its `sslContextCallback` looks up
    /// (or mints) the leaf for the ClientHello's SNI in `cache` and swaps in that leaf's chain and key.
    /// A client without SNI gets the placeholder leaf, which it will reject: serve such clients with
    /// `makeServerContext(for:)` and a leaf for the address they connected to.
    /// Minimum TLS 1.2; ALPN offers only `http/1.1`.
    public static func makeSharedServerContext(cache: LeafCertificateCache) throws -> NIOSSLContext {
        let placeholder = try cache.minter.mint(host: placeholderHost)
        var configuration = baseConfiguration(for: placeholder)
        configuration.sslContextCallback = { values, promise in
            guard let host = values.serverHostname, !host.isEmpty else {
                promise.succeed(.noChanges)
                return
            }
            cache.leaf(for: host, on: promise.futureResult.eventLoop)
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
        configuration.applicationProtocols = applicationProtocols
        configuration.shutdownTimeout = CloseNotify.timeout
        return configuration
    }
}
