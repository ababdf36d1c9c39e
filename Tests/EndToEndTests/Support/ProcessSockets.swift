import Foundation

/// What a running process holds, read from /proc: its descriptors and which of its TCP sockets sit
/// in CLOSE-WAIT (the peer hung up and the process has not closed its side).
struct ProcessSockets {
    var descriptors: Int
    var closeWait: Int

    static func read(pid: Int32) -> ProcessSockets {
        let fdDir = "/proc/\(pid)/fd"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: fdDir)) ?? []
        var inodes = Set<Substring>()
        for entry in entries {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(fdDir)/\(entry)"),
                  target.hasPrefix("socket:[") else { continue }
            inodes.insert(Substring(target.dropFirst(8).dropLast()))
        }
        var closeWait = 0
        for table in ["tcp", "tcp6"] {
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/net/\(table)", encoding: .utf8) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let columns = line.split(separator: " ", omittingEmptySubsequences: true)
                // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
                guard columns.count > 9, columns[3] == "08", inodes.contains(columns[9]) else { continue }
                closeWait += 1
            }
        }
        return ProcessSockets(descriptors: entries.count, closeWait: closeWait)
    }

    /// Polls until the process holds at most `descriptors` descriptors and nothing in CLOSE-WAIT,
    /// or `timeout` passes; returns the last reading.
    static func settle(pid: Int32, atMost descriptors: Int, timeout: Duration) async -> ProcessSockets {
        let deadline = ContinuousClock.now + timeout
        var reading = read(pid: pid)
        while (reading.descriptors > descriptors || reading.closeWait > 0), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(25))
            reading = read(pid: pid)
        }
        return reading
    }
}
