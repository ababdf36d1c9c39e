import SwiftASN1
import X509

extension CertificateAuthority {
    /// Mode of the written certificate: public material.
    static let certificateMode = 0o644
    /// Mode of the written key: owner only.
    static let keyMode = 0o600

    /// Loads a CA from a PEM certificate and a PEM private key (PKCS#8, SEC1 or PKCS#1).
    ///
    /// Refuses a key file that group or others may access, naming the path, its mode and the `chmod 600`
    /// fix: a CA key others can read lets them impersonate every host to every client that trusts it.
    public static func load(certificatePath: String, keyPath: String) throws(CAError) -> CertificateAuthority {
        guard let mode = try SecureFile.mode(of: keyPath) else {
            throw CAError(
                kind: .io,
                path: keyPath,
                message: "CA key \(keyPath) does not exist; create one with `meshgate ca init`"
            )
        }
        if mode & 0o077 != 0 {
            throw CAError.insecureKeyPermissions(path: keyPath, mode: mode)
        }
        let certificate = try readCertificate(path: certificatePath)
        let key: Certificate.PrivateKey
        do {
            key = try Certificate.PrivateKey(pemEncoded: try SecureFile.readText(keyPath))
        } catch let error as CAError {
            throw error
        } catch {
            throw CAError(
                kind: .invalidKey,
                path: keyPath,
                message: "\(keyPath) does not hold an unencrypted PEM private key (ECDSA or RSA)\(Self.reason(error)); restore it from your backup, or create a new CA with `meshgate ca init --force` (clients must then trust the new certificate)"
            )
        }
        do throws(CAError) {
            return try CertificateAuthority(certificate: certificate, privateKey: key)
        } catch {
            // Name the files: the initialiser cannot know where the values came from.
            let path = error.kind == .keyMismatch ? keyPath : certificatePath
            throw CAError(
                kind: error.kind,
                path: path,
                message: "\(certificatePath) / \(keyPath): \(error.message)"
            )
        }
    }

    /// The CA certificate alone, as PEM and DER: what `meshgate ca export` prints. It needs no access
    /// to the private key, which only the user meshgate runs as should be able to read.
    public static func exportCertificate(path: String) throws(CAError) -> (pem: String, der: [UInt8]) {
        let certificate = try readCertificate(path: path)
        do {
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            return (PEMDocument(type: "CERTIFICATE", derBytes: serializer.serializedBytes).pemString + "\n", serializer.serializedBytes)
        } catch {
            throw CAError(kind: .invalidCertificate, path: path, message: "cannot serialise the CA certificate in \(path)")
        }
    }

    private static func readCertificate(path certificatePath: String) throws(CAError) -> Certificate {
        guard try SecureFile.mode(of: certificatePath) != nil else {
            throw CAError(
                kind: .io,
                path: certificatePath,
                message: "CA certificate \(certificatePath) does not exist; create one with `meshgate ca init`"
            )
        }
        do {
            return try Certificate(pemEncoded: try SecureFile.readText(certificatePath))
        } catch let error as CAError {
            throw error
        } catch {
            throw CAError(
                kind: .invalidCertificate,
                path: certificatePath,
                message: "\(certificatePath) does not hold a PEM certificate (-----BEGIN CERTIFICATE-----)\(reason(error)); restore it from your backup, or create a new CA with `meshgate ca init --force` (clients must then trust the new certificate)"
            )
        }
    }

    /// What the decoder found, without its source file and line (swift-asn1 puts those in its
    /// errors' descriptions, which say nothing to an operator).
    static func reason(_ error: any Error) -> String {
        if let asn1 = error as? ASN1Error {
            switch asn1.code {
            case .invalidPEMDocument: return ": it is not PEM"
            case .truncatedASN1Field, .invalidASN1Object, .unexpectedFieldType, .invalidASN1IntegerEncoding, .unsupportedFieldLength:
                return ": its contents are not a valid certificate or key"
            default: return ": \(asn1.code)"
            }
        }
        return ""
    }

    /// Writes the certificate (mode 0644) and the key (mode 0600, created with that mode), creating
    /// missing parent directories. Without `overwrite`, refuses when either file exists and writes nothing.
    public func write(certificatePath: String, keyPath: String, overwrite: Bool) throws(CAError) {
        if !overwrite {
            for path in [keyPath, certificatePath] where SecureFile.exists(path) {
                throw CAError.fileExists(path: path)
            }
        }
        let keyPEM: String
        do {
            keyPEM = try privateKey.serializeAsPEM().pemString + "\n"
        } catch {
            throw CAError(
                kind: .invalidKey,
                path: keyPath,
                message: "cannot serialise the CA key for \(keyPath): \(error)"
            )
        }
        try SecureFile.createParentDirectories(of: keyPath)
        try SecureFile.createParentDirectories(of: certificatePath)
        // The key first: a certificate without its key is useless, whereas a lone key is merely incomplete.
        try SecureFile.write(keyPEM, to: keyPath, mode: Self.keyMode, overwrite: overwrite)
        do {
            try SecureFile.write(certificatePEM, to: certificatePath, mode: Self.certificateMode, overwrite: overwrite)
        } catch {
            if !overwrite { SecureFile.remove(keyPath) }
            throw error
        }
    }

    /// Loads the CA when both files exist, creates and writes a new one when neither does (`created` is
    /// then true), and refuses when only one exists, since guessing would either orphan clients' trust
    /// or lose a key.
    public static func loadOrCreate(
        certificatePath: String,
        keyPath: String,
        keyType: CAKeyType = .ecdsaP256
    ) throws -> (CertificateAuthority, created: Bool) {
        let certificateExists = SecureFile.exists(certificatePath)
        let keyExists = SecureFile.exists(keyPath)
        switch (certificateExists, keyExists) {
        case (true, true):
            return (try load(certificatePath: certificatePath, keyPath: keyPath), false)
        case (false, false):
            let authority = try create(keyType: keyType)
            try authority.write(certificatePath: certificatePath, keyPath: keyPath, overwrite: false)
            return (authority, true)
        case (true, false):
            throw CAError(
                kind: .incompleteCA,
                path: keyPath,
                message: "CA certificate \(certificatePath) exists but its key \(keyPath) does not; "
                    + "restore the key, or run `meshgate ca init --force` to replace the CA (clients must trust the new one)"
            )
        case (false, true):
            throw CAError(
                kind: .incompleteCA,
                path: certificatePath,
                message: "CA key \(keyPath) exists but its certificate \(certificatePath) does not; "
                    + "restore the certificate, or run `meshgate ca init --force` to replace the CA (clients must trust the new one)"
            )
        }
    }
}
