import Crypto
import Foundation
import MeshgateTLS
import SwiftASN1
import X509

extension TestPKI {
    /// Writes a leaf for `host` signed by the origin CA as PEM files (for origins that are not Swift,
    /// e.g. the Python WebSocket server), returning (certificate path, key path).
    func writeOriginLeaf(host: String) throws -> (String, String) {
        let key = P256.Signing.PrivateKey()
        let now = Date()
        let leaf = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(86400),
            issuer: originCA.certificate.subject,
            subject: try DistinguishedName { CommonName(host) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                SubjectAlternativeNames([.dnsName(host)])
                try ExtendedKeyUsage([.serverAuth])
            },
            issuerPrivateKey: originCA.privateKey
        )
        let certPath = directory.appendingPathComponent("\(host)-leaf.pem").path
        let keyPath = directory.appendingPathComponent("\(host)-leaf.key").path
        try (try leaf.serializeAsPEM().pemString + "\n").write(toFile: certPath, atomically: true, encoding: .utf8)
        try (key.pemRepresentation + "\n").write(toFile: keyPath, atomically: true, encoding: .utf8)
        return (certPath, keyPath)
    }
}
