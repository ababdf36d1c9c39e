import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// This meshgate's name in the token ledger, kept in `state_dir/instance-id` so that a restarted
/// instance recognises, and gives back, the reservations its previous run left behind.
///
/// The file is locked (`flock`) for as long as the instance runs: a second process started on the
/// same `state_dir` cannot take the name (it would free the first one's live reservations), so it
/// runs under a name of its own for this run.
final class InstanceLease: Sendable {
    /// The holder name reservations are written under.
    let id: String
    /// Whether `id` is the one kept in `state_dir` (false: another live process holds that one).
    let isPersistent: Bool
    private let descriptor: Int32

    /// The file's name inside `state_dir`.
    static let fileName = "instance-id"

    /// Reads, or creates (mode 0600), `state_dir/instance-id` and locks it. Falls back to a name
    /// for this run alone when the file cannot be written or another process holds it.
    init(stateDirectory: String) {
        let path = (stateDirectory as NSString).appendingPathComponent(Self.fileName)
        try? FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0, flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            if fd >= 0 { close(fd) }
            descriptor = -1
            id = Self.fresh()
            isPersistent = false
            return
        }
        descriptor = fd
        var bytes = [UInt8](repeating: 0, count: 128)
        let count = pread(fd, &bytes, bytes.count, 0)
        let stored = String(decoding: bytes.prefix(max(0, count)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if Self.isValid(stored) {
            id = stored
        } else {
            let name = Self.fresh()
            let line = Array((name + "\n").utf8)
            _ = ftruncate(fd, 0)
            _ = pwrite(fd, line, line.count, 0)
            _ = fsync(fd)
            id = name
        }
        isPersistent = true
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// A new name: the host's, for people reading the ledger, and a random part. The name comes
    /// from gethostname(2), not ProcessInfo.hostName, which may ask DNS for the canonical name
    /// (a node whose resolver is down would stall at start).
    static func fresh() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        let name = gethostname(&buffer, buffer.count) == 0
            ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        let host = name.prefix(40).filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }
        return "\(host.isEmpty ? "meshgate" : String(host))-\(UUID().uuidString.prefix(8).lowercased())"
    }

    private static func isValid(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 100 && text.allSatisfy { $0.isASCII && !$0.isWhitespace }
    }
}
