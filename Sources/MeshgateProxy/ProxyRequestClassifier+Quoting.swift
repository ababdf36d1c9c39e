import MeshgateCore

extension ProxyRequestClassifier {
    /// A request target as a refusal quotes it (to the client and in the audit line's `error`):
    /// credentials removed and query values redacted before it is cut to 200 bytes, so a cut cannot
    /// keep half of a password whose `@` fell past the cut.
    static func quoted(_ target: String) -> String {
        let redacted = AuditRedactor.standard.requestTarget(target)
        return AuditRedactor.truncate(redacted, maxBytes: 200) ?? redacted
    }
}
