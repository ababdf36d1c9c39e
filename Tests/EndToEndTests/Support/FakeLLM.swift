import Foundation

/// The fake OpenAI + Anthropic provider (Fixtures/llm/fake_llm.py) over TLS with a test-origin
/// certificate for `localhost` and 127.0.0.1, and the official-SDK driver (llm_client.py).
/// See fake_llm.py's docstring for the deterministic usage rules and the `x-fake-*` headers.
final class FakeLLM: Sendable {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/llm")
    /// The virtualenv with openai + anthropic (Fixtures/mcp/setup_venvs.sh makes it).
    static let python = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".build/mcp-venv/llm/bin/python").path

    let process: StreamingClient
    let port: Int
    /// One JSON line per request (`kind: request`) and per finished stream (`kind: stream_end`).
    let logPath: String

    struct SetupError: Error, CustomStringConvertible { var description: String }

    /// Starts the provider. `extra` are more fake_llm.py arguments (`--require-key K`, `--fail-file F`).
    init(pki: TestPKI, extra: [String] = []) async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            throw SetupError(description: "no LLM SDK virtualenv at \(Self.python); scripts/install-deps.sh --test creates it")
        }
        let (cert, key) = try pki.writeOriginLeaf(host: "localhost", ipAddress: [127, 0, 0, 1])
        logPath = pki.directory.appendingPathComponent("fake-llm-\(UUID().uuidString).jsonl").path
        process = try StreamingClient([Self.python, Self.fixtures.appendingPathComponent("fake_llm.py").path,
                                       "--cert", cert, "--key", key, "--log", logPath] + extra, captureStderr: true)
        guard try await process.waitForOutput(containing: "\n", timeout: 30),
              let port = Int(process.text.split(separator: "\n").first.map(String.init) ?? "") else {
            process.terminate()
            throw SetupError(description: "fake_llm.py did not start: \(process.text)")
        }
        self.port = port
    }

    /// `https://localhost:PORT/v1` (the OpenAI SDK's base URL) or `https://localhost:PORT` (Anthropic's).
    func baseURL(sdk: String) -> String {
        sdk == "openai" ? "https://localhost:\(port)/v1" : "https://localhost:\(port)"
    }

    /// The logged lines of `kind` (`request` or `stream_end`).
    func log(kind: String = "request") -> [[String: Any]] {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }.filter { $0["kind"] as? String == kind }
    }

    func stop() {
        process.terminate()
    }

    /// Runs llm_client.py with `arguments` (e.g. `--sdk openai --base-url … --ca …`) and returns its JSON line.
    static func client(_ arguments: [String]) async throws -> [String: Any] {
        let result = try await ProcessRunner.run(python, [fixtures.appendingPathComponent("llm_client.py").path] + arguments,
                                                 timeout: 60, environment: Curl.environment)
        let line = result.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw SetupError(description: "llm_client.py printed no JSON (exit \(result.exitCode)): \(result.stdoutText) \(result.stderr)")
        }
        return object
    }
}
