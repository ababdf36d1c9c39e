import Foundation
import MeshgateTLS

/// `meshgate ca init` and `meshgate ca export`.
public enum CACommands {
    /// Creates the CA in the configured paths; refuses to overwrite an existing one unless `force`.
    /// Returns a message for the terminal.
    public static func initialize(configuration: MeshgateConfiguration, force: Bool, keyType: CAKeyType?) throws -> String {
        try FileManager.default.createDirectory(atPath: configuration.stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let type = keyType ?? (configuration.tls.caKeyType == .rsa3072 ? .rsa3072 : .ecdsaP256)
        let authority = try CertificateAuthority.create(keyType: type)
        try authority.write(certificatePath: configuration.tls.caCertPath, keyPath: configuration.tls.caKeyPath, overwrite: force)
        return """
            created \(type.rawValue) CA
              certificate: \(configuration.tls.caCertPath)
              private key: \(configuration.tls.caKeyPath) (mode 0600)
            clients must trust the certificate: meshgate ca export > meshgate-ca.pem
            """
    }

    /// The CA certificate as PEM text or DER bytes.
    public static func export(configuration: MeshgateConfiguration, der: Bool) throws -> [UInt8] {
        // Only the certificate is read: exporting it must not need the private key.
        let certificate = try CertificateAuthority.exportCertificate(path: configuration.tls.caCertPath)
        return der ? certificate.der : Array(certificate.pem.utf8)
    }
}
