import NIOSSL
import X509

/// A leaf certificate minted for one intercepted host, ready to serve.
public struct MintedLeaf: Sendable {
    /// The host it was minted for (normalised: lowercase, no brackets, no trailing dot).
    public let host: String
    /// The leaf certificate.
    public let certificate: Certificate
    /// The chain to present: the leaf, then the CA.
    public let chain: [NIOSSLCertificate]
    /// The private key of the leaf, shared by every leaf of the same minter.
    public let privateKey: NIOSSLPrivateKey
}
