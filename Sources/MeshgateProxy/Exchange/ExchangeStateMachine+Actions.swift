import NIOCore
import NIOHTTP1

/// What `ExchangeStateMachine` tells the handler to do.
extension ExchangeStateMachine {
    /// What the handler does when an exchange ends with the connection kept.
    struct IdleActions: Equatable {
        /// Replace the request decoder (the last request stopped it).
        var restartDecoder = false
        /// Schedule the header check at this deadline.
        var scheduleHeaderCheck: NIODeadline?
        /// Issue the read that was held.
        var read = false
    }

    enum FollowUp: Equatable {
        case none
        /// Answer the malformed request that waited behind the previous exchanges.
        case answerMalformed(HTTPParserError)
        /// The client half-closed and everything it sent is answered.
        case close
    }

    enum HeaderCheck: Equatable {
        /// The connection is busy (or gone); the next idle period arms a new check.
        case lapse
        case recheck(at: NIODeadline)
        /// No head within the timeout. `explain`: no request was ever completed, so the client gets
        /// a 408 saying why before the connection closes; otherwise it just closes.
        case timedOut(explain: Bool)
    }

    enum InputClosedAction: Equatable {
        case none
        case close
        /// An LLM call whose caller left: cancel the provider call, settle, close.
        case abandonAndClose
        /// Our answer is going out and the request body it discards will not come: the request ended.
        case endLocalRequest
    }

    enum MalformedAction: Equatable {
        /// Answered once the exchanges before it are (`afterReplay`).
        case deferred
        /// Answer it now with its own audit line.
        case answer
        /// Refuse the current exchange with it (its request was cut by the error); close the
        /// upstream first when it is forwarding.
        case refuseCurrent
        case close
    }
}
