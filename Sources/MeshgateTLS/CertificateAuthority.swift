import Crypto
import Foundation
import SwiftASN1
import X509
import _CryptoExtras

/// The local CA that signs intercepted hosts' leaf certificates: an X.509 CA certificate and its key.
public struct CertificateAuthority: Sendable {
    /// The CA certificate clients must trust.
    public let certificate: Certificate
    /// The CA's signing key.
    public let privateKey: Certificate.PrivateKey
    /// The certificate in PEM (what `/ca.pem` and `meshgate ca export` serve).
    public let certificatePEM: String
    /// The certificate in DER (`meshgate ca export --der`).
    public let certificateDER: [UInt8]

    /// How long a new CA is valid: ten years, so a trust-store install is not a recurring chore.
    static let caValidity: TimeInterval = 10 * 365 * 86_400
    /// Start validity this far in the past, to accept clients whose clocks run slow.
    static let backdating: TimeInterval = 3_600

    /// Wraps an existing CA certificate and key, checking that they belong together and that the
    /// certificate may sign other certificates.
    public init(certificate: Certificate, privateKey: Certificate.PrivateKey) throws(CAError) {
        guard certificate.publicKey == privateKey.publicKey else {
            throw CAError(
                kind: .keyMismatch,
                path: nil,
                message: "the CA private key does not match the CA certificate's public key"
            )
        }
        let constraints: BasicConstraints?
        do {
            constraints = try certificate.extensions.basicConstraints
        } catch {
            throw CAError(
                kind: .invalidCertificate,
                path: nil,
                message: "the CA certificate's BasicConstraints extension is malformed: \(error)"
            )
        }
        guard case .isCertificateAuthority = constraints else {
            throw CAError(
                kind: .invalidCertificate,
                path: nil,
                message:
                    "the certificate is not a CA (BasicConstraints CA:true missing); create one with `meshgate ca init`"
            )
        }
        do {
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            self.certificateDER = serializer.serializedBytes
            self.certificatePEM =
                PEMDocument(type: "CERTIFICATE", derBytes: serializer.serializedBytes).pemString + "\n"
        } catch {
            throw CAError(
                kind: .invalidCertificate,
                path: nil,
                message: "cannot serialise the CA certificate: \(error)"
            )
        }
        self.certificate = certificate
        self.privateKey = privateKey
    }

    /// Creates a fresh self-signed CA: a random 128-bit serial, valid from an hour ago for ten years,
    /// BasicConstraints CA:true with path length 0 (it signs leaves only), KeyUsage keyCertSign + cRLSign.
    public static func create(
        commonName: String = "meshgate local CA",
        keyType: CAKeyType = .ecdsaP256,
        now: Date = Date()
    ) throws -> CertificateAuthority {
        let key: Certificate.PrivateKey
        let signatureAlgorithm: Certificate.SignatureAlgorithm
        do {
            switch keyType {
            case .ecdsaP256:
                key = Certificate.PrivateKey(P256.Signing.PrivateKey())
                signatureAlgorithm = .ecdsaWithSHA256
            case .rsa3072:
                key = Certificate.PrivateKey(try _RSA.Signing.PrivateKey(keySize: .bits3072))
                signatureAlgorithm = .sha256WithRSAEncryption
            }
        } catch {
            throw CAError(
                kind: .generation,
                path: nil,
                message: "cannot generate a \(keyType.rawValue) CA key: \(error)"
            )
        }
        do {
            let name = try DistinguishedName {
                OrganizationName("meshgate")
                CommonName(commonName)
            }
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: key.publicKey)
            }
            let certificate = try Certificate(
                version: .v3,
                serialNumber: randomSerialNumber(),
                publicKey: key.publicKey,
                notValidBefore: now - backdating,
                notValidAfter: now + caValidity,
                issuer: name,
                subject: name,
                signatureAlgorithm: signatureAlgorithm,
                extensions: extensions,
                issuerPrivateKey: key
            )
            return try CertificateAuthority(certificate: certificate, privateKey: key)
        } catch let error as CAError {
            throw error
        } catch {
            throw CAError(kind: .generation, path: nil, message: "cannot build the CA certificate: \(error)")
        }
    }

    /// The signature algorithm this CA signs with (SHA-256 with its key type).
    var signatureAlgorithm: Certificate.SignatureAlgorithm {
        privateKey.supportedSignatureAlgorithms.contains(.ecdsaWithSHA256) ? .ecdsaWithSHA256 : .sha256WithRSAEncryption
    }

    /// The key identifier leaves name in their AuthorityKeyIdentifier: the CA's own SKI when it has one
    /// (imported CAs may use a different derivation), else the SHA-1 of its public key.
    var keyIdentifier: ArraySlice<UInt8> {
        if let ski = try? certificate.extensions.subjectKeyIdentifier {
            return ski.keyIdentifier
        }
        return SubjectKeyIdentifier(hash: certificate.publicKey).keyIdentifier
    }
}

/// A random positive serial of 16 bytes (126 random bits: the top bit is cleared so the DER INTEGER
/// stays positive without a padding byte, and the top byte is non-zero so the length is fixed).
func randomSerialNumber() -> Certificate.SerialNumber {
    var rng = SystemRandomNumberGenerator()
    var bytes = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
    bytes[0] = (bytes[0] & 0x7F) | 0x01
    return Certificate.SerialNumber(bytes: bytes)
}
