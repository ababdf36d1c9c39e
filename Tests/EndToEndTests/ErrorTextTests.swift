import Foundation
import MeshgateCore
import NIOCore
import Testing

/// Errors say what failed, where, the likely cause and the fix, without internal function names or
/// source paths (issue 19, finding 6).
@Suite struct ErrorTextTests {
    @Test func systemErrorsAreWordsNotFunctionNames() {
        let inUse = SystemErrorText.bindFailure(IOError(errnoCode: EADDRINUSE, reason: "bind(descriptor:ptr:bytes:)"), key: "listeners.explicit")
        #expect(inUse.contains("already in use") && inUse.contains("listeners.explicit"))
        let denied = SystemErrorText.bindFailure(IOError(errnoCode: EACCES, reason: "bind(descriptor:ptr:bytes:)"), key: "listeners.transparent")
        #expect(denied.contains("CAP_NET_BIND_SERVICE") && denied.contains("above 1023"))
        let refused = SystemErrorText.describe(IOError(errnoCode: ECONNREFUSED, reason: "connection reset (error set)"))
        #expect(refused == "connection refused")
        for text in [inUse, denied, refused] {
            #expect(!text.contains("descriptor:") && !text.contains("errno") && !text.contains("error set"), "\(text)")
        }
    }

    @Test func aTakenPortAGarbageCertificateAndExportWithoutTheKey() async throws {
        let pki = try TestPKI.make()
        // A port another process holds.
        let (holder, port) = try LoopbackPort.bind(listening: true)
        defer { close(holder) }
        let config = try ServeCommandTests.writeConfig(pki.directory, extra: "rulesets: []")
        let text = try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: "explicit: 127.0.0.1:0", with: "explicit: 127.0.0.1:\(port)")
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let serve = try await ProcessRunner.run(ServeCommandTests.binary, ["serve", "--config", config], timeout: 30)
        #expect(serve.exitCode != 0)
        #expect(serve.stderr.contains("cannot listen on 127.0.0.1:\(port) for listeners.explicit: the address is already in use"), "\(serve.stderr)")
        #expect(!serve.stderr.contains("bind(descriptor") && !serve.stderr.contains("errno"), "\(serve.stderr)")
        #expect(!serve.stderr.contains("CancellationError"), "stopping is not a ledger outage: \(serve.stderr)")

        // `ca export` prints the certificate without reading the key.
        _ = try await ProcessRunner.run(ServeCommandTests.binary, ["ca", "init", "--config", config])
        let state = pki.directory.appendingPathComponent("state")
        try FileManager.default.removeItem(at: state.appendingPathComponent("ca.key"))
        let exported = try await ProcessRunner.run(ServeCommandTests.binary, ["ca", "export", "--config", config])
        #expect(exported.exitCode == 0, "\(exported.stderr)")
        #expect(exported.stdoutText.hasPrefix("-----BEGIN CERTIFICATE-----"))

        // A certificate file that is not one: the file, the cause and the fix, no source paths.
        try "not a certificate\n".write(to: state.appendingPathComponent("ca.pem"), atomically: true, encoding: .utf8)
        let garbage = try await ProcessRunner.run(ServeCommandTests.binary, ["ca", "export", "--config", config])
        #expect(garbage.exitCode == 1)
        #expect(garbage.stderr.contains("ca.pem does not hold a PEM certificate") && garbage.stderr.contains("meshgate ca init --force"), "\(garbage.stderr)")
        #expect(!garbage.stderr.contains(".swift"), "\(garbage.stderr)")
    }
}
