import Crypto
import Foundation
import MeshgateCore
import NIOSSL
import SwiftASN1
import X509

/// Mints leaf certificates for intercepted hosts, signed by the local CA.
///
/// Every leaf carries the same ECDSA P-256 public key, generated once per minter: a TLS server only
/// proves possession of the key, so sharing it costs nothing in what clients check and saves a key
/// generation per host (and lets NIOSSL reuse one parsed key). Leaves are short-lived (7 days by
/// default) and backdated an hour for clients with slow clocks. Thread-safe: all state is immutable.
public final class LeafMinter: Sendable {
    /// The CA that signs the leaves.
    public let authority: CertificateAuthority
    /// How long a leaf is valid from the moment it is minted (never past the CA's own expiry).
    public let validity: TimeInterval
    /// The public key every leaf carries.
    public let leafPublicKey: Certificate.PublicKey
    /// The private key every leaf shares, in NIOSSL's form.
    public let leafPrivateKey: NIOSSLPrivateKey
    /// The CA certificate in NIOSSL's form, the second element of every chain.
    public let caCertificate: NIOSSLCertificate

    /// Extensions that are the same on every leaf; precomputed because minting is on the handshake path.
    private let fixedExtensions: [Certificate.Extension]
    private let signatureAlgorithm: Certificate.SignatureAlgorithm

    /// How far back a leaf's validity starts.
    static let backdating: TimeInterval = 3_600

    /// Creates a minter with a fresh shared leaf key. `validity` must be positive.
    public init(authority: CertificateAuthority, validity: TimeInterval = 7 * 86_400) throws {
        guard validity > 0, validity.isFinite else {
            throw LeafMintError(
                host: "*",
                reason: "leaf validity must be a positive number of seconds, got \(validity)"
            )
        }
        let key = P256.Signing.PrivateKey()
        self.authority = authority
        self.validity = validity
        self.leafPublicKey = Certificate.PublicKey(key.publicKey)
        self.leafPrivateKey = try NIOSSLPrivateKey(bytes: Array(key.pemRepresentation.utf8), format: .pem)
        self.caCertificate = try NIOSSLCertificate(bytes: authority.certificateDER, format: .der)
        self.signatureAlgorithm = authority.signatureAlgorithm
        self.fixedExtensions = [
            try Certificate.Extension(BasicConstraints.notCertificateAuthority, critical: true),
            try Certificate.Extension(KeyUsage(digitalSignature: true), critical: true),
            try Certificate.Extension(ExtendedKeyUsage([.serverAuth]), critical: false),
            try Certificate.Extension(SubjectKeyIdentifier(hash: self.leafPublicKey), critical: false),
            try Certificate.Extension(
                AuthorityKeyIdentifier(keyIdentifier: authority.keyIdentifier),
                critical: false
            ),
        ]
    }

    /// Mints a leaf for `host`: a DNS name, or an IPv4/IPv6 literal (brackets allowed), which then goes
    /// into the SAN as an IP address. Throws `LeafMintError` for names no certificate can carry.
    public func mint(host: String, now: Date = Date()) throws -> MintedLeaf {
        let name = try LeafMinter.subjectName(for: host)

        let notAfter = min(now + validity, authority.certificate.notValidAfter)
        guard notAfter > now else {
            throw LeafMintError(
                host: host,
                reason: "the CA certificate expired at \(authority.certificate.notValidAfter); "
                    + "replace it with `meshgate ca init --force`"
            )
        }

        // CN is capped at 64 characters (RFC 5280 ub-common-name); longer names live in the SAN alone,
        // which must then be critical because the subject is empty.
        let cnFits = name.text.utf8.count <= 64
        var extensions = fixedExtensions
        extensions.append(try Certificate.Extension(SubjectAlternativeNames([name.generalName]), critical: !cnFits))

        let subject = cnFits ? try DistinguishedName { CommonName(name.text) } : DistinguishedName()
        let certificate = try Certificate(
            version: .v3,
            serialNumber: randomSerialNumber(),
            publicKey: leafPublicKey,
            notValidBefore: now - LeafMinter.backdating,
            notValidAfter: notAfter,
            issuer: authority.certificate.subject,
            subject: subject,
            signatureAlgorithm: signatureAlgorithm,
            extensions: try Certificate.Extensions(extensions),
            issuerPrivateKey: authority.privateKey
        )
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        let leaf = try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der)
        return MintedLeaf(
            host: name.text,
            certificate: certificate,
            chain: [leaf, caCertificate],
            privateKey: leafPrivateKey
        )
    }

    /// The normalised name for `host` and its SAN entry.
    struct SubjectName: Equatable {
        var text: String
        var generalName: GeneralName
    }

    /// The name a leaf for `host` carries; also the cache key, so that `Example.COM.` and `example.com`
    /// share one leaf, as do `::1` and `0:0::1`.
    static func subjectName(for host: String) throws -> SubjectName {
        let trimmed = host.trimmingCharacters(in: .whitespaces)
        if let bytes = IPAddress.parse(trimmed) {
            return SubjectName(
                text: IPAddress.format(bytes),
                generalName: .ipAddress(ASN1OctetString(contentBytes: bytes[...]))
            )
        }
        let normalised = HostPort(host: trimmed, port: 0).host
        guard !normalised.isEmpty else { throw LeafMintError(host: host, reason: "the host name is empty") }
        guard normalised.utf8.count <= 253 else {
            throw LeafMintError(host: host, reason: "a DNS name is at most 253 characters")
        }
        for label in normalised.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.utf8.count <= 63 else {
                throw LeafMintError(host: host, reason: "every DNS label must be 1 to 63 characters")
            }
            // Underscores are not valid in host names but do occur in real ones, and clients match them.
            guard label.utf8.allSatisfy({ isDNSCharacter($0) }) else {
                throw LeafMintError(
                    host: host,
                    reason: "only ASCII letters, digits, '-' and '_' may appear in a DNS name (use punycode for IDNs)"
                )
            }
        }
        return SubjectName(text: normalised, generalName: .dnsName(normalised))
    }

    private static func isDNSCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }
}
