import Foundation
import MeshgateCore

/// Where a listener binds: `127.0.0.1:3128`, `[::1]:3128`, `localhost:3128`, or `:3128` for
/// every interface.
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// An IP literal (no brackets) or a host name. `:3128` is stored as `::`, which on Linux and
    /// macOS accepts IPv4 clients too (dual-stack); write `0.0.0.0:3128` for IPv4 only.
    public var host: String
    /// The TCP (and for DNS also UDP) port; 0 lets the system pick one, which is for tests.
    public var port: Int

    /// Creates an address.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`, `[v6]:port` or `:port`; nil when malformed.
    public init?(_ text: String) {
        guard case .success(let address) = ListenAddress.parse(text) else { return nil }
        self = address
    }

    /// Whether only this machine can connect (`127.0.0.0/8`, `::1`, `localhost`).
    public var isLoopback: Bool {
        if host.lowercased() == "localhost" { return true }
        guard let bytes = IPAddress.parse(host) else { return false }
        return IPAddress.isLoopback(bytes)
    }

    /// Whether this binds every interface (`0.0.0.0` or `::`).
    public var isWildcard: Bool {
        guard let bytes = IPAddress.parse(host) else { return false }
        return IPAddress.isUnspecified(bytes)
    }

    /// `host:port` with brackets around IPv6 literals.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Why a listen address did not parse, phrased for the user.
    struct Problem: Error {
        let message: String
        let fix: String?
    }

    static func parse(_ raw: String) -> Result<ListenAddress, Problem> {
        let text = raw.trimmingCharacters(in: .whitespaces)
        let example = "write e.g. 127.0.0.1:3128 (this machine only) or :3128 (all interfaces)"
        var host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                return .failure(Problem(message: "'\(raw)' has '[' without ']'", fix: "write e.g. [::1]:3128"))
            }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else {
                return .failure(Problem(message: "'\(raw)' has no port", fix: "write e.g. [::1]:3128"))
            }
            portText = rest.dropFirst()
            guard IPAddress.parse(String(host)).map({ $0.count == 16 }) == true else {
                return .failure(Problem(message: "'\(host)' is not an IPv6 address", fix: "only IPv6 addresses go in brackets"))
            }
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                return .failure(Problem(message: "expected host:port, found '\(raw)'", fix: example))
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") {
                return .failure(Problem(message: "'\(raw)' looks like an IPv6 address without brackets",
                                        fix: "put IPv6 addresses in brackets and quote the value, e.g. \"[::1]:3128\""))
            }
            if host.isEmpty { host = "::" }
        }
        guard !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(portText) else {
            return .failure(Problem(message: "'\(portText)' in '\(raw)' is not a port number", fix: example))
        }
        guard (0...65535).contains(port) else {
            return .failure(Problem(message: "port \(port) in '\(raw)' is out of range (0-65535)", fix: example))
        }
        // HostPort knows what a valid host name or IP literal looks like; any port will do for the check.
        let probe = host.contains(":") ? "[\(host)]" : String(host)
        guard HostPort(authority: probe, defaultPort: 1) != nil else {
            return .failure(Problem(message: "'\(host)' in '\(raw)' is not a valid host name or IP address", fix: example))
        }
        return .success(ListenAddress(host: String(host), port: port))
    }
}
