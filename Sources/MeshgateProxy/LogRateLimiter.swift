import NIOConcurrencyHelpers
import NIOCore

/// Lets at most one log line through per interval and key (a listener), and counts the ones it held
/// back, for events a client can cause at will (malformed requests): the log keeps saying that they
/// happen, and how often, without a client deciding how much gets written. Shared by all connections.
final class LogRateLimiter: Sendable {
    private struct State {
        var nextAllowed: NIODeadline
        var suppressed = 0
    }

    /// The shortest time between two lines with the same key.
    let interval: TimeAmount
    private let states = NIOLockedValueBox<[String: State]>([:])

    /// A limiter letting one line per key through per `interval`.
    init(interval: TimeAmount) {
        self.interval = interval
    }

    /// Whether a line for `key` may be written now: nil when it is held back (and counted), otherwise
    /// the number of lines for `key` held back since the last one written.
    func admit(_ key: String, now: NIODeadline = .now()) -> Int? {
        states.withLockedValue { states in
            if var state = states[key], now < state.nextAllowed {
                state.suppressed += 1
                states[key] = state
                return nil
            }
            let suppressed = states[key]?.suppressed ?? 0
            states[key] = State(nextAllowed: now + interval)
            return suppressed
        }
    }
}
