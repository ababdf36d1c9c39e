import Foundation

/// The shared secret between `meshgate serve` and the local commands that drive it (`rules update`,
/// `rules rollback`, `usage`): a file in `state_dir` readable only by the service user. The admin
/// listener is on loopback, which every local user can reach; the token is what keeps them from
/// reloading the policy or reading usage.
public enum AdminToken {
    /// The file name inside `state_dir`.
    public static let fileName = "admin.token"

    /// Reads the token at `path`, creating it (mode 0600, 32 random bytes as hex) when absent.
    /// Refuses a file that group or others can read, naming the `chmod` that fixes it.
    public static func loadOrCreate(path: String) throws -> String {
        if FileManager.default.fileExists(atPath: path) { return try load(path: path) }
        var generator = SystemRandomNumberGenerator()
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            // Another process created it between the check and the open: use theirs.
            if errno == EEXIST { return try load(path: path) }
            throw AdminTokenError("cannot create the admin token \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let bytes = Array((token + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            throw AdminTokenError("cannot write the admin token \(path): \(String(cString: strerror(errno)))")
        }
        return token
    }

    /// Reads an existing token; the error names the fix when the file is missing, unreadable or
    /// too open.
    public static func load(path: String) throws -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw AdminTokenError("cannot read the admin token \(path): \(String(cString: strerror(errno))); start `meshgate serve` once to create it, and run this command as the user meshgate runs as")
        }
        if info.st_mode & 0o077 != 0 {
            throw AdminTokenError("the admin token \(path) has mode \(String(info.st_mode & 0o777, radix: 8)) and is readable by other users; run `chmod 600 \(path)`")
        }
        guard let data = FileManager.default.contents(atPath: path),
              let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines) else {
            throw AdminTokenError("cannot read the admin token \(path): permission denied; run this command as the user meshgate runs as (or with sudo)")
        }
        guard text.count >= 16 else {
            throw AdminTokenError("the admin token \(path) is too short (\(text.count) characters); delete it and restart `meshgate serve` to make a new one")
        }
        return text
    }
}

/// A problem with the admin token file, naming the fix.
public struct AdminTokenError: Error, CustomStringConvertible {
    /// What went wrong and what to do.
    public var description: String
    init(_ description: String) { self.description = description }
}
