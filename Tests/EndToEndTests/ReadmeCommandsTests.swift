import Foundation
import Testing

/// The README's shell blocks marked `<!-- runnable: ID -->` are run verbatim, in order, in one shell,
/// against meshgate serving the repository's own meshgate.yaml, as a newcomer would after
/// `./scripts/serve.sh`. They run in a private network and mount namespace where the real host names
/// they use resolve to a local origin, so the README cannot drift from the product again.
@Suite(.serialized) struct ReadmeCommandsTests {
    static let runner = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/readme/run-blocks.sh").path
    /// Blocks the assertions below depend on: removing a marker must fail this test, not skip a check.
    static let required = ["laptop", "shadow-mcp", "rules", "health"]

    struct Block: Equatable {
        var id: String
        var line: Int
        var script: String
    }

    /// The `sh` blocks that directly follow a `<!-- runnable: ID -->` line.
    static func runnableBlocks(in markdown: String) throws -> [Block] {
        let lines = markdown.components(separatedBy: "\n")
        var blocks: [Block] = []
        var index = 0
        while index < lines.count {
            let line = lines[index].trimmingCharacters(in: .whitespaces)
            guard line.hasPrefix("<!-- runnable:"), line.hasSuffix("-->") else { index += 1; continue }
            let id = line.dropFirst("<!-- runnable:".count).dropLast(3).trimmingCharacters(in: .whitespaces)
            guard index + 1 < lines.count, lines[index + 1].trimmingCharacters(in: .whitespaces) == "```sh" else {
                throw ReadmeError("README.md:\(index + 1): the runnable marker '\(id)' must be followed by a ```sh line")
            }
            var body: [String] = []
            var end = index + 2
            while end < lines.count, lines[end].trimmingCharacters(in: .whitespaces) != "```" {
                body.append(lines[end])
                end += 1
            }
            guard end < lines.count else { throw ReadmeError("README.md:\(index + 2): block '\(id)' is not closed") }
            blocks.append(Block(id: id, line: index + 3, script: body.joined(separator: "\n")))
            index = end + 1
        }
        return blocks
    }

    /// The blocks as one script; `::block ID` lines split its output, and a failing command stops it
    /// (as it would stop a reader). Commands run at a reader's pace, a moment apart: meshgate writes
    /// a request's audit line just after answering it, and `tail state/audit.jsonl` typed right
    /// after a curl would otherwise race that write in a way no person at a terminal can.
    static func script(_ blocks: [Block]) -> String {
        var script = "set -eo pipefail\ntrap 'sleep 0.3' DEBUG\n"
        for block in blocks {
            script += "echo '::block \(block.id)'\n# README.md:\(block.line)\n\(block.script)\n"
        }
        return script + "echo '::done'\n"
    }

    /// What each block printed, by id.
    static func sections(of log: String) -> [String: String] {
        var sections: [String: String] = [:]
        var current: String?
        for line in log.components(separatedBy: "\n") {
            if line.hasPrefix("::block ") { current = String(line.dropFirst("::block ".count)); continue }
            if line == "::done" { current = nil; continue }
            if let current { sections[current, default: ""] += line + "\n" }
        }
        return sections
    }

    struct ReadmeError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    @Test func markersAreFoundAndTheirBlocksExtracted() throws {
        let markdown = """
            text
            <!-- runnable: one -->
            ```sh
            echo 1
            ```
            ```sh
            echo not marked
            ```
            <!-- runnable: two -->
            ```sh
            echo 2
            echo 3
            ```
            """
        let blocks = try Self.runnableBlocks(in: markdown)
        #expect(blocks == [Block(id: "one", line: 4, script: "echo 1"), Block(id: "two", line: 11, script: "echo 2\necho 3")])
        #expect(throws: ReadmeError.self) { try Self.runnableBlocks(in: "<!-- runnable: x -->\n```yaml\na: 1\n```") }
        #expect(Self.sections(of: "::block one\n1\n::block two\n2\n3\n::done\n") == ["one": "1\n", "two": "2\n3\n"])
    }

