import AsyncHTTPClient
import Foundation
import MeshgateAdmin
import MeshgateJSON
import NIOCore
import NIOHTTP1

/// How local commands talk to a running `meshgate serve`: its admin listener, authenticated with
/// the token in `state_dir/admin.token`.
public struct AdminClient: Sendable {
    /// `http://127.0.0.1:9090` or similar.
    public let baseURL: String
    private let token: String
    private let host: String
    private let port: Int
    /// What to do instead when the server cannot be reached, for error messages.
    private let otherwise: String

    /// The admin endpoint of the server running `configuration`, with its token (read here, once).
    /// `otherwise` says what the user can do instead when there is no server to talk to.
    public init(configuration: MeshgateConfiguration, otherwise: String? = nil) throws {
        let pidFile = (configuration.stateDirectory as NSString).appendingPathComponent(ServerSignalService.pidFileName)
        // The rules commands can install without asking (--no-reload); `meshgate reload` cannot.
        let signal = (otherwise == nil ? "pass --no-reload, then " : "") + "kill -HUP \"$(cat \(pidFile))\""
        guard let admin = configuration.listeners.admin else {
            throw StoreError("listeners.admin is off, so a running meshgate cannot be asked to reload; send it SIGHUP instead: \(signal)")
        }
        guard admin.port != 0 else {
            throw StoreError("listeners.admin has port 0 (any free port), so this command cannot find the running server; give it a fixed port, or send SIGHUP: \(signal)")
        }
        self.otherwise = otherwise ?? "pass --no-reload to install for its next start"
        baseURL = "http://" + AdminAssembly.pacAddress(for: admin)
        host = admin.isWildcard || admin.host.isEmpty ? "127.0.0.1" : admin.host
        port = admin.port
        token = try AdminToken.load(path: (configuration.stateDirectory as NSString).appendingPathComponent(AdminToken.fileName))
    }

    /// Fails with a clear cause unless a server answers on the admin listener and the token is
    /// readable: checked before anything is installed.
    public func ensureReachable() async throws {
        // HTTP clients retry a refused connection until their deadline; a direct connect says at once.
        if let failure = TCPProbe.failure(host: host, port: port) {
            throw StoreError("meshgate does not seem to be running: nothing answers on its admin listener \(baseURL) (\(failure)); start `meshgate serve`, or \(otherwise)")
        }
        _ = try await send(method: .GET, path: "/healthz", requestedBy: nil)
    }

    /// Asks the server to reload; returns its message, or throws the server's error.
    public func reload(requestedBy: String) async throws -> String {
        let (status, body) = try await send(method: .POST, path: "/admin/reload", requestedBy: requestedBy)
        return try Self.reloadOutcome(status: status, body: body)
    }

    /// The message of a reload reply (`{"status":"reloaded","message":...}`), or the server's
    /// `{"error":...}` thrown; a body that is not such JSON (a proxy's page, say) is shown as it is.
    static func reloadOutcome(status: Int, body: [UInt8]) throws -> String {
        let reply = try? JSONParser.parse(body)
        guard status == 200 else {
            let reason = reply?["error"]?.stringValue ?? String(decoding: body, as: UTF8.self)
            throw StoreError("the running meshgate refused to reload (\(status)): \(reason)")
        }
        return reply?["message"]?.stringValue ?? "reloaded"
    }

    private func send(method: HTTPMethod, path: String, requestedBy: String?) async throws -> (Int, [UInt8]) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if let requestedBy { request.headers.add(name: "X-Meshgate-Requested-By", value: requestedBy) }
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), Array(body.readableBytesView))
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError("meshgate does not seem to be running: nothing answers on its admin listener \(baseURL) (\(RulesetFetcher.describe(error))); start `meshgate serve`, or \(otherwise)")
        }
    }
}
