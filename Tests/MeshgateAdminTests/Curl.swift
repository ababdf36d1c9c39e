import Foundation

/// A response as curl saw it.
struct CurlResponse {
    var status: Int
    /// Header names lowercased; the last value wins.
    var headers: [String: String]
    var body: Data
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// Why curl gave no HTTP response.
struct CurlFailure: Error, CustomStringConvertible {
    var exitCode: Int32
    var stderr: String
    var description: String { "curl exited \(exitCode): \(stderr)" }
}

/// Runs the real `curl` against a local server. Awaits its exit without blocking a
/// cooperative thread (the server's async routes run on that pool).
func curl(
    _ method: String,
    _ url: String,
    headers: [String] = [],
    bodyFile: String? = nil
) async throws -> CurlResponse {
    var arguments = ["-sS", "--noproxy", "*", "--max-time", "20", "--include", "-X", method, url]
    if method == "HEAD" {
        arguments = ["-sS", "--noproxy", "*", "--max-time", "20", "--head", url]
    }
    for header in headers { arguments += ["-H", header] }
    if let bodyFile { arguments += ["--data-binary", "@\(bodyFile)"] }

    // curl writes into files rather than pipes: nothing has to drain them while it runs, and
    // nothing blocks a cooperative thread (the server's async routes run on that pool).
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("meshgate-curl-\(UUID().uuidString)")
    let outputURL = scratch.appendingPathExtension("out")
    let errorURL = scratch.appendingPathExtension("err")
    defer {
        try? FileManager.default.removeItem(at: outputURL)
        try? FileManager.default.removeItem(at: errorURL)
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["curl"] + arguments + ["--output", outputURL.path, "--stderr", errorURL.path]
    process.standardInput = FileHandle.nullDevice

    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do {
            try process.run()
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
    guard status == 0 else {
        let errorText = String(decoding: (try? Data(contentsOf: errorURL)) ?? Data(), as: UTF8.self)
        throw CurlFailure(exitCode: status, stderr: errorText)
    }
    let output = try Data(contentsOf: outputURL)
    return try parse(output)
}

private func parse(_ data: Data) throws -> CurlResponse {
    let bytes = [UInt8](data)
    let separator: [UInt8] = [13, 10, 13, 10]
    var split = bytes.count
    if bytes.count >= 4 {
        for i in 0...(bytes.count - 4) where Array(bytes[i..<(i + 4)]) == separator {
            split = i
            break
        }
    }
    let headText = String(decoding: bytes[..<split], as: UTF8.self)
    let body = split + 4 <= bytes.count ? Data(bytes[(split + 4)...]) : Data()
    var lines = headText.components(separatedBy: "\r\n")
    let statusLine = lines.removeFirst()
    let parts = statusLine.split(separator: " ")
    guard parts.count >= 2, let status = Int(parts[1]) else {
        throw CurlFailure(exitCode: 0, stderr: "unparseable status line: \(statusLine)")
    }
    var headers: [String: String] = [:]
    for line in lines {
        guard let colon = line.firstIndex(of: ":") else { continue }
        let name = line[..<colon].lowercased()
        headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return CurlResponse(status: status, headers: headers, body: body)
}
