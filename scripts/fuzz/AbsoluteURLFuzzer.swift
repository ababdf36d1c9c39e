@testable import MeshgatePolicy
@testable import MeshgateProxy

// Absolute URLs: the policy's AbsoluteURL (redirect/reroute targets, ruleset test requests) and the
// proxy's request-target parser (absolute-form requests). The parts never hold a delimiter they
// should have been split at (checked per Unicode scalar: a Character can hide one, as "\u{600}/"
// is a single grapheme), and each parsed URL, written back out, parses to the same parts.
@Sendable func fuzzAbsoluteURL(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)

    if let url = MeshgatePolicy.AbsoluteURL(text) {
        invariant(url.scheme == "http" || url.scheme == "https", "scheme '\(url.scheme)' from '\(text)'")
        invariant(startsWithSlash(url.target), "target '\(url.target)' from '\(text)' is not origin-form")
        invariant(!holds(url.target, "#"), "fragment kept in '\(url.target)' from '\(text)'")
        let written = "\(url.scheme)://\(url.hostPort.description)\(url.target)"
        let again = MeshgatePolicy.AbsoluteURL(written)
        invariant(again?.hostPort == url.hostPort && again?.target == url.target && again?.scheme == url.scheme,
                  "'\(text)' → '\(written)' re-parses differently: \(String(describing: again))")
    }

    if let target = MeshgateProxy.AbsoluteURL(text) {
        invariant(!target.authority.isEmpty, "empty authority from '\(text)'")
        invariant(!holds(target.authority, "/?#@"), "authority '\(target.authority)' from '\(text)' holds a delimiter")
        invariant(startsWithSlash(target.pathAndQuery), "path '\(target.pathAndQuery)' from '\(text)'")
        invariant(!holds(target.pathAndQuery, "#"), "fragment kept in '\(target.pathAndQuery)' from '\(text)'")
        let written = "\(target.scheme)://\(target.authority)\(target.pathAndQuery)"
        let again = MeshgateProxy.AbsoluteURL(written)
        invariant(again == target, "'\(text)' → '\(written)' re-parses as \(String(describing: again))")
    }
}

/// Whether `text` holds any of `delimiters`, compared per Unicode scalar.
private func holds(_ text: String, _ delimiters: String) -> Bool {
    text.unicodeScalars.contains { delimiters.unicodeScalars.contains($0) }
}
