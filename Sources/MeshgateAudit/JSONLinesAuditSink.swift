import Dispatch
import Logging
import MeshgateCore
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The JSON-lines audit log as a ServiceLifecycle `Service`.
///
/// `record(_:)` appends to a bounded in-memory queue and returns; `run()` drains the queue in
/// batches, encodes each batch into one buffer and appends it to the file (or standard output
/// for "-") from a dedicated writer queue, so blocking file I/O never runs on an event loop or
/// the cooperative pool. On graceful shutdown or cancellation `run()` writes everything queued
/// so far and then returns. Nothing is lost silently: an event that cannot be queued or written
/// is counted (`meshgate_audit_dropped_total`, `meshgate_audit_write_errors_total`), logged as
/// a rate-limited warning, and turns `health` to `.failing` with the reason.
public final class JSONLinesAuditSink: AuditSink, Service {
    /// Events lost because the queue was full or the sink had already stopped.
    static let droppedMetric = "meshgate_audit_dropped_total"
    /// Events lost because the file could not be opened or written.
    static let writeErrorsMetric = "meshgate_audit_write_errors_total"
    /// Events written to the audit log.
    static let writtenMetric = "meshgate_audit_written_total"

    /// Lines per write(2): bounds the size of one write buffer under a burst.
    private static let linesPerWrite = 1024
    /// At most one warning of each kind per interval; the next one says how many were held back.
    private static let warningInterval = TimeAmount.seconds(10)

    /// The configured `audit.path` ("-" for standard output).
    public let path: String
    /// How many events may wait to be written before new ones are dropped.
    public let capacity: Int

    private let logger: Logger
    private let recoveryDelay: TimeAmount
    /// Sees each batch (the dashboard), off the event loops.
    private let observer: (any AuditObserver)?
    private let droppedCounter: Counter
    private let writeErrorCounter: Counter
    private let writtenCounter: Counter
    private let state: NIOLockedValueBox<QueueState>
    private let writer = NIOLockedValueBox(WriterState())
    private let writerQueue = DispatchQueue(label: "meshgate.audit.writer")
    /// True while there is something for a waiting writer to do.
    private let wakeUp = ConditionLock(value: false)

    /// Creates a sink appending to `path` ("-" for standard output).
    ///
    /// - Parameters:
    ///   - capacity: events that may wait for the writer; more are dropped and counted.
    ///   - metricsFactory: where the counters go; the global `MetricsSystem` when nil.
    ///   - recoveryDelay: how long after the last loss `health` keeps reporting `.failing` even
    ///     though writes succeed again, so a monitor polling `/healthz` sees short outages too.
    ///   - observer: sees every batch on the writer's thread (the dashboard's feed).
    public init(
        path: String,
        capacity: Int = 65_536,
        logger: Logger,
        metricsFactory: (any MetricsFactory)? = nil,
        recoveryDelay: TimeAmount = .seconds(60),
        observer: (any AuditObserver)? = nil
    ) {
        let factory = metricsFactory ?? MetricsSystem.factory
        self.observer = observer
        self.path = path
        self.capacity = max(1, capacity)
        self.logger = logger
        self.recoveryDelay = recoveryDelay
        self.droppedCounter = Counter(label: Self.droppedMetric, dimensions: [], factory: factory)
        self.writeErrorCounter = Counter(label: Self.writeErrorsMetric, dimensions: [], factory: factory)
        self.writtenCounter = Counter(label: Self.writtenMetric, dimensions: [], factory: factory)
        self.state = NIOLockedValueBox(QueueState(capacity: min(self.capacity, 1024)))
    }

    /// `.ok`, or `.failing` with the latest reason while events are being lost. It turns back to
    /// `.ok` at the first successful write that comes at least `recoveryDelay` after the last loss.
    public var health: AuditHealth {
        state.withLockedValue { s in
            guard let failure = s.failure else { return .ok }
            return .failing(reason: failure.reason, sinceMillis: failure.sinceMillis)
        }
    }

