import Foundation

/// What a running process holds, read from /proc: its descriptors, which of its TCP sockets sit in
/// CLOSE-WAIT (the peer hung up and the process has not closed its side), how many are accepted
/// client connections on a listening port, and how many go to given origin ports (a proxy may keep
/// idle pooled upstream connections there, legitimately).
struct ProcessSockets {
    var descriptors: Int
    /// Descriptors that are sockets.
    var sockets: Int
    var closeWait: Int
    var clientConnections: Int
    var upstreamConnections: Int

    static func read(pid: Int32, listenPort: Int = -1, originPorts: Set<Int> = []) -> ProcessSockets {
        let fdDir = "/proc/\(pid)/fd"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: fdDir)) ?? []
        var inodes = Set<Substring>()
        for entry in entries {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(fdDir)/\(entry)"),
                  target.hasPrefix("socket:[") else { continue }
            inodes.insert(Substring(target.dropFirst(8).dropLast()))
        }
        var reading = ProcessSockets(descriptors: entries.count, sockets: inodes.count, closeWait: 0, clientConnections: 0, upstreamConnections: 0)
        for table in ["tcp", "tcp6"] {
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/net/\(table)", encoding: .utf8) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let columns = line.split(separator: " ", omittingEmptySubsequences: true)
                // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
                guard columns.count > 9, inodes.contains(columns[9]) else { continue }
                let state = columns[3]
                if state == "08" { reading.closeWait += 1 }
                if state != "0A", port(columns[1]) == listenPort { reading.clientConnections += 1 }
                if let remote = port(columns[2]), originPorts.contains(remote) { reading.upstreamConnections += 1 }
            }
        }
        return reading
    }

    /// The port of a /proc/net/tcp address (`0100007F:1F90`).
    private static func port(_ address: Substring) -> Int? {
        address.split(separator: ":").last.flatMap { Int($0, radix: 16) }
    }

    /// Polls until `settled` holds or `timeout` passes; returns the last reading.
    static func settle(pid: Int32, listenPort: Int = -1, originPorts: Set<Int> = [], timeout: Duration,
                       until settled: (ProcessSockets) -> Bool) async -> ProcessSockets {
        let deadline = ContinuousClock.now + timeout
        var reading = read(pid: pid, listenPort: listenPort, originPorts: originPorts)
        while !settled(reading), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(25))
            reading = read(pid: pid, listenPort: listenPort, originPorts: originPorts)
        }
        return reading
    }
}
