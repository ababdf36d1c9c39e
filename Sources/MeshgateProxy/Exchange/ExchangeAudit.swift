/// What the exchange's audit line accumulates besides the request and the verdict.
struct ExchangeAudit {
    var status: Int?
    var bytesIn = 0
    var bytesOut = 0
    var error: String?
    /// Set once the audit line is recorded, so each exchange has exactly one.
    var recorded = false
}
