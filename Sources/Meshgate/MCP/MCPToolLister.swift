import AsyncHTTPClient
import Foundation
import MeshgateInspection
import MeshgateJSON
import NIOCore
import NIOHTTP1
import NIOSSL
import MeshgateTLS

/// Lists a live MCP server's tools for `meshgate mcp pin` and `mcp diff`, over Streamable HTTP with the
/// configured upstream trust: first as a 2026-07-28 stateless client (one `tools/list` per page, no
/// session), and when the server does not speak that revision, through the `initialize` handshake
/// (a session, `notifications/initialized`, then `tools/list`). Pages are followed by `nextCursor`.
public struct MCPToolLister: Sendable {
    /// What was listed.
    public struct Listing: Sendable {
        /// The tools in list order, as the server sent them.
        public var tools: [JSONValue]
        /// The protocol revision that worked.
        public var protocolVersion: String
    }

    public struct ListError: Error, CustomStringConvertible {
        public var description: String
        /// The server was never reached (connection or TLS): another protocol revision will not help.
        var transport = false
    }

    /// Trust roots for https: nil is the system store, else a PEM bundle (`tls.upstream_ca`).
    public var trustBundle: String?
    /// Extra request headers (an `Authorization` the server needs).
    public var headers: [(name: String, value: String)]
    /// At most this many pages are followed (a server that never stops paging is a mistake).
    public var maxPages = 100

    static let statelessRevision = "2026-07-28"
    static let handshakeRevision = "2025-11-25"

    public init(trustBundle: String?, headers: [(name: String, value: String)] = []) {
        self.trustBundle = trustBundle
        self.headers = headers
    }

