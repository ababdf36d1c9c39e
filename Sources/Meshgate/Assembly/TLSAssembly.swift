import Logging
import MeshgateTLS
import NIOSSL

/// Builds what interception needs from `tls:`: meshgate's CA (created on first start), the cache
/// of leaf certificates minted from it, and the client context that verifies upstream servers.
struct TLSAssembly {
    /// The CA in use.
    let authority: CertificateAuthority
    /// Leaf certificates for intercepted names, minted on demand.
    let leafCache: LeafCertificateCache
    /// For connections to origins (a failed verification is a 502).
    let upstreamContext: NIOSSLContext

    init(configuration: MeshgateConfiguration, logger: Logger) throws {
        let tls = configuration.tls
        let keyType: CAKeyType = tls.caKeyType == .rsa3072 ? .rsa3072 : .ecdsaP256
        let (authority, created) = try CertificateAuthority.loadOrCreate(
            certificatePath: tls.caCertPath,
            keyPath: tls.caKeyPath,
            keyType: keyType
        )
        if created {
            logger.notice("created a new local CA; clients must trust it to use interception", metadata: [
                "ca_cert": "\(tls.caCertPath)", "ca_key": "\(tls.caKeyPath)",
                "fix": "meshgate ca export > meshgate-ca.pem, then install it (see README: pointing a laptop at meshgate)",
            ])
        }
        self.authority = authority
        let minter = try LeafMinter(authority: authority, validity: tls.leafValidity.seconds)
        leafCache = LeafCertificateCache(minter: minter, capacity: tls.leafCacheSize)
        let trust: UpstreamTrust
        switch tls.upstreamCA {
        case .system: trust = .system
        case .bundle(let path): trust = .pemBundle(path: path)
        }
        upstreamContext = try UpstreamTLS.makeClientContext(trust: trust)
    }
}
