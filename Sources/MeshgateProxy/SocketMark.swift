#if canImport(Glibc)
import Glibc
#endif

/// `SO_MARK` needs CAP_NET_ADMIN; finding out at start beats failing every upstream connection.
public enum SocketMark {
    /// Why `mark` cannot be set on this process's sockets, or nil when it can.
    public static func check(_ mark: Int32) -> String? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        defer { close(fd) }
        var value = mark
        guard setsockopt(fd, SOL_SOCKET, SO_MARK, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            return "setsockopt(SO_MARK): \(String(cString: strerror(errno)))"
        }
        return nil
    }
}
