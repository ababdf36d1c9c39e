/// A scalar value as `JSONFieldScanner` reports it.
package enum JSONScalar: Equatable, Sendable {
    /// A string: its length in raw (still escaped) bytes between the quotes, and its decoded text
    /// when the visitor asked for it (ASCII escapes decoded; capped at `JSONFieldScanner.maxCapture` bytes).
    case string(rawLength: Int, text: String?)
    /// A number: its value when it is an integer that fits in `Int`, else nil.
    case number(Int?)
    /// `true` or `false`.
    case bool(Bool)
    /// `null`.
    case null
}
