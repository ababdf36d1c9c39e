import Crypto
import Foundation

/// Ed25519 keys and detached signatures for ruleset files (`rules keygen`, `rules sign`, and the
/// verification `rules update` does). Keys and signatures are base64 of the raw bytes: 32-byte keys,
/// 64-byte signatures over the file's exact bytes.
public enum RulesetSigning {
    /// File names `rules keygen` writes.
    public static let privateKeyFileName = "ruleset-signing.key"
    public static let publicKeyFileName = "ruleset-signing.pub"

    /// Creates a key pair in `directory`: the private key with mode 0600 (never briefly readable by
    /// others), the public key 0644. Refuses to overwrite. Returns the public key as base64.
    public static func generateKeyPair(in directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let privatePath = (directory as NSString).appendingPathComponent(privateKeyFileName)
        let publicPath = (directory as NSString).appendingPathComponent(publicKeyFileName)
        for path in [privatePath, publicPath] where FileManager.default.fileExists(atPath: path) {
            throw SigningError(message: "\(path) already exists; refusing to overwrite a signing key (move it away first)")
        }
        let key = Curve25519.Signing.PrivateKey()
        let publicKey = key.publicKey.rawRepresentation.base64EncodedString()
        try write(key.rawRepresentation.base64EncodedString() + "\n", to: privatePath, mode: 0o600, replace: false)
        try write(publicKey + "\n", to: publicPath, mode: 0o644, replace: false)
        return publicKey
    }

    /// Signs `file`'s exact bytes with the private key in `keyPath`, writing `file.sig`. Returns its path.
    public static func sign(file: String, keyPath: String) throws -> String {
        let key = try loadPrivateKey(keyPath)
        guard let data = FileManager.default.contents(atPath: file) else {
            throw SigningError(message: "cannot read \(file)")
        }
        let signature = try key.signature(for: data)
        let signaturePath = file + ".sig"
        try write(signature.base64EncodedString() + "\n", to: signaturePath, mode: 0o644, replace: true)
        return signaturePath
    }

    /// Whether `signature` (base64, as in a `.sig` file) is a valid signature of `data` by any of
    /// `trustedKeys` (base64 raw Ed25519 public keys; more than one while keys rotate).
    public static func verify(data: Data, signature: String, trustedKeys: [[UInt8]]) -> Bool {
        guard let raw = Data(base64Encoded: signature.trimmingCharacters(in: .whitespacesAndNewlines)), raw.count == 64 else {
            return false
        }
        return trustedKeys.contains { key in
            (try? Curve25519.Signing.PublicKey(rawRepresentation: key))?.isValidSignature(raw, for: data) ?? false
        }
    }

    static func loadPrivateKey(_ path: String) throws -> Curve25519.Signing.PrivateKey {
        guard let text = FileManager.default.contents(atPath: path).flatMap({ String(data: $0, encoding: .utf8) }) else {
            throw SigningError(message: "cannot read signing key \(path)")
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        if let mode = attributes?[.posixPermissions] as? Int, mode & 0o077 != 0 {
            throw SigningError(message: "signing key \(path) has mode \(String(mode, radix: 8)) and is readable by others; run `chmod 600 \(path)`")
        }
        guard let raw = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), raw.count == 32,
              let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) else {
            throw SigningError(message: "\(path) is not a base64 Ed25519 private key (32 bytes); make one with `meshgate rules keygen --out DIR`")
        }
        return key
    }

    private static func write(_ text: String, to path: String, mode: mode_t, replace: Bool) throws {
        let fd = open(path, O_WRONLY | O_CREAT | (replace ? O_TRUNC : O_EXCL), mode)
        guard fd >= 0 else {
            throw SigningError(message: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            throw SigningError(message: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        fchmod(fd, mode)
    }

    /// A signing problem, named plainly.
    public struct SigningError: Error, CustomStringConvertible {
        /// What went wrong and what to do.
        public var message: String
        /// The message.
        public var description: String { message }
    }
}
