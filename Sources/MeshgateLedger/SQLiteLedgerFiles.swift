#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The SQLite ledger's files kept private to meshgate's user: they say who spent what.
///
/// SQLite creates a database with mode 0644 (less the umask) and gives its `-wal`, `-shm` and
/// `-journal` files the database file's mode. So the database file is created here with 0600
/// before SQLite opens it, and SQLite's companions follow; an existing file readable by group or
/// others (made by an older meshgate) is tightened before anything is read or written.
enum SQLiteLedgerFiles {
    /// The suffixes of the files SQLite keeps beside the database.
    static let companions = ["-wal", "-shm", "-journal"]

    /// Creates `path` with mode 0600 when it does not exist, and removes group and other
    /// permissions from it and its companions where they exist. Returns the files it tightened.
    static func secure(path: String) -> [String] {
        // O_EXCL: a file created a moment ago by another process is left to the check below.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 {
            // The umask can only take bits away; this pins the mode against an odd one like 0277.
            _ = fchmod(fd, 0o600)
            _ = close(fd)
        }
        var tightened: [String] = []
        for file in [path] + companions.map({ path + $0 }) {
            var info = stat()
            guard stat(file, &info) == 0, info.st_mode & 0o077 != 0 else { continue }
            // Owner bits stay as they are; a file we do not own (EPERM) is left for SQLite to open
            // or refuse as before.
            if chmod(file, info.st_mode & 0o700) == 0 { tightened.append(file) }
        }
        return tightened
    }
}
