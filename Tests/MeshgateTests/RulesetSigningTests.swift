import Foundation
import Meshgate
import Testing

@Suite struct RulesetSigningTests {
    static func tempDir() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meshgate-sign-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func signedFilesVerifyAndTamperedOnesDoNot() throws {
        let dir = try Self.tempDir()
        let publicKey = try RulesetSigning.generateKeyPair(in: dir)
        let keyPath = dir + "/" + RulesetSigning.privateKeyFileName
        let mode = try FileManager.default.attributesOfItem(atPath: keyPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let trusted = try #require(Data(base64Encoded: publicKey)).map { $0 }
        #expect(trusted.count == 32)

        let file = dir + "/shadow-mcp.yaml"
        try "ruleset: x\nversion: \"2\"\nrules: []\n".write(toFile: file, atomically: true, encoding: .utf8)
        let sigPath = try RulesetSigning.sign(file: file, keyPath: keyPath)
        #expect(sigPath == file + ".sig")
        let signature = try String(contentsOfFile: sigPath, encoding: .utf8)
        #expect(Data(base64Encoded: signature.trimmingCharacters(in: .whitespacesAndNewlines))?.count == 64)
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        #expect(RulesetSigning.verify(data: data, signature: signature, trustedKeys: [trusted]))

        var tampered = data
        tampered[tampered.count - 2] ^= 0x01
        #expect(!RulesetSigning.verify(data: tampered, signature: signature, trustedKeys: [trusted]), "one flipped bit must fail")
        let other = try Self.tempDir()
        let otherKey = try #require(Data(base64Encoded: try RulesetSigning.generateKeyPair(in: other))).map { $0 }
        #expect(!RulesetSigning.verify(data: data, signature: signature, trustedKeys: [otherKey]))
        #expect(RulesetSigning.verify(data: data, signature: signature, trustedKeys: [otherKey, trusted]), "any trusted key (rotation)")
        #expect(!RulesetSigning.verify(data: data, signature: "not base64!", trustedKeys: [trusted]))
    }

    @Test func keygenRefusesToOverwriteAndSignRefusesAReadableKey() throws {
        let dir = try Self.tempDir()
        _ = try RulesetSigning.generateKeyPair(in: dir)
        #expect(throws: RulesetSigning.SigningError.self) { try RulesetSigning.generateKeyPair(in: dir) }
        let keyPath = dir + "/" + RulesetSigning.privateKeyFileName
        chmod(keyPath, 0o644)
        let file = dir + "/r.yaml"
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        do {
            _ = try RulesetSigning.sign(file: file, keyPath: keyPath)
            Issue.record("a key readable by others must be refused")
        } catch {
            #expect("\(error)".contains("chmod 600"))
        }
    }
}
