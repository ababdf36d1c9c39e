import Foundation
import Logging
import MeshgateCore
import MetricsTestKit
import ServiceLifecycle
import Testing

@testable import MeshgateAudit

/// Log rotation: the file is renamed away (`mv`, logrotate) and `reopen()` (SIGUSR1/SIGHUP in
/// `serve`) makes the sink write a new file at the configured path.
@Suite("JSONLinesAuditSink rotation")
struct JSONLinesAuditSinkRotationTests {
    private static let logger = Logger(label: "meshgate.audit.test", factory: { _ in SwiftLogNoOpLogHandler() })

    private static func event(_ seq: Int) -> AuditEvent {
        AuditEvent(timestampMillis: 1_795_949_518_000, kind: .http, client: "127.0.0.1:40000", identity: nil,
                   action: .allow, detections: [], fields: [("seq", .int(Int64(seq)))])
    }

    private static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meshgate-rotate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// The `seq` of every line in `path`; fails the test on a line that is not a whole JSON object.
    private static func seqs(at path: String) -> [Int] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), !text.isEmpty else { return [] }
        #expect(text.hasSuffix("\n"), "\(path) ends in a partial line")
        return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().compactMap { line in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object != nil, "not JSON: \(line)")
            return object?["seq"] as? Int
        }
    }

    private static func mode(of path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
    }

    @Test func reopenAfterARenameWritesANewFileWithTheSameMode() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("audit.jsonl").path
        let rotated = path + ".1"
        let sink = JSONLinesAuditSink(path: path, logger: Self.logger, metricsFactory: TestMetrics())
        let task = Task { try await sink.run() }

        sink.record(Self.event(0))
        try await waitUntil { Self.seqs(at: path) == [0] }
        let startMode = try #require(Self.mode(of: path))
        #expect(startMode & 0o007 == 0, "mode \(String(startMode, radix: 8))")

        // Renamed: the open descriptor still writes to the renamed file until the reopen.
        #expect(rename(path, rotated) == 0)
        sink.record(Self.event(1))
        try await waitUntil { Self.seqs(at: rotated) == [0, 1] }
        #expect(!FileManager.default.fileExists(atPath: path))

        // The writer is idle here; the reopen must not wait for the next event to make the file.
        sink.reopen()
        try await waitUntil { FileManager.default.fileExists(atPath: path) }
        #expect(Self.mode(of: path) == startMode)

        sink.record(Self.event(2))
        try await waitUntil { Self.seqs(at: path) == [2] }
        #expect(Self.seqs(at: rotated) == [0, 1])

        // A reopen without a rotation (SIGHUP that only reloads) appends to the same file.
        sink.reopen()
        sink.record(Self.event(3))
        try await waitUntil { Self.seqs(at: path) == [2, 3] }
        task.cancel()
        try await task.value
        #expect(sink.health == .ok)
    }

    @Test func eventsRecordedWhileRotatingLandExactlyOnce() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("audit.jsonl").path
        let metrics = TestMetrics()
        let sink = JSONLinesAuditSink(path: path, logger: Self.logger, metricsFactory: metrics)
        let group = ServiceGroup(services: [sink], logger: Self.logger)
        let rotations = 8
        let producers = 4, perProducer = 10_000

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            await withTaskGroup(of: Void.self) { workers in
                // Paced (a pause every 25 events, ~0.4 s in all) so events arrive before, between and
                // after the rotations; 40,000 in all fit the queue even if the writer stalled.
                for producer in 0..<producers {
                    workers.addTask {
                        for i in 0..<perProducer {
                            sink.record(Self.event(producer * perProducer + i))
                            if i % 25 == 24 { try? await Task.sleep(for: .milliseconds(1)) }
                        }
                    }
                }
                workers.addTask {
                    for n in 1...rotations {
                        try? await waitUntil { FileManager.default.fileExists(atPath: path) }
                        try? await Task.sleep(for: .milliseconds(15))
                        _ = rename(path, "\(path).\(n)")
                        sink.reopen()
                    }
                }
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }

        let expected = Array(0..<(producers * perProducer))
        let files = [path] + (1...rotations).map { "\(path).\($0)" }
        let perFile = files.map { Self.seqs(at: $0) }
        let written = perFile.flatMap { $0 }
        #expect(written.count == expected.count, "every event once: \(written.count) lines for \(expected.count) events")
        #expect(written.sorted() == expected.sorted())
        #expect(perFile.filter { !$0.isEmpty }.count >= 3, "lines went to several files: \(perFile.map(\.count))")
        #expect(metrics.counterTotal(label: "meshgate_audit_written_total") == Int64(expected.count))
        #expect(metrics.counterTotal(label: "meshgate_audit_dropped_total") == 0)
        for file in files where FileManager.default.fileExists(atPath: file) {
            #expect(Self.mode(of: file) == Self.mode(of: "\(path).1"), "\(file)")
        }
    }
}

/// Polls `condition` until it holds; fails after ~20 s so a broken sink cannot hang the suite.
private func waitUntil(_ condition: () -> Bool) async throws {
    for _ in 0..<2_000 {
        if condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("condition never became true")
}
