#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Small POSIX file helpers for the CA files, where the mode a file is *created* with matters:
/// a key written with the default mode and chmod-ed afterwards is briefly readable by others.
enum SecureFile {
    /// The permission bits of `path`, or nil when it does not exist.
    static func mode(of path: String) throws(CAError) -> Int? {
        var st = stat()
        if stat(path, &st) != 0 {
            let code = errno
            if code == ENOENT { return nil }
            throw CAError.io("inspect", path: path, errno: code)
        }
        return Int(st.st_mode) & 0o7777
    }

    /// Whether something exists at `path` (a dangling symlink counts: writing through it would be surprising).
    static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// Reads a whole (small) file as UTF-8 text.
    static func readText(_ path: String) throws(CAError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw CAError.io("open", path: path, errno: errno) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CAError.io("read", path: path, errno: errno)
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
            if bytes.count > 1 << 20 {
                throw CAError(kind: .io, path: path, message: "\(path) is larger than 1 MiB; it is not a PEM file")
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Creates each missing directory on the way to `path`'s parent with mode 0755.
    static func createParentDirectories(of path: String) throws(CAError) {
        var components = path.split(separator: "/", omittingEmptySubsequences: false).dropLast()
        guard !components.isEmpty else { return }
        var current = path.hasPrefix("/") ? "" : "."
        if path.hasPrefix("/") { components = components.dropFirst() }
        for component in components where !component.isEmpty {
            current += "/" + component
            if mkdir(current, 0o755) != 0 {
                let code = errno
                if code == EEXIST { continue }
                throw CAError.io("create directory", path: current, errno: code)
            }
        }
    }

    /// Writes `contents` to `path` with exactly `mode`. The file is created with that mode (the umask can
    /// only narrow it, and it is then set exactly), so it is never more accessible than asked, not even
    /// for a moment. Without `overwrite` an existing file is an error; with it the old file is replaced
    /// atomically by a rename, so a reader sees the old or the new file, never a torn one.
    static func write(_ contents: String, to path: String, mode: Int, overwrite: Bool) throws(CAError) {
        let target = overwrite ? temporaryPath(for: path) : path
        let fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
        if fd < 0 {
            let code = errno
            if code == EEXIST, !overwrite { throw CAError.fileExists(path: path) }
            throw CAError.io("create", path: target, errno: code)
        }
        var ok = false
        defer {
            close(fd)
            if !ok { unlink(target) }
        }
        if fchmod(fd, mode_t(mode)) != 0 { throw CAError.io("set the mode of", path: target, errno: errno) }
        var bytes = Array(contents.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glue.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CAError.io("write", path: target, errno: errno)
            }
            bytes = bytes.dropFirst(n)
        }
        if fsync(fd) != 0 { throw CAError.io("flush", path: target, errno: errno) }
        if overwrite, rename(target, path) != 0 { throw CAError.io("replace", path: path, errno: errno) }
        ok = true
    }

    /// Removes a file this process just created, ignoring errors (used to undo half a write).
    static func remove(_ path: String) {
        unlink(path)
    }

    private static func temporaryPath(for path: String) -> String {
        "\(path).tmp-\(getpid())-\(UInt32.random(in: .min ... .max))"
    }
}

/// Disambiguates libc's `write` from the static method above.
private enum Glue {
    static func write(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
        #if canImport(Glibc)
        Glibc.write(fd, buffer, count)
        #elseif canImport(Musl)
        Musl.write(fd, buffer, count)
        #else
        Darwin.write(fd, buffer, count)
        #endif
    }
}

/// `strerror` as a Swift string.
func errnoDescription(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
}