    /// Opens the file now, so that `meshgate serve` can refuse to start with a clear message
    /// instead of discovering an unwritable path at the first request. Optional: `run()` opens
    /// the file itself (and keeps retrying) when this was not called or failed.
    public func prepare() throws {
        let path = self.path
        try writer.withLockedValue { w in
            if w.file == nil { w.file = try AuditFile.open(path: path) }
        }
    }

    /// Asks the writer to close the file and open `path` again (after log rotation: SIGUSR1 or
    /// SIGHUP). The writer does it at once even when idle, so the new file appears without waiting
    /// for traffic, with the same mode as at start. Every event goes out in exactly one write(2) to
    /// one descriptor, so events recorded around the rotation land once, in the old file or the new.
    public func reopen() {
        guard path != "-" else { return }
        let wake = state.withLockedValue { s -> Bool in
            s.reopenRequested = true
            defer { s.writerWaiting = false }
            return s.writerWaiting
        }
        wakeWriter(wake)
    }

    /// Queues the event for writing; never blocks. When the queue is full (or the sink has
    /// stopped) the event is counted as dropped and the sink turns unhealthy.
    public func record(_ event: AuditEvent) {
        let capacity = self.capacity
        let path = self.path
        let outcome = state.withLockedValue { s -> RecordOutcome in
            let reason: String
            switch s.phase {
            case .stopped:
                reason = "audit event recorded after the audit sink for \(path) stopped"
            case .idle, .running, .stopping:
                if s.queue.count < capacity {
                    s.queue.append(event)
                    defer { s.writerWaiting = false }
                    return .queued(wake: s.writerWaiting)
                }
                reason = "audit queue full (\(capacity) events): writing to \(path) cannot keep up"
            }
            let now = NIODeadline.now()
            s.fail(reason: reason, now: now)
            return .dropped(reason: reason, logSuppressed: s.dropWarnings.admit(now: now, interval: Self.warningInterval))
        }
        switch outcome {
        case .queued(let wake):
            wakeWriter(wake)
        case .dropped(let reason, let logSuppressed):
            droppedCounter.increment()
            if let suppressed = logSuppressed {
                logger.warning(
                    "audit event dropped",
                    metadata: [
                        "reason": "\(reason)",
                        "audit_path": "\(path)",
                        "suppressed_warnings": "\(suppressed)",
                    ]
                )
            }
        }
    }

