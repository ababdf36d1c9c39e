import Crypto
import Foundation
import MeshgateCore
import NIOCore

/// Identifies clients from `identities:` — by presented token (stored as SHA-256, compared in
/// constant time), by the uid or cgroup of a local process, or by source CIDR. A token, when
/// presented, wins over the rest; a workload match wins over an address match.
public struct ConfiguredIdentityResolver: IdentityResolver {
    struct Entry: Sendable {
        var identity: Identity
        var tokenSHA256: [UInt8]?
        var cidrs: [CIDR]
        var uid: UInt32?
        var cgroup: String?
    }

    let entries: [Entry]

    /// Builds the resolver from the configured identities.
    public init(_ identities: [MeshgateConfiguration.Identity]) {
        entries = identities.map {
            Entry(identity: Identity(name: $0.name, team: $0.team), tokenSHA256: $0.tokenSHA256, cidrs: $0.cidrs,
                  uid: $0.uid, cgroup: $0.cgroup)
        }
    }

    /// Whether any identity names a uid or cgroup.
    public var usesWorkloads: Bool { entries.contains { $0.uid != nil || $0.cgroup != nil } }

    /// The first identity whose `uid` and `cgroup` (when set) both hold for `workload`; a cgroup
    /// matches itself and everything below it (`/system.slice/ci.service` covers its children).
    public func identify(client: SocketAddress?, workload: LocalWorkload?) -> IdentityResolution {
        if let workload {
            for entry in entries where entry.uid != nil || entry.cgroup != nil {
                if let uid = entry.uid, uid != workload.uid { continue }
                if let prefix = entry.cgroup {
                    guard let cgroup = workload.cgroup, Self.cgroup(cgroup, isWithin: prefix) else { continue }
                }
                return .identified(entry.identity)
            }
        }
        return identify(client: client, credentials: nil)
    }

    static func cgroup(_ path: String, isWithin prefix: String) -> Bool {
        let trimmed = prefix.count > 1 && prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        return path == trimmed || trimmed == "/" || path.hasPrefix(trimmed + "/")
    }

    /// Whether any identity is configured at all.
    public var isEmpty: Bool { entries.isEmpty }

    /// `Basic base64(name:token)`, `Bearer token`, or a bare token.
    public func identify(client: SocketAddress?, credentials: String?) -> IdentityResolution {
        if let credentials {
            guard let (name, token) = Self.parse(credentials) else { return .invalidCredentials }
            let digest = Array(SHA256.hash(data: Array(token.utf8)))
            var match: Identity?
            for entry in entries {
                guard let expected = entry.tokenSHA256 else { continue }
                // Every candidate is compared in full so timing does not reveal which one matched.
                if ConstantTime.equals(expected, digest), name == nil || name == entry.identity.name {
                    match = entry.identity
                }
            }
            return match.map(IdentityResolution.identified) ?? .invalidCredentials
        }
        if let client, let entry = entries.first(where: { $0.cidrs.contains { $0.contains(client) } }) {
            return .identified(entry.identity)
        }
        return .anonymous
    }

    static func parse(_ value: String) -> (name: String?, token: String)? {
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        let scheme = parts[0].lowercased()
        let rest = parts[1].trimmingCharacters(in: .whitespaces)
        switch scheme {
        case "bearer":
            return rest.isEmpty ? nil : (nil, rest)
        case "basic":
            guard let decoded = Data(base64Encoded: rest), let text = String(data: decoded, encoding: .utf8),
                  let colon = text.firstIndex(of: ":") else { return nil }
            return (String(text[..<colon]), String(text[text.index(after: colon)...]))
        default:
            return nil
        }
    }
}
