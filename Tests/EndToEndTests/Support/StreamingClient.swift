import Foundation
import NIOConcurrencyHelpers

/// A client process whose output is watched as it arrives (for streaming tests).
final class StreamingClient: Sendable {
    private let process: Process
    private let output = NIOLockedValueBox("")
    private let input = Pipe()

    init(_ command: [String], environment: [String: String] = Curl.environment, captureStderr: Bool = false) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try ProcessRunner.which(command[0]))
        process.arguments = Array(command.dropFirst())
        process.environment = environment
        process.standardInput = input
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = captureStderr ? pipe : FileHandle.nullDevice
        try process.run()
        self.process = process
        // A thread of its own reads the output: Foundation's readabilityHandler runs on Dispatch's
        // shared pool, which the rest of a full test run can keep busy for seconds, so a line the
        // child printed at once was sometimes seen only after a test had given up waiting for it.
        let output = self.output
        let handle = pipe.fileHandleForReading
        let reader = Thread {
            while true {
                let data = handle.availableData
                if data.isEmpty { return }
                output.withLockedValue { $0 += String(decoding: data, as: UTF8.self) }
            }
        }
        reader.start()
    }

    var text: String { output.withLockedValue { $0 } }

    /// The child's process id (for /proc inspection).
    var pid: Int32 { process.processIdentifier }

    func waitForOutput(containing needle: String, timeout: TimeInterval) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        // Looked at again after every sleep, the last one included: in a full run this task can be
        // left unscheduled past the deadline while the output it waits for has long arrived.
        while true {
            if text.contains(needle) { return true }
            if Date() >= deadline { return false }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
    }

    func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// The exit status once the process ends, or nil if it is still running at the timeout.
    func waitForExit(timeout: TimeInterval) async throws -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline { return nil }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        return process.terminationStatus
    }

    func terminate() {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
    }
}