    /// Writes queued events until graceful shutdown or cancellation, then writes what is still
    /// queued and returns. A sink runs once.
    public func run() async throws {
        let started = state.withLockedValue { s -> Bool in
            guard s.phase == .idle else { return false }
            s.phase = .running
            return true
        }
        guard started else { throw AuditSinkAlreadyRunError(path: path) }

        await withTaskCancellationOrGracefulShutdownHandler {
            await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
                // One long-lived job on the writer queue: it blocks while there is nothing to
                // write, so a batch costs one wake-up of one thread and a write(2), instead of
                // the hops between the cooperative pool, a timer and the queue that made the
                // writer a fifth of meshgate's CPU at 2,000 DNS queries/s.
                writerQueue.async {
                    self.writeUntilStopped()
                    self.writer.withLockedValue { w in
                        w.file?.close()
                        w.file = nil
                    }
                    finished.resume()
                }
            }
        } onCancelOrGracefulShutdown: {
            self.beginStopping()
        }
        logger.debug("audit sink stopped", metadata: ["audit_path": "\(path)"])
    }

    // MARK: - Queue

    /// How long the writer waits after being woken before it takes a batch. Each batch costs a
    /// thread wake-up and a write(2) whatever its size; 10 ms keeps lines at most that much
    /// behind and the queue (65,536 events) far from full.
    private static let lingerMicroseconds: UInt32 = 10_000

    /// Writes batches until stopping and the queue is empty, at which point the sink is stopped
    /// and later events count as dropped. Runs on the writer queue and blocks there.
    private func writeUntilStopped() {
        while true {
            let step = state.withLockedValue { s -> BatchStep in
                if !s.queue.isEmpty {
                    var batch: [AuditEvent] = []
                    batch.reserveCapacity(min(s.queue.count, 1024))
                    swap(&batch, &s.queue)
                    return .batch(batch)
                }
                if s.reopenRequested {
                    s.reopenRequested = false
                    return .reopen
                }
                if s.phase == .stopping {
                    s.phase = .stopped
                    return .done
                }
                s.writerWaiting = true
                return .wait
            }
            switch step {
            case .batch(let batch):
                writeBatch(batch)
            case .reopen:
                reopenFile()
            case .done:
                return
            case .wait:
                wakeUp.lock(whenValue: true)
                wakeUp.unlock(withValue: false)
                // Under load every event would wake the writer (a thread wake-up and a write per
                // request); lingering a moment lets one batch carry many lines.
                usleep(Self.lingerMicroseconds)
            }
        }
    }

    /// Wakes the writer if it is waiting for events; `wake` comes from the state lock.
    private func wakeWriter(_ wake: Bool) {
        guard wake else { return }
        wakeUp.lock()
        wakeUp.unlock(withValue: true)
    }

    private func beginStopping() {
        let wake = state.withLockedValue { s -> Bool in
            if s.phase == .running || s.phase == .idle { s.phase = .stopping }
            defer { s.writerWaiting = false }
            return s.writerWaiting
        }
        wakeWriter(wake)
    }

    // MARK: - Writing (writer queue only)

    /// Closes the file and opens `path` again. When that fails the next write retries the open
    /// and counts what it cannot write, as after any other open failure.
    private func reopenFile() {
        let path = self.path
        let failure = writer.withLockedValue { w -> AuditFileError? in
            w.file?.close()
            w.file = nil
            do throws(AuditFileError) {
                w.file = try AuditFile.open(path: path)
                return nil
            } catch {
                return error
            }
        }
        if let failure {
            logger.warning("cannot reopen the audit log; retrying at the next write", metadata: ["audit_path": "\(path)", "error": "\(failure)"])
        } else {
            logger.info("audit log reopened", metadata: ["audit_path": "\(path)"])
        }
    }

    private func writeBatch(_ batch: [AuditEvent]) {
        observer?.observe(batch[...])
        var start = 0
        while start < batch.count {
            let end = min(start + Self.linesPerWrite, batch.count)
            writeChunk(batch[start..<end])
            start = end
        }
    }

    private func writeChunk(_ events: ArraySlice<AuditEvent>) {
        let reopen = state.withLockedValue { s -> Bool in
            defer { s.reopenRequested = false }
            return s.reopenRequested
        }
        if reopen { reopenFile() }
        let path = self.path
        let outcome = writer.withLockedValue { w -> WriteOutcome in
            let file: AuditFile
            if let open = w.file {
                file = open
            } else {
                do throws(AuditFileError) {
                    file = try AuditFile.open(path: path)
                    w.file = file
                } catch {
                    return .failed(error, lost: events.count)
                }
            }

            var buffer: [UInt8] = []
            buffer.reserveCapacity(events.count * 320)
            // A failed write may have left half a line; start on a fresh one so the file stays
            // one JSON object per line.
            if w.tornLine { buffer.append(UInt8(ascii: "\n")) }
            var lineEnds: [Int] = []
            lineEnds.reserveCapacity(events.count)
            for event in events {
                event.appendJSONLine(to: &buffer)
                buffer.append(UInt8(ascii: "\n"))
                lineEnds.append(buffer.count)
            }

            let (written, error) = file.writeAll(buffer)
            guard let error else {
                w.tornLine = false
                return .written(events.count)
            }
            let complete = lineEnds.count { $0 <= written }
            if written > 0 { w.tornLine = !lineEnds.contains(written) }
            // Reopen next time: the descriptor may be the cause (a revoked mount, a full device
            // that has since been cleaned).
            file.close()
            w.file = nil
            if complete > 0 { self.writtenCounter.increment(by: Int64(complete)) }
            return .failed(error, lost: events.count - complete)
        }

        let now = NIODeadline.now()
        switch outcome {
        case .written(let count):
            writtenCounter.increment(by: Int64(count))
            let delay = recoveryDelay
            let recovered = state.withLockedValue { s -> Bool in
                guard s.failure != nil, now - s.lastFailureAt >= delay else { return false }
                s.failure = nil
                return true
            }
            if recovered {
                logger.info("audit log is being written again", metadata: ["audit_path": "\(path)"])
            }
        case .failed(let error, let lost):
            writeErrorCounter.increment(by: Int64(lost))
            let reason = "\(error)"
            let suppressed = state.withLockedValue { s -> Int? in
                s.fail(reason: reason, now: now)
                return s.writeWarnings.admit(now: now, interval: Self.warningInterval)
            }
            if let suppressed {
                logger.warning(
                    "audit events not written",
                    metadata: [
                        "error": "\(reason)",
                        "lost_events": "\(lost)",
                        "audit_path": "\(path)",
                        "suppressed_warnings": "\(suppressed)",
                    ]
                )
            }
        }
    }
}

