import Foundation
import Logging
import MeshgateAudit
import ServiceLifecycle
import UnixSignals

/// The operator's signals to a running `serve`, in one place (a signal must have one handler):
/// SIGHUP reopens the audit log and reloads the policy; SIGUSR1 only reopens the audit log, which
/// is what logrotate's `postrotate` sends (contrib/logrotate/meshgate). Neither ever stops the
/// process; SIGTERM and SIGINT belong to the ServiceGroup's graceful shutdown.
///
/// Once both signals are trapped it writes `state_dir/meshgate.pid`, so a process named there is
/// always safe to signal, and it removes the file at shutdown if it still names this process.
public final class ServerSignalService: Service, Sendable {
    /// The pid file's name inside `state_dir`.
    public static let pidFileName = "meshgate.pid"

    private let reloader: PolicyReloader
    private let audit: JSONLinesAuditSink?
    private let pidFile: String
    private let logger: Logger

    /// Creates the service; nothing is trapped or written until `run()`.
    public init(reloader: PolicyReloader, audit: JSONLinesAuditSink?, stateDirectory: String, logger: Logger) {
        self.reloader = reloader
        self.audit = audit
        self.pidFile = (stateDirectory as NSString).appendingPathComponent(Self.pidFileName)
        self.logger = logger
    }

    /// Handles SIGHUP and SIGUSR1 until graceful shutdown.
    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup, .sigusr1)
        let wrote = writePidFile()
        defer { if wrote { removePidFile() } }
        for await signal in signals.cancelOnGracefulShutdown() {
            // Reopen first, so the audit lines of a reload already go to the new file.
            audit?.reopen()
            if signal == .sighup {
                _ = reloader.reload(requestedBy: "SIGHUP")
            } else {
                logger.info("SIGUSR1: reopening the audit log", metadata: ["audit_path": "\(audit?.path ?? "none")"])
            }
        }
    }

    /// Writes our pid (temp file and rename, so a reader never sees half of it). A failure is
    /// logged, not fatal: the gateway serves without it, only pid-file signalling is lost.
    private func writePidFile() -> Bool {
        let pid = getpid()
        if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
           let other = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), other != pid, kill(other, 0) == 0 {
            logger.warning("the pid file names another running process; replacing it (two servers sharing one state_dir?)", metadata: [
                "pid_file": "\(pidFile)", "other_pid": "\(other)",
            ])
        }
        let temporary = pidFile + ".tmp-\(pid)"
        do {
            try Data("\(pid)\n".utf8).write(to: URL(fileURLWithPath: temporary))
            chmod(temporary, 0o644)
            if rename(temporary, pidFile) != 0 {
                let code = errno
                unlink(temporary)
                throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
            }
            return true
        } catch {
            logger.warning("cannot write the pid file; logrotate's postrotate cannot signal this server", metadata: [
                "pid_file": "\(pidFile)", "error": "\(error)",
            ])
            return false
        }
    }

    private func removePidFile() {
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
              Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) == getpid() else { return }
        unlink(pidFile)
    }
}
