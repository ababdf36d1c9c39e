import NIOConcurrencyHelpers
import NIOCore

/// Lets at most one log line through per interval and counts the ones it held back, for events a
/// client can cause at will (malformed requests): the log keeps saying that they happen, and how
/// often, without a client deciding how much gets written. Shared by a listener's connections.
final class LogRateLimiter: Sendable {
    private struct State {
        var nextAllowed: NIODeadline?
        var suppressed = 0
    }

    /// The shortest time between two lines.
    let interval: TimeAmount
    private let state = NIOLockedValueBox(State())

    /// A limiter letting one line through per `interval`.
    init(interval: TimeAmount) {
        self.interval = interval
    }

    /// Whether a line may be written now: nil when it is held back (and counted), otherwise the number
    /// of lines held back since the last one written.
    func admit(now: NIODeadline = .now()) -> Int? {
        state.withLockedValue { state in
            if let next = state.nextAllowed, now < next {
                state.suppressed += 1
                return nil
            }
            state.nextAllowed = now + interval
            defer { state.suppressed = 0 }
            return state.suppressed
        }
    }
}
