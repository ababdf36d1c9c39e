import Foundation
import NIOSSL
import X509

@testable import MeshgateTLS

/// CAs shared by the tests of one run: generating an RSA-3072 key takes a noticeable moment.
enum Fixtures {
    static let ecdsaCA: CertificateAuthority = makeCA(.ecdsaP256)
    static let rsaCA: CertificateAuthority = makeCA(.rsa3072)

    static func ca(_ keyType: CAKeyType) -> CertificateAuthority {
        switch keyType {
        case .ecdsaP256: ecdsaCA
        case .rsa3072: rsaCA
        }
    }

    private static func makeCA(_ keyType: CAKeyType) -> CertificateAuthority {
        do {
            return try CertificateAuthority.create(commonName: "meshgate test CA \(keyType.rawValue)", keyType: keyType)
        } catch {
            preconditionFailure("test CA generation failed: \(error)")
        }
    }
}

/// A fresh directory under the system temp dir, removed by `cleanup()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("meshgate-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        self.path = url.path
    }

    func file(_ name: String) -> String { path + "/" + name }

    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// The permission bits of a file.
func permissions(of path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
}

func setPermissions(_ mode: Int, of path: String) throws {
    try FileManager.default.setAttributes([.posixPermissions: NSNumber(value: mode)], ofItemAtPath: path)
}

/// The X509 form of a NIOSSL certificate.
func x509(_ certificate: NIOSSLCertificate) throws -> Certificate {
    try Certificate(derEncoded: certificate.toDERBytes())
}
