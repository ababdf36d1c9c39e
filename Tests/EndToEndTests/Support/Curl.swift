import Foundation

/// curl through the proxy, with a clean environment so no ambient proxy settings interfere.
enum Curl {
    static let environment: [String: String] = [
        "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
        "HOME": NSTemporaryDirectory(),
    ]

    struct Response {
        var status: Int
        var body: Data
        var headers: String
        var stderr: String
        var exitCode: Int32
        var bodyText: String { String(decoding: body, as: UTF8.self) }
    }

    /// Runs curl with `-x proxy`; returns status, body and response headers.
    static func fetch(_ url: String, proxy: String?, extra: [String] = [], timeout: TimeInterval = 30) async throws -> Response {
        let dir = FileManager.default.temporaryDirectory
        let bodyFile = dir.appendingPathComponent("curl-body-\(UUID().uuidString)").path
        let headerFile = dir.appendingPathComponent("curl-head-\(UUID().uuidString)").path
        defer {
            try? FileManager.default.removeItem(atPath: bodyFile)
            try? FileManager.default.removeItem(atPath: headerFile)
        }
        // curl gives up a little before the runner would kill it (it used to give up at 20 s
        // whatever `timeout` said, so a slow answer on a loaded CI runner came back as status 0).
        let limit = String(Int(max(1, timeout * 0.9)))
        var args = ["-sS", "--max-time", limit, "-o", bodyFile, "-D", headerFile, "-w", "%{http_code}"]
        if let proxy { args += ["-x", proxy] }
        args += extra
        args.append(url)
        let result = try await ProcessRunner.run("curl", args, timeout: timeout, environment: environment)
        let body = (try? Data(contentsOf: URL(fileURLWithPath: bodyFile))) ?? Data()
        let headers = (try? String(contentsOfFile: headerFile, encoding: .utf8)) ?? ""
        return Response(status: Int(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, body: body, headers: headers, stderr: result.stderr, exitCode: result.exitCode)
    }
}
