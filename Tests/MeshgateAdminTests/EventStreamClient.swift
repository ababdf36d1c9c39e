import Foundation
import Logging
import MeshgateAdmin
import ServiceLifecycle

/// `curl -N` reading a server-sent event stream into a file, for tests that wait for what arrives.
final class EventStreamClient: @unchecked Sendable {
    private let process = Process()
    private let output: URL

    init(_ url: String, headers: [String]) throws {
        output = FileManager.default.temporaryDirectory.appendingPathComponent("meshgate-sse-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["curl", "-sS", "-N", "-i", "--noproxy", "*", "--max-time", "30"] + headers.flatMap { ["-H", $0] } + [url]
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var text: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }

    func wait(for needle: String, timeout: TimeInterval = 5) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if text.contains(needle) { return true }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        return text.contains(needle)
    }

    /// True when curl ended by itself within `timeout`.
    func waitForExit(timeout: TimeInterval = 5) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { try await Task.sleep(nanoseconds: 20_000_000) }
        return !process.isRunning
    }

    /// Ends curl without waiting for it (waiting would hold one of the few cooperative threads).
    func stop() {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(at: output)
    }
}

/// An `AdminServer` under a ServiceGroup, so a test can shut it down gracefully as `serve` does on SIGTERM.
final class ServiceGroupRunner: Sendable {
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    init(_ server: AdminServer) {
        let group = ServiceGroup(configuration: .init(services: [.init(service: server)], logger: Logger(label: "test")))
        self.group = group
        task = Task { try await group.run() }
    }

    func shutDown() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}
