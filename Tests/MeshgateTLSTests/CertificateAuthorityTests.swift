import Foundation
import Testing
import X509

@testable import MeshgateTLS

@Suite struct CertificateAuthorityTests {
    @Test(arguments: CAKeyType.allCases)
    func createWriteLoadRoundTrip(keyType: CAKeyType) throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let ca = Fixtures.ca(keyType)
        let certPath = dir.file("nested/state/ca.pem")
        let keyPath = dir.file("nested/state/ca.key")

        try ca.write(certificatePath: certPath, keyPath: keyPath, overwrite: false)
        #expect(try permissions(of: keyPath) == 0o600)
        #expect(try permissions(of: certPath) == 0o644)

        let loaded = try CertificateAuthority.load(certificatePath: certPath, keyPath: keyPath)
        #expect(loaded.certificate == ca.certificate)
        #expect(loaded.privateKey == ca.privateKey)
        #expect(loaded.certificateDER == ca.certificateDER)
        #expect(loaded.certificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect(try String(contentsOfFile: certPath, encoding: .utf8) == ca.certificatePEM)
    }

    @Test(arguments: CAKeyType.allCases)
    func createdCAIsASelfSignedCA(keyType: CAKeyType) throws {
        let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        let ca = try CertificateAuthority.create(commonName: "Test Root", keyType: keyType, now: now)
        let cert = ca.certificate
        #expect(cert.issuer == cert.subject)
        #expect(cert.publicKey.isValidSignature(cert.signature, for: cert))
        #expect(try cert.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        #expect(try cert.extensions.keyUsage?.keyCertSign == true)
        #expect(try cert.extensions.subjectKeyIdentifier != nil)
        #expect(cert.notValidBefore == now - 3_600)
        #expect(cert.notValidAfter > now + 9 * 365 * 86_400)
        #expect(cert.subject.description.contains("CN=Test Root"))
        #expect(cert.serialNumber.bytes.count == 16)
        #expect(cert.serialNumber.bytes.first.map { $0 & 0x80 == 0 } == true)
    }

    @Test func loadRefusesAKeyReadableByOthers() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let certPath = dir.file("ca.pem")
        let keyPath = dir.file("ca.key")
        try Fixtures.ecdsaCA.write(certificatePath: certPath, keyPath: keyPath, overwrite: false)
        try setPermissions(0o644, of: keyPath)

        let error = #expect(throws: CAError.self) {
            try CertificateAuthority.load(certificatePath: certPath, keyPath: keyPath)
        }
        #expect(error?.kind == .insecureKeyPermissions)
        #expect(error?.path == keyPath)
        let message = error?.description ?? ""
        #expect(message.contains(keyPath))
        #expect(message.contains("0644"))
        #expect(message.contains("chmod 600 \(keyPath)"))
        #expect(!message.contains("\n"))

        try setPermissions(0o600, of: keyPath)
        #expect(throws: Never.self) { try CertificateAuthority.load(certificatePath: certPath, keyPath: keyPath) }
    }

    @Test func writeRefusesToOverwriteUnlessAsked() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let certPath = dir.file("ca.pem")
        let keyPath = dir.file("ca.key")
        let first = Fixtures.ecdsaCA
        let second = try CertificateAuthority.create()
        try first.write(certificatePath: certPath, keyPath: keyPath, overwrite: false)

        let error = #expect(throws: CAError.self) {
            try second.write(certificatePath: certPath, keyPath: keyPath, overwrite: false)
        }
        #expect(error?.kind == .fileExists)
        #expect(error?.description.contains("--force") == true)
        #expect(
            try CertificateAuthority.load(certificatePath: certPath, keyPath: keyPath).certificate == first.certificate
        )

        try second.write(certificatePath: certPath, keyPath: keyPath, overwrite: true)
        #expect(
            try CertificateAuthority.load(certificatePath: certPath, keyPath: keyPath).certificate == second.certificate
        )
        #expect(try permissions(of: keyPath) == 0o600)
    }

    @Test func writeRefusesWhenOnlyTheCertificateExistsAndLeavesNoKeyBehind() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let certPath = dir.file("ca.pem")
        let keyPath = dir.file("ca.key")
        try "not mine".write(toFile: certPath, atomically: true, encoding: .utf8)

        #expect(throws: CAError.self) {
            try Fixtures.ecdsaCA.write(certificatePath: certPath, keyPath: keyPath, overwrite: false)
        }
        #expect(!FileManager.default.fileExists(atPath: keyPath))
        #expect(try String(contentsOfFile: certPath, encoding: .utf8) == "not mine")
    }

    @Test func overwritingAWorldReadableKeyLeavesItPrivate() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let certPath = dir.file("ca.pem")
        let keyPath = dir.file("ca.key")
        try "old".write(toFile: keyPath, atomically: true, encoding: .utf8)
        try setPermissions(0o666, of: keyPath)

        try Fixtures.ecdsaCA.write(certificatePath: certPath, keyPath: keyPath, overwrite: true)
        #expect(try permissions(of: keyPath) == 0o600)
        #expect(
            try CertificateAuthority.load(certificatePath: certPath, keyPath: keyPath).privateKey
                == Fixtures.ecdsaCA.privateKey
        )
        // No temporary files are left beside the CA.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["ca.key", "ca.pem"])
    }

    @Test func loadOrCreateCreatesOnceThenLoads() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let certPath = dir.file("state/ca.pem")
        let keyPath = dir.file("state/ca.key")

        let (created, wasCreated) = try CertificateAuthority.loadOrCreate(certificatePath: certPath, keyPath: keyPath)
        #expect(wasCreated)
        #expect(try permissions(of: keyPath) == 0o600)

        let (loaded, createdAgain) = try CertificateAuthority.loadOrCreate(certificatePath: certPath, keyPath: keyPath)
        #expect(!createdAgain)
        #expect(loaded.certificate == created.certificate)
    }

    @Test(arguments: ["certificate", "key"])
    func loadOrCreateRefusesHalfACA(missing: String) throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let certPath = dir.file("ca.pem")
        let keyPath = dir.file("ca.key")
        try Fixtures.ecdsaCA.write(certificatePath: certPath, keyPath: keyPath, overwrite: false)
        let removed = missing == "key" ? keyPath : certPath
        try FileManager.default.removeItem(atPath: removed)

        let error = #expect(throws: CAError.self) {
            try CertificateAuthority.loadOrCreate(certificatePath: certPath, keyPath: keyPath)
        }
        #expect(error?.kind == .incompleteCA)
        #expect(error?.path == removed)
        #expect(error?.description.contains(removed) == true)
        #expect(!FileManager.default.fileExists(atPath: removed))
    }

    @Test func loadRejectsAKeyThatIsNotTheCertificates() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        try Fixtures.ecdsaCA.write(certificatePath: dir.file("a.pem"), keyPath: dir.file("a.key"), overwrite: false)
        let other = try CertificateAuthority.create()
        try other.write(certificatePath: dir.file("b.pem"), keyPath: dir.file("b.key"), overwrite: false)

        let error = #expect(throws: CAError.self) {
            try CertificateAuthority.load(certificatePath: dir.file("a.pem"), keyPath: dir.file("b.key"))
        }
        #expect(error?.kind == .keyMismatch)
        #expect(error?.description.contains(dir.file("b.key")) == true)
    }

    @Test func loadRejectsGarbage() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let certPath = dir.file("ca.pem")
        let keyPath = dir.file("ca.key")
        try Fixtures.ecdsaCA.write(certificatePath: certPath, keyPath: keyPath, overwrite: false)
        try "hello".write(toFile: certPath, atomically: true, encoding: .utf8)

        let error = #expect(throws: CAError.self) {
            try CertificateAuthority.load(certificatePath: certPath, keyPath: keyPath)
        }
        #expect(error?.kind == .invalidCertificate)
        #expect(error?.description.contains(certPath) == true)
    }

    @Test func aCertificateWithoutCAConstraintsIsRefused() throws {
        let key = try CertificateAuthority.create().privateKey
        let name = try DistinguishedName { CommonName("not a CA") }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: key.publicKey,
            notValidBefore: Date() - 60,
            notValidAfter: Date() + 3_600,
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions { Critical(BasicConstraints.notCertificateAuthority) },
            issuerPrivateKey: key
        )
        let error = #expect(throws: CAError.self) {
            try CertificateAuthority(certificate: certificate, privateKey: key)
        }
        #expect(error?.kind == .invalidCertificate)
    }
}
