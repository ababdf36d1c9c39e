import Crypto
import Foundation
import NIOSSL
import MeshgateTLS
import SwiftASN1
import X509

extension TestPKI {
    /// Writes a leaf for `host` signed by the origin CA as PEM files (for origins that are not Swift,
    /// e.g. the Python WebSocket server), returning (certificate path, key path).
    func writeOriginLeaf(host: String, ipAddress: [UInt8]? = nil, moreHosts: [String] = []) throws -> (String, String) {
        let (leaf, key) = try makeOriginLeaf(host: host, ipAddress: ipAddress, moreHosts: moreHosts)
        let certPath = directory.appendingPathComponent("\(host)-leaf.pem").path
        let keyPath = directory.appendingPathComponent("\(host)-leaf.key").path
        try (try leaf.serializeAsPEM().pemString + "\n").write(toFile: certPath, atomically: true, encoding: .utf8)
        try (key.pemRepresentation + "\n").write(toFile: keyPath, atomically: true, encoding: .utf8)
        return (certPath, keyPath)
    }

    func makeOriginLeaf(host: String, ipAddress: [UInt8]?, moreHosts: [String] = []) throws -> (Certificate, P256.Signing.PrivateKey) {
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
                SubjectAlternativeNames(([host] + moreHosts).map { GeneralName.dnsName($0) } + (ipAddress.map { [GeneralName.ipAddress(ASN1OctetString(contentBytes: ArraySlice($0)))] } ?? []))
                try ExtendedKeyUsage([.serverAuth])
            },
            issuerPrivateKey: originCA.privateKey
        )
        return (leaf, key)
    }
}

extension TestPKI {
    /// A TLS server context for an origin whose certificate names `localhost` and 127.0.0.1.
    func originContextWithIPAddress() throws -> NIOSSLContext {
        try originContext(hosts: ["localhost"], ipAddress: [127, 0, 0, 1])
    }

    /// A TLS server context for an origin that answers to all of `hosts`.
    func originContext(hosts: [String], ipAddress: [UInt8]? = nil) throws -> NIOSSLContext {
        let (leaf, key) = try makeOriginLeaf(host: hosts[0], ipAddress: ipAddress, moreHosts: Array(hosts.dropFirst()))
        var serializer = DER.Serializer()
        try serializer.serialize(leaf)
        let config = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(key.derRepresentation), format: .der))
        )
        return try NIOSSLContext(configuration: config)
    }
}