/// `run()` was called a second time on the same sink.
public struct AuditSinkAlreadyRunError: Error, CustomStringConvertible, Sendable {
    /// The sink's path.
    public var path: String
    /// A one-line cause.
    public var description: String {
        "the audit sink for \(path) was already started; create one JSONLinesAuditSink per run"
    }
}

extension JSONLinesAuditSink {
    fileprivate enum Phase {
        case idle, running, stopping, stopped
    }

    fileprivate enum RecordOutcome {
        case queued(wake: Bool)
        case dropped(reason: String, logSuppressed: Int?)
    }

    fileprivate enum BatchStep {
        case batch([AuditEvent])
        case reopen
        case wait
        case done
    }

    fileprivate enum WriteOutcome {
        case written(Int)
        case failed(AuditFileError, lost: Int)
    }

    /// Everything `record` and the drain loop share, behind one lock.
    fileprivate struct QueueState {
        var queue: [AuditEvent]
        /// The writer found the queue empty and waits on `wakeUp`.
        var writerWaiting = false
        var phase: Phase = .idle
        var reopenRequested = false
        var failure: (reason: String, sinceMillis: Int64)?
        var lastFailureAt = NIODeadline.uptimeNanoseconds(0)
        var dropWarnings = WarningGate()
        var writeWarnings = WarningGate()

        init(capacity: Int) {
            queue = []
            queue.reserveCapacity(capacity)
        }

        mutating func fail(reason: String, now: NIODeadline) {
            if failure == nil {
                failure = (reason, wallClockMillis())
            } else {
                failure?.reason = reason
            }
            lastFailureAt = now
        }
    }

    /// The open file and whether the last write tore a line; touched only on the writer queue
    /// (and by `prepare()` before the sink runs).
    fileprivate struct WriterState {
        var file: AuditFile?
        var tornLine = false
    }

    /// Lets one warning through per interval and counts the ones held back.
    fileprivate struct WarningGate {
        var lastLogged: NIODeadline?
        var suppressed = 0

        /// The number of warnings suppressed since the last one when this one may be logged,
        /// nil when it should be suppressed.
        mutating func admit(now: NIODeadline, interval: TimeAmount) -> Int? {
            if let last = lastLogged, now - last < interval {
                suppressed += 1
                return nil
            }
            lastLogged = now
            defer { suppressed = 0 }
            return suppressed
        }
    }
}

/// Wall-clock Unix milliseconds, for `AuditHealth.failing(sinceMillis:)`.
private func wallClockMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
