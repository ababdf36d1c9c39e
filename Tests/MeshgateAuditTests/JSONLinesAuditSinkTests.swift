import Foundation
import Logging
import MeshgateCore
import MetricsTestKit
import ServiceLifecycle
import Testing

@testable import MeshgateAudit

@Suite("JSONLinesAuditSink")
struct JSONLinesAuditSinkTests {
    private static let logger = Logger(label: "meshgate.audit.test")

    private static func event(_ n: Int) -> AuditEvent {
        AuditEvent(
            timestampMillis: 1_795_949_518_000 + Int64(n),
            kind: .http,
            client: "127.0.0.1:\(40_000 + n % 20_000)",
            identity: n % 3 == 0 ? nil : Identity(name: "agent-\(n % 7)", team: "platform"),
            action: .allow,
            detections: n % 5 == 0 ? ["MCP \"quoted\"\n"] : [],
            fields: [("seq", .int(Int64(n))), ("path", .string("/p/\(n)"))]
        )
    }

    /// A fresh directory under the system temp dir, removed by the caller.
    private static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meshgate-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Every line of the file parsed as a JSON object; fails the test on a line that is not one.
    private static func parsedLines(at path: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasSuffix("\n"))
        return try text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { line in
            try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
        }
    }

    @Test func gracefulShutdownWritesEveryRecordedEvent() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("nested/deeper/audit.jsonl").path
        let metrics = TestMetrics()
        let sink = JSONLinesAuditSink(path: path, logger: Self.logger, metricsFactory: metrics)
        let group = ServiceGroup(services: [sink], logger: Self.logger)

        // Some events before the service runs, the rest while it runs, from several tasks at once.
        for n in 0..<500 { sink.record(Self.event(n)) }
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            await withTaskGroup(of: Void.self) { producers in
                for producer in 0..<4 {
                    producers.addTask {
                        for i in 0..<1_000 { sink.record(Self.event(500 + producer * 1_000 + i)) }
                    }
                }
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }

        let lines = try Self.parsedLines(at: path)
        #expect(lines.count == 4_500)
        let seqs = lines.compactMap { $0["seq"] as? Int }
        #expect(Set(seqs) == Set(0..<4_500))
        #expect(Array(seqs.prefix(500)) == Array(0..<500))
        #expect(sink.health == .ok)
        #expect(metrics.counterTotal(label: "meshgate_audit_written_total") == 4_500)
        #expect(metrics.counterTotal(label: "meshgate_audit_dropped_total") == 0)

        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
        #expect(mode & 0o007 == 0, "the audit log must not be world-accessible, mode \(String(mode, radix: 8))")
    }

    @Test func taskCancellationDrainsTheQueue() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("audit.jsonl").path
        let sink = JSONLinesAuditSink(path: path, logger: Self.logger, metricsFactory: TestMetrics())
        for n in 0..<2_000 { sink.record(Self.event(n)) }
        let task = Task { try await sink.run() }
        task.cancel()
        try await task.value

        let lines = try Self.parsedLines(at: path)
        #expect(lines.compactMap { $0["seq"] as? Int } == Array(0..<2_000))
        #expect(lines.first?["ts"] as? String == "2026-11-29T10:51:58.000Z")
    }

    @Test func aWriterThatWentIdleWakesForTheNextEvent() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("audit.jsonl").path
        let sink = JSONLinesAuditSink(path: path, logger: Self.logger, metricsFactory: TestMetrics())
        let task = Task { try await sink.run() }
        for n in 0..<3 {
            sink.record(Self.event(n))
            try await waitUntil { ((try? Self.parsedLines(at: path))?.count ?? 0) == n + 1 }
            // Long enough for the writer to find the queue empty and wait to be woken.
            try await Task.sleep(for: .milliseconds(50))
        }
        task.cancel()
        try await task.value
        #expect(try Self.parsedLines(at: path).compactMap { $0["seq"] as? Int } == [0, 1, 2])
    }

    @Test func appendsToAnExistingFile() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("audit.jsonl").path
        try Data(#"{"earlier":true}"#.utf8 + [0x0A]).write(to: URL(fileURLWithPath: path))

        let sink = JSONLinesAuditSink(path: path, logger: Self.logger, metricsFactory: TestMetrics())
        sink.record(Self.event(1))
        let task = Task { try await sink.run() }
        task.cancel()
        try await task.value

        let lines = try Self.parsedLines(at: path)
        #expect(lines.count == 2)
        #expect(lines[0]["earlier"] as? Bool == true)
        #expect(lines[1]["seq"] as? Int == 1)
    }

    /// A path below a regular file cannot be created, even by root.
    private static func unwritablePath(in dir: URL) throws -> (blocker: URL, path: String) {
        let blocker = dir.appendingPathComponent("not-a-directory")
        try Data("x".utf8).write(to: blocker)
        return (blocker, blocker.appendingPathComponent("audit.jsonl").path)
    }

    @Test func unwritablePathTurnsUnhealthyAndCountsTheLoss() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, path) = try Self.unwritablePath(in: dir)
        let metrics = TestMetrics()
        let sink = JSONLinesAuditSink(path: path, logger: Self.logger, metricsFactory: metrics)
        #expect(sink.health == .ok)

        for n in 0..<3 { sink.record(Self.event(n)) }
        let task = Task { try await sink.run() }
        task.cancel()
        try await task.value

        guard case .failing(let reason, let since) = sink.health else {
            Issue.record("expected a failing sink, got \(sink.health)")
            return
        }
        #expect(reason.contains(path))
        #expect(reason.contains("Not a directory"))
        #expect(since > 1_700_000_000_000)
        #expect(metrics.counterTotal(label: "meshgate_audit_write_errors_total") == 3)
        #expect(metrics.counterTotal(label: "meshgate_audit_written_total") == 0)
    }

    @Test func prepareReportsAnUnwritablePathUpFront() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, path) = try Self.unwritablePath(in: dir)
        let sink = JSONLinesAuditSink(path: path, logger: Self.logger, metricsFactory: TestMetrics())
        #expect {
            try sink.prepare()
        } throws: { error in
            "\(error)".contains("cannot open audit log \(path): Not a directory")
        }
    }

    @Test func recoversOnceTheFileCanBeWrittenAgain() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (blocker, path) = try Self.unwritablePath(in: dir)
        let metrics = TestMetrics()
        let sink = JSONLinesAuditSink(path: path, logger: Self.logger, metricsFactory: metrics, recoveryDelay: .zero)
        let task = Task { try await sink.run() }

        sink.record(Self.event(1))
        try await waitUntil { !sink.health.isOK }
        try FileManager.default.removeItem(at: blocker)
        sink.record(Self.event(2))
        try await waitUntil { sink.health.isOK }
        task.cancel()
        try await task.value

        let lines = try Self.parsedLines(at: path)
        #expect(lines.compactMap { $0["seq"] as? Int } == [2])
        #expect(metrics.counterTotal(label: "meshgate_audit_write_errors_total") == 1)
    }

    @Test func fullQueueDropsAndSaysSo() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("audit.jsonl").path
        let metrics = TestMetrics()
        let sink = JSONLinesAuditSink(path: path, capacity: 2, logger: Self.logger, metricsFactory: metrics)

        for n in 0..<5 { sink.record(Self.event(n)) }
        #expect(metrics.counterTotal(label: "meshgate_audit_dropped_total") == 3)
        #expect(sink.health.reason?.contains("queue full") == true)

        let task = Task { try await sink.run() }
        task.cancel()
        try await task.value
        #expect(try Self.parsedLines(at: path).compactMap { $0["seq"] as? Int } == [0, 1])
        // With the default recovery delay a short outage stays visible after writes resume.
        #expect(!sink.health.isOK)
    }

    @Test func eventsAfterStopAreCountedNotLost() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let metrics = TestMetrics()
        let sink = JSONLinesAuditSink(path: dir.appendingPathComponent("a.jsonl").path, logger: Self.logger,
                                      metricsFactory: metrics)
        let task = Task { try await sink.run() }
        task.cancel()
        try await task.value

        sink.record(Self.event(1))
        #expect(metrics.counterTotal(label: "meshgate_audit_dropped_total") == 1)
        #expect(sink.health.reason?.contains("stopped") == true)
        await #expect(throws: AuditSinkAlreadyRunError.self) { try await sink.run() }
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
