import Foundation

/// A plain TCP connect, to tell "nothing listens there" at once: HTTP clients keep retrying a
/// refused connection until their deadline, which reads as a hang to the person at the terminal.
enum TCPProbe {
    /// Why no address of `host` accepts a connection on `port`, or nil when one does.
    static func failure(host: String, port: Int) -> String? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let lookup = getaddrinfo(host, String(port), &hints, &result)
        guard lookup == 0, result != nil else { return "cannot resolve \(host): \(String(cString: gai_strerror(lookup)))" }
        defer { freeaddrinfo(result) }
        var reason = "connection refused"
        var next = result
        while let candidate = next {
            next = candidate.pointee.ai_next
            let fd = socket(candidate.pointee.ai_family, candidate.pointee.ai_socktype, candidate.pointee.ai_protocol)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            if connect(fd, candidate.pointee.ai_addr, candidate.pointee.ai_addrlen) == 0 { return nil }
            reason = String(cString: strerror(errno)).lowercased()
        }
        return reason
    }
}
