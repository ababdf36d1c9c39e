#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the audit file could not be opened or written; names the path and the OS error.
public struct AuditFileError: Error, CustomStringConvertible, Sendable {
    /// The configured `audit.path`.
    public var path: String
    /// What was being done: "create directory for", "open", "write".
    public var operation: String
    /// The `errno` value.
    public var code: Int32

    /// A one-line cause with a hint at the fix.
    public var description: String {
        let message = String(cString: strerror(code))
        return "cannot \(operation) audit log \(path): \(message) (errno \(code)); check audit.path and the directory's permissions"
    }
}

/// A blocking append-only file descriptor for audit lines. Used only from the sink's writer
/// queue, never from an event loop.
struct AuditFile {
    /// The path, or "-" for standard output.
    let path: String
    private(set) var descriptor: Int32

    /// Opens `path` for appending (creating it with mode 0640 and its parent directories with
    /// mode 0750 if needed); "-" is standard output.
    static func open(path: String) throws(AuditFileError) -> AuditFile {
        if path == "-" { return AuditFile(path: path, descriptor: STDOUT_FILENO) }
        var fd = openAppend(path)
        if fd < 0, errno == ENOENT {
            try createParentDirectories(of: path)
            fd = openAppend(path)
        }
        guard fd >= 0 else { throw AuditFileError(path: path, operation: "open", code: errno) }
        return AuditFile(path: path, descriptor: fd)
    }

    /// Writes all of `bytes`, retrying short writes and interruptions. On failure the error
    /// carries how many bytes did reach the file.
    func writeAll(_ bytes: [UInt8]) -> (written: Int, error: AuditFileError?) {
        var written = 0
        var waits = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return systemWrite(descriptor, base + written, bytes.count - written)
            }
            if n > 0 {
                written += n
                waits = 0
                continue
            }
            let code = n < 0 ? errno : EIO
            if code == EINTR { continue }
            // A non-blocking stdout inherited from a parent: wait for room, but not forever,
            // so a stuck reader turns into a counted failure instead of a hung shutdown.
            if code == EAGAIN || code == EWOULDBLOCK, waits < 10 {
                waits += 1
                var pfd = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                _ = poll(&pfd, 1, 1000)
                continue
            }
            return (written, AuditFileError(path: path, operation: "write", code: code))
        }
        return (written, nil)
    }

    /// Closes the descriptor (standard output stays open).
    func close() {
        if descriptor != STDOUT_FILENO { _ = systemClose(descriptor) }
    }

    private static func openAppend(_ path: String) -> Int32 {
        systemOpen(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
    }

    private static func createParentDirectories(of path: String) throws(AuditFileError) {
        var components = path.split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast()
        var current = path.hasPrefix("/") ? "" : "."
        for component in components where !component.isEmpty {
            current += "/" + component
            if mkdir(current, 0o750) != 0, errno != EEXIST {
                throw AuditFileError(path: path, operation: "create directory \(current) for", code: errno)
            }
        }
    }
}

// The module's own `open`/`write`/`close` names would shadow the C functions inside AuditFile.
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
private func systemWrite(_ fd: Int32, _ buf: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buf, count) }
private func systemClose(_ fd: Int32) -> Int32 { close(fd) }
