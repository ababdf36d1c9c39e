extension HTTPTransaction {
    /// Notes for the audit line (`body_truncated`, `inspected_bytes`) that the policy decided on a
    /// prefix of the body: it was decided before the body had all arrived (`over_limit:
    /// inspect_prefix`), or it decoded to more than `cap` bytes. A decoded body that fills the cap
    /// exactly counts as cut off too, since the decoder stops there.
    func noteInspectedBody(decodedBytes: Int, cap: Int) {
        let decoded = head.headers.contains(name: "content-encoding")
        guard !progress.requestEnded || decodedBytes > cap || (decoded && decodedBytes >= cap) else { return }
        verdict.inspectedPrefixBytes = min(decodedBytes, cap)
    }
}
