import AsyncHTTPClient
import Foundation
import MeshgateTLS
import NIOCore
import NIOHTTP1
import NIOSSL

/// Downloads a ruleset and its detached signature (`URL + ".sig"`) over https (server verified),
/// http, `file://` or a plain path. Nothing here is trusted yet; the signature decides.
public struct RulesetFetcher: Sendable {
    /// Where from: the configured `ruleset_updates.source` or `--source`.
    public typealias Source = MeshgateConfiguration.RulesetUpdates.Source

    /// What was fetched.
    public struct Fetched: Sendable {
        /// The ruleset's exact bytes.
        public var bytes: [UInt8]
        /// The `.sig` file's text.
        public var signature: String
    }

    /// Rulesets are text; anything bigger is a mistake or an attack.
    public var maxBytes = 16 * 1024 * 1024
    /// Trust roots for https sources: nil is the system store, else a PEM bundle (`tls.upstream_ca`).
    public var trustBundle: String?
    /// Print a progress line on stderr for large downloads (only when stderr is a terminal).
    public var showProgress = false

    /// Creates a fetcher.
    public init(trustBundle: String? = nil, showProgress: Bool = false) {
        self.trustBundle = trustBundle
        self.showProgress = showProgress
    }

    /// Fetches the ruleset and its signature.
    public func fetch(_ source: Source) async throws -> Fetched {
        switch source {
        case .file:
            let bytes = try read(source)
            let signature = try read(source.signature)
            return Fetched(bytes: bytes, signature: String(decoding: signature, as: UTF8.self))
        case .url:
            var tls = TLSConfiguration.makeClientConfiguration()
            if let trustBundle { tls.trustRoots = .file(trustBundle) }
            let client = HTTPClient(
                eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                configuration: .init(tlsConfiguration: tls, redirectConfiguration: .follow(max: 5, allowCycles: false),
                                     timeout: .init(connect: .seconds(5), read: .seconds(30)))
            )
            do {
                let bytes = try await download(source, client: client, progress: showProgress)
                let signature = try await download(source.signature, client: client, progress: false)
                try await client.shutdown()
                return Fetched(bytes: bytes, signature: String(decoding: signature, as: UTF8.self))
            } catch {
                try? await client.shutdown()
                throw error
            }
        }
    }

    private func read(_ source: Source) throws -> [UInt8] {
        guard case .file(let path) = source else { return [] }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw StoreError("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        guard Int(info.st_size) <= maxBytes else {
            throw StoreError("\(path) is \(info.st_size) bytes, more than the \(maxBytes / 1024 / 1024) MiB a ruleset may have")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw StoreError("cannot read \(path)") }
        return Array(data)
    }

    private func download(_ source: Source, client: HTTPClient, progress: Bool) async throws -> [UInt8] {
        let url = source.description
        if case .url(let parsed) = source, let host = parsed.host {
            let port = parsed.port ?? (parsed.scheme?.lowercased() == "https" ? 443 : 80)
            if let failure = TCPProbe.failure(host: host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: port) {
                throw StoreError("cannot fetch \(url): \(failure)")
            }
        }
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "User-Agent", value: "meshgate-rules-update/\(MeshgateVersion.string)")
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .seconds(60))
        } catch {
            if let ssl = error as? NIOSSLError, case .url(let parsed) = source {
                throw StoreError("cannot fetch \(url): \(UpstreamTLS.describe(ssl, host: parsed.host ?? url)); add the publisher's CA to tls.upstream_ca if it is a private one")
            }
            throw StoreError("cannot fetch \(url): \(Self.describe(error))")
        }
        guard response.status == .ok else {
            throw StoreError("cannot fetch \(url): the server answered \(response.status.code) \(response.status.reasonPhrase)")
        }
        let declared = response.headers.first(name: "Content-Length").flatMap { Int($0) }
        if let declared, declared > maxBytes {
            throw StoreError("\(url) is \(declared) bytes, more than the \(maxBytes / 1024 / 1024) MiB a ruleset may have")
        }
        var bytes: [UInt8] = []
        let meter = ProgressLine(label: url, total: declared, enabled: progress && isatty(STDERR_FILENO) == 1)
        do {
            for try await chunk in response.body {
                bytes.append(contentsOf: chunk.readableBytesView)
                guard bytes.count <= maxBytes else {
                    throw StoreError("\(url) is more than the \(maxBytes / 1024 / 1024) MiB a ruleset may have")
                }
                meter.update(bytes.count)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            meter.finish()
            throw StoreError("download of \(url) was cut short after \(bytes.count)\(declared.map { " of \($0)" } ?? "") bytes: \(Self.describe(error))")
        }
        meter.finish()
        if let declared, bytes.count != declared {
            throw StoreError("download of \(url) was cut short after \(bytes.count) of \(declared) bytes")
        }
        return bytes
    }

    static func describe(_ error: any Error) -> String {
        if let ssl = error as? NIOSSLError { return "TLS: \(ssl)" }
        if let client = error as? HTTPClientError {
            switch client {
            case .connectTimeout: return "connection timed out"
            case .readTimeout: return "read timed out"
            case .remoteConnectionClosed: return "the server closed the connection"
            default: return "\(client)"
            }
        }
        let text = "\(error)"
        if text.contains("Connection refused") || text.contains("connectionRefused") { return "connection refused" }
        if text.contains("certificate") || text.contains("handshake") { return "TLS: \(text)" }
        return text
    }
}

/// `fetching URL: 45% (1.2 of 2.6 MB)` rewritten in place on a terminal.
private struct ProgressLine {
    let label: String
    let total: Int?
    let enabled: Bool

    func update(_ done: Int) {
        guard enabled, done >= 1 << 20 || (total ?? 0) >= 1 << 20 else { return }
        let mb = { (n: Int) in String(format: "%.1f", Double(n) / 1_000_000) }
        let text = total.map { "\rfetching \(label): \(done * 100 / max($0, 1))% (\(mb(done)) of \(mb($0)) MB)" }
            ?? "\rfetching \(label): \(mb(done)) MB"
        FileHandle.standardError.write(Data(text.utf8))
    }

    func finish() {
        guard enabled, (total ?? 0) >= 1 << 20 else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}

extension MeshgateConfiguration.RulesetUpdates.Source {
    /// Parses `--source`: an http(s) or file URL, or a path (relative to the working directory).
    public init(argument: String) throws {
        let lower = argument.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            guard let url = URL(string: argument), url.host?.isEmpty == false else {
                throw StoreError("--source '\(argument)' is not a valid URL")
            }
            self = .url(url)
        } else if lower.hasPrefix("file://") {
            guard let url = URL(string: argument) else { throw StoreError("--source '\(argument)' is not a valid URL") }
            self = .file(path: url.path)
        } else if let colon = argument.firstIndex(of: ":"), argument[..<colon].count > 1, !argument[..<colon].contains("/") {
            throw StoreError("--source '\(argument)' uses an unsupported scheme; use https://, http://, file:// or a path")
        } else {
            self = .file(path: URL(fileURLWithPath: argument).standardizedFileURL.path)
        }
    }

    /// Where the detached signature is.
    var signature: Self {
        switch self {
        case .url(let url): .url(URL(string: url.absoluteString + ".sig") ?? url.appendingPathExtension("sig"))
        case .file(let path): .file(path: path + ".sig")
        }
    }
}
