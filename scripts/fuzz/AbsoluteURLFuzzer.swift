@testable import MeshgatePolicy
@testable import MeshgateProxy

// Absolute URLs: the policy's AbsoluteURL (redirect/reroute targets, ruleset test requests) and the
// proxy's request-target parser (absolute-form requests), whose ASCII fast path must agree with its
// general parser. Each parsed URL, written back out, parses to the same parts.
@Sendable func fuzzAbsoluteURL(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)

    if let url = MeshgatePolicy.AbsoluteURL(text) {
        invariant(url.scheme == "http" || url.scheme == "https", "scheme '\(url.scheme)' from '\(text)'")
        invariant(url.target.hasPrefix("/"), "target '\(url.target)' from '\(text)' is not origin-form")
        invariant(!url.target.contains("#"), "fragment kept in '\(url.target)' from '\(text)'")
        let written = "\(url.scheme)://\(url.hostPort.description)\(url.target)"
        let again = MeshgatePolicy.AbsoluteURL(written)
        invariant(again?.hostPort == url.hostPort && again?.target == url.target && again?.scheme == url.scheme,
                  "'\(text)' → '\(written)' re-parses differently: \(String(describing: again))")
    }

    let target = MeshgateProxy.AbsoluteURL(text)
    if let target {
        invariant(!target.authority.isEmpty, "empty authority from '\(text)'")
        invariant(!target.authority.contains("@"), "user info kept in '\(target.authority)' from '\(text)'")
        invariant(target.pathAndQuery.hasPrefix("/"), "path '\(target.pathAndQuery)' from '\(text)'")
        invariant(!target.pathAndQuery.contains("#"), "fragment kept in '\(target.pathAndQuery)' from '\(text)'")
        let written = "\(target.scheme)://\(target.authority)\(target.pathAndQuery)"
        let again = MeshgateProxy.AbsoluteURL(written)
        invariant(again == target, "'\(text)' → '\(written)' re-parses as \(String(describing: again))")
    }
    if text.utf8.allSatisfy({ $0 < 0x80 }) {
        let general = MeshgateProxy.AbsoluteURL(characters: text)
        invariant(general == target, "ASCII fast path \(String(describing: target)) ≠ general parser \(String(describing: general)) for '\(text)'")
    }
}
