import Foundation
import MeshgateCore
import NIOConcurrencyHelpers

/// Dashboard logins: a session id in an `HttpOnly; SameSite=Strict` cookie, each with its own
/// CSRF token that the page sends back in `X-CSRF-Token` on every POST. In memory only: a restart
/// logs everyone out, which is what an admin token rotation should do too.
final class AdminSessions: Sendable {
    static let cookieName = "meshgate_session"
    static let csrfHeader = "X-CSRF-Token"
    static let lifetimeSeconds: Int64 = 12 * 3600
    /// Logins beyond this drop the oldest session.
    static let maxSessions = 256

    struct Session: Sendable {
        var csrf: String
        var expiresAt: Int64
    }

    private let sessions = NIOLockedValueBox<[String: Session]>([:])
    private let now: @Sendable () -> Int64

    init(now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) {
        self.now = now
    }

    /// A new session: its id (the cookie's value) and CSRF token.
    func create() -> (id: String, csrf: String) {
        let id = Self.randomHex(32)
        let csrf = Self.randomHex(16)
        let t = now()
        sessions.withLockedValue { all in
            all = all.filter { $0.value.expiresAt > t }
            if all.count >= Self.maxSessions, let oldest = all.min(by: { $0.value.expiresAt < $1.value.expiresAt })?.key {
                all[oldest] = nil
            }
            all[id] = Session(csrf: csrf, expiresAt: t + Self.lifetimeSeconds)
        }
        return (id, csrf)
    }

    /// The live session with this id.
    func session(_ id: String) -> Session? {
        let t = now()
        return sessions.withLockedValue { all in
            guard let s = all[id] else { return nil }
            if s.expiresAt <= t { all[id] = nil; return nil }
            return s
        }
    }

    func remove(_ id: String) {
        _ = sessions.withLockedValue { $0.removeValue(forKey: id) }
    }

    /// The `Set-Cookie` value for a session (no `Secure`: the admin listener is plain HTTP on
    /// loopback by default, where browsers would drop a Secure cookie).
    static func cookie(_ id: String) -> String {
        "\(cookieName)=\(id); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(lifetimeSeconds)"
    }

    static let expiredCookie = "\(cookieName)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"

    private static func randomHex(_ bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        var out = ""
        out.reserveCapacity(bytes * 2)
        for _ in 0..<bytes {
            let b = UInt8.random(in: 0...255, using: &generator)
            out += String(b >> 4, radix: 16) + String(b & 0xF, radix: 16)
        }
        return out
    }
}