    /// The server's tools at `url`.
    public func list(_ url: String) async throws -> Listing {
        guard let parsed = URLComponents(string: url), let scheme = parsed.scheme?.lowercased(), ["http", "https"].contains(scheme),
              parsed.host?.isEmpty == false else {
            throw ListError(description: "'\(url)' is not an absolute http(s) URL of an MCP endpoint")
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let trustBundle { tls.trustRoots = .file(trustBundle) }
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                                configuration: .init(tlsConfiguration: tls, redirectConfiguration: .disallow,
                                                     timeout: .init(connect: .seconds(5), read: .seconds(30))))
        do {
            let listing: Listing
            do {
                listing = try await listStateless(url, client: client)
            } catch let refused as StatelessRefused {
                do {
                    listing = try await listWithHandshake(url, client: client)
                } catch {
                    throw ListError(description: "\(error) (before that, the 2026-07-28 stateless request: \(refused.description))")
                }
            }
            try await client.shutdown()
            return listing
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// The stateless revision's answer was not a tool list (an old server): try the handshake.
    struct StatelessRefused: Error, CustomStringConvertible {
        var description: String
    }

    private func listStateless(_ url: String, client: HTTPClient) async throws -> Listing {
        var tools: [JSONValue] = []
        var cursor: String?
        for page in 0..<maxPages {
            let meta = #""_meta":{"io.modelcontextprotocol/protocolVersion":"\#(Self.statelessRevision)","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"meshgate","version":"\#(MeshgateVersion.string)"}}"#
            let cursorMember = cursor.map { #","cursor":\#(Self.jsonString($0))"# } ?? ""
            let body = #"{"jsonrpc":"2.0","id":\#(page + 1),"method":"tools/list","params":{\#(meta)\#(cursorMember)}}"#
            let answer: JSONValue
            do {
                answer = try await call(url, client: client, body: body, id: page + 1,
                                        extra: [("MCP-Protocol-Version", Self.statelessRevision), ("Mcp-Method", "tools/list")])
            } catch let error as ListError where page == 0 && !error.transport {
                throw StatelessRefused(description: error.description)
            }
            let result = try Self.result(of: answer, method: "tools/list")
            tools += result["tools"]?.arrayValue ?? []
            guard case .string(let next)? = result["nextCursor"], !next.isEmpty else {
                return Listing(tools: tools, protocolVersion: Self.statelessRevision)
            }
            cursor = next
        }
        throw ListError(description: "the server sent more than \(maxPages) pages of tools")
    }

    private func listWithHandshake(_ url: String, client: HTTPClient) async throws -> Listing {
        let initialize = #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"\#(Self.handshakeRevision)","capabilities":{},"clientInfo":{"name":"meshgate","version":"\#(MeshgateVersion.string)"}}}"#
        var session: String?
        let initialized = try await call(url, client: client, body: initialize, id: 0, extra: []) { session = $0.first(name: "mcp-session-id") }
        let negotiated = try Self.result(of: initialized, method: "initialize")["protocolVersion"]?.stringValue ?? Self.handshakeRevision
        var extra: [(String, String)] = [("MCP-Protocol-Version", negotiated)]
        if let session { extra.append(("Mcp-Session-Id", session)) }
        _ = try await send(url, client: client, body: #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#, extra: extra)
        func pages() async throws -> Listing {
            var tools: [JSONValue] = []
            var cursor: String?
            for page in 0..<maxPages {
                let params = cursor.map { #"{"cursor":\#(Self.jsonString($0))}"# } ?? "{}"
                let answer = try await call(url, client: client, body: #"{"jsonrpc":"2.0","id":\#(page + 1),"method":"tools/list","params":\#(params)}"#,
                                            id: page + 1, extra: extra)
                let result = try Self.result(of: answer, method: "tools/list")
                tools += result["tools"]?.arrayValue ?? []
                guard case .string(let next)? = result["nextCursor"], !next.isEmpty else {
                    return Listing(tools: tools, protocolVersion: negotiated)
                }
                cursor = next
            }
            throw ListError(description: "the server sent more than \(maxPages) pages of tools")
        }
        let listing: Result<Listing, any Error>
        do {
            listing = .success(try await pages())
        } catch {
            listing = .failure(error)
        }
        if session != nil {
            // Ending the session is a courtesy; its outcome changes nothing.
            _ = try? await send(url, client: client, body: nil, extra: extra, method: .DELETE, sessionEnd: true)
        }
        return try listing.get()
    }

    /// Posts `body` and returns the JSON-RPC message answering `id` (a JSON body or an event stream).
    private func call(_ url: String, client: HTTPClient, body: String, id: Int, extra: [(String, String)],
                      head: (HTTPHeaders) -> Void = { _ in }) async throws -> JSONValue {
        let (status, headers, bytes) = try await send(url, client: client, body: body, extra: extra)
        head(headers)
        let contentType = headers.first(name: "content-type")?.lowercased() ?? ""
        var candidates: [[UInt8]] = []
        if contentType.contains("text/event-stream") {
            var framer = SSEEventFramer(maxEventBytes: 16 << 20)
            var pieces = framer.feed(bytes)
            if let rest = framer.finish() { pieces.append(rest) }
            for case .event(let event) in pieces { if let data = SSEEventFramer.data(of: event) { candidates.append(data) } }
        } else {
            candidates = [bytes]
        }
        for candidate in candidates {
            guard let value = try? JSONParser.parse(candidate, limits: JSONLimits(maxBytes: 16 << 20)) else { continue }
            for message in value.arrayValue ?? [value] where message["id"] == .number(String(id)) {
                return message
            }
        }
        let excerpt = String(decoding: bytes.prefix(300), as: UTF8.self)
        throw ListError(description: "the server answered \(status) without a JSON-RPC answer to request \(id)\(excerpt.isEmpty ? "" : ": \(excerpt)")")
    }

    private func send(_ url: String, client: HTTPClient, body: String?, extra: [(String, String)], method: HTTPMethod = .POST,
                      sessionEnd: Bool = false) async throws -> (UInt, HTTPHeaders, [UInt8]) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "User-Agent", value: "meshgate-mcp/\(MeshgateVersion.string)")
        request.headers.add(name: "Accept", value: "application/json, text/event-stream")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .seconds(30))
        } catch let ssl as NIOSSLError {
            let host = URLComponents(string: url)?.host ?? url
            throw ListError(description: "cannot reach \(url): \(UpstreamTLS.describe(ssl, host: host)); add the server's CA to tls.upstream_ca if it is a private one",
                            transport: true)
        } catch {
            throw ListError(description: "cannot reach \(url): \(RulesetFetcher.describe(error))", transport: true)
        }
        var bytes: [UInt8] = []
        for try await chunk in response.body {
            bytes.append(contentsOf: chunk.readableBytesView)
            guard bytes.count <= 16 << 20 else { throw ListError(description: "\(url) answered more than 16 MiB") }
        }
        if response.status.code >= 400, !sessionEnd {
            let excerpt = String(decoding: bytes.prefix(300), as: UTF8.self)
            throw ListError(description: "\(url) answered \(response.status.code) \(response.status.reasonPhrase)\(excerpt.isEmpty ? "" : ": \(excerpt)")")
        }
        return (response.status.code, response.headers, bytes)
    }

    private static func result(of message: JSONValue, method: String) throws -> JSONValue {
        if let error = message["error"] {
            throw ListError(description: "\(method) failed: \(error["message"]?.stringValue ?? String(decoding: error.jsonText, as: UTF8.self))")
        }
        guard let result = message["result"], result.isObject else {
            throw ListError(description: "\(method) answered without a result object")
        }
        return result
    }

    static func jsonString(_ s: String) -> String {
        var out: [UInt8] = []
        JSONText.appendString(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