    @Test(.enabled(if: getuid() == 0, "needs root for a network and mount namespace"))
    func theReadmeCommandsWorkVerbatim() async throws {
        let root = ServeCommandTests.repositoryRoot
        let readme = try String(contentsOfFile: root + "/README.md", encoding: .utf8)
        let blocks = try Self.runnableBlocks(in: readme)
        for id in Self.required {
            #expect(blocks.contains { $0.id == id }, "README.md has no block marked <!-- runnable: \(id) -->")
        }

        // A newcomer's clone: the repository's own configuration and rulesets, nothing else.
        let pki = try TestPKI.make()
        let work = pki.directory.appendingPathComponent("clone")
        let files = FileManager.default
        try files.createDirectory(at: work, withIntermediateDirectories: true)
        try files.copyItem(atPath: root + "/meshgate.yaml", toPath: work.appendingPathComponent("meshgate.yaml").path)
        try files.copyItem(atPath: root + "/rulesets", toPath: work.appendingPathComponent("rulesets").path)
        try Self.script(blocks).write(to: work.appendingPathComponent("commands.sh"), atomically: true, encoding: .utf8)
        let (cert, key) = try pki.writeOriginLeaf(host: "api.openai.com", moreHosts: ["mcp.linear.app"])

        let run = try await ProcessRunner.run("bash", [Self.runner, work.path, ServeCommandTests.binary, cert, key, pki.originCAPath], timeout: 180)
        func read(_ name: String) -> String {
            (try? String(contentsOfFile: work.appendingPathComponent(".readme/\(name)").path, encoding: .utf8)) ?? ""
        }
        let log = read("commands.log"), serve = read("serve.log"), origin = read("origin.log")
        let context = "commands:\n\(log)\nrunner: \(run.stderr)\nserve:\n\(serve.suffix(3000))\norigin:\n\(origin)"
        try #require(run.exitCode == 0, "a README command failed (the last ::block names it):\n\(context)")
        let output = Self.sections(of: log)

        // The laptop block reached the real host name through interception, with the upstream verified.
        #expect(output["laptop"]?.contains("origin host=api.openai.com path=/v1/models") == true, "\(context)")
        #expect(origin.contains("request GET host=api.openai.com path=/v1/models"), "\(context)")
        #expect(files.fileExists(atPath: work.appendingPathComponent("meshgate-ca.pem").path))

        // With the repository's own meshgate.yaml, an MCP initialize to a Shadow MCP server is refused
        // and never reaches the origin.
        let shadow = output["shadow-mcp"] ?? ""
        #expect(shadow.hasPrefix("403\n"), "\(context)")
        #expect(shadow.contains("\"action\":\"block\"") && shadow.contains("\"rule\":\"shadow-mcp-host\""), "\(context)")
        #expect(!origin.contains("mcp.linear.app"), "the MCP initialize reached the origin:\n\(origin)")
        let audit = (try? String(contentsOfFile: work.appendingPathComponent("state/audit.jsonl").path, encoding: .utf8)) ?? ""
        #expect(audit.contains("\"action\":\"block\",\"rule\":\"shadow-mcp-host\""), "\(audit)")

        // The policy commands: checked, tested, reloaded, a key pair made and a ruleset signed.
        let rules = output["rules"] ?? ""
        #expect(rules.contains("\"action\" : \"block\"") || rules.contains("\"action\":\"block\""), "\(context)")
        #expect(rules.contains("reloaded ") && rules.contains(" rules from shadow-mcp@"), "meshgate reload did not reach the server: \(context)")
        let signingKey = work.appendingPathComponent("keys/ruleset-signing.key").path
        let mode = (try files.attributesOfItem(atPath: signingKey)[.posixPermissions] as? Int) ?? 0
        #expect(mode & 0o077 == 0, "the private key is readable by others: \(String(mode, radix: 8))")
        #expect(files.fileExists(atPath: work.appendingPathComponent("rulesets/shadow-mcp.yaml.sig").path))

        // Health, metrics and usage, asked from the same shell (with the proxy variables exported).
        let health = output["health"] ?? ""
        #expect(health.contains("meshgate_proxy_requests_total{action=\"block\""), "\(context)")
        #expect(health.contains("\"status\""), "the healthz document: \(context)")
    }
}
