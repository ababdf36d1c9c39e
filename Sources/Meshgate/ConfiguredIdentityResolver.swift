import Crypto
import Foundation
import MeshgateCore
import NIOCore

/// Identifies clients from `identities:` — by presented token (stored as SHA-256, compared in
/// constant time) or by source CIDR. A token, when presented, wins over an address match.
public struct ConfiguredIdentityResolver: IdentityResolver {
    struct Entry: Sendable {
        var identity: Identity
        var tokenSHA256: [UInt8]?
        var cidrs: [CIDR]
    }

    let entries: [Entry]

    /// Builds the resolver from the configured identities.
    public init(_ identities: [MeshgateConfiguration.Identity]) {
        entries = identities.map {
            Entry(identity: Identity(name: $0.name, team: $0.team), tokenSHA256: $0.tokenSHA256, cidrs: $0.cidrs)
        }
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
                if Self.constantTimeEquals(expected, digest), name == nil || name == entry.identity.name {
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

    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<a.count { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}
