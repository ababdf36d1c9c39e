/// A budget row's tokens in its window: settled, and held by calls in flight.
package struct BudgetTotals: Sendable, Hashable {
    /// Tokens settled in the window.
    package var used: Int
    /// Tokens held by reservations in flight.
    package var reserved: Int

    /// Creates totals; a row never written holds nothing.
    package init(used: Int = 0, reserved: Int = 0) {
        self.used = used
        self.reserved = reserved
    }
}
