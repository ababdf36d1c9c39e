import Foundation
import MeshgateCore

/// Finds the local process behind a redirected connection from this node: the client socket is
/// the one in `/proc/net/tcp{,6}` whose local end is our peer's address, which gives its owner's
/// uid and inode; the process holding that inode gives the cgroup. Blocking file I/O, so callers
/// run it off the event loop.
enum SocketOwner {
    /// The owner of the TCP socket whose local end is `address`:`port`, or nil when it is not a
    /// socket of this host (forwarded traffic) or it is already gone.
    static func lookup(address: [UInt8], port: Int, withCgroup: Bool, procRoot: String = "/proc") -> LocalWorkload? {
        // A dual-stack listener sees IPv4 peers as v4-mapped; their sockets are in /proc/net/tcp.
        let address = IPAddress.unmapped(address)
        let candidates: [(file: String, key: String)]
        if address.count == 4 {
            candidates = [("net/tcp", hex4(address) + ":" + hexPort(port)), ("net/tcp6", hex16(mapped(address)) + ":" + hexPort(port))]
        } else {
            candidates = [("net/tcp6", hex16(address) + ":" + hexPort(port))]
        }
        for (file, key) in candidates {
            guard let table = readAll("\(procRoot)/\(file)") else { continue }
            for line in table.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
                guard fields.count > 9, fields[1] == key, fields[3] != "0A", let uid = UInt32(fields[7]) else { continue }
                let inode = String(fields[9])
                let cgroup = withCgroup && inode != "0" ? cgroupOfSocket(inode: inode, owner: uid, procRoot: procRoot) : nil
                return LocalWorkload(uid: uid, cgroup: cgroup)
            }
        }
        return nil
    }

    /// The cgroup v2 path of the process that holds `socket:[inode]`: a walk over the owner's
    /// processes' descriptors with plain readdir/readlink (this runs per connection).
    static func cgroupOfSocket(inode: String, owner: UInt32, procRoot: String) -> String? {
        let target = Array("socket:[\(inode)]".utf8)
        for pid in entries(of: procRoot) where pid.first?.isNumber == true {
            // Only the socket owner's processes can hold it (short of fd passing): skip the rest cheaply.
            var info = stat()
            guard stat("\(procRoot)/\(pid)", &info) == 0, info.st_uid == owner else { continue }
            let fdDirectory = "\(procRoot)/\(pid)/fd"
            var link = [UInt8](repeating: 0, count: 64)
            for fd in entries(of: fdDirectory) {
                let n = link.withUnsafeMutableBufferPointer { buffer in
                    buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { readlink("\(fdDirectory)/\(fd)", $0, buffer.count) }
                }
                if n == target.count, link[0..<n].elementsEqual(target) {
                    return cgroup(ofProcess: pid, procRoot: procRoot)
                }
            }
        }
        return nil
    }

    /// A directory's entry names, without `.` and `..`; empty when it cannot be read.
    static func entries(of path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The unified hierarchy's line of `/proc/PID/cgroup` (`0::/system.slice/x.service`).
    static func cgroup(ofProcess pid: String, procRoot: String) -> String? {
        guard let text = readAll("\(procRoot)/\(pid)/cgroup") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("0::") {
            return String(line.dropFirst(3))
        }
        return text.split(separator: "\n").first.flatMap { $0.split(separator: ":", maxSplits: 2).last.map(String.init) }
    }

    /// Reads a whole file with read(2): procfs files report size 0, which defeats readers that trust stat.
    static func readAll(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    // /proc/net/tcp prints each 32-bit word of the address in host (little-endian) byte order.
    static func hex4(_ bytes: [UInt8]) -> String {
        bytes.reversed().map { String(format: "%02X", $0) }.joined()
    }

    static func hex16(_ bytes: [UInt8]) -> String {
        stride(from: 0, to: 16, by: 4).map { hex4(Array(bytes[$0..<$0 + 4])) }.joined()
    }

    static func hexPort(_ port: Int) -> String { String(format: "%04X", port) }

    static func mapped(_ v4: [UInt8]) -> [UInt8] { [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + v4 }
}
