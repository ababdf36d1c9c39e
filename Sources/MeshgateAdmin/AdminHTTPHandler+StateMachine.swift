import NIOHTTP1

extension AdminHTTPHandler {
    /// One request per connection: read the head, count (and ignore) the body up to a limit,
    /// then answer once. Pipelined requests after the first are ignored because the response
    /// closes the connection.
    struct StateMachine {
        enum State {
            case awaitingHead
            case receivingBody(HTTPRequestHead, bytes: Int)
            case responding
        }

        enum Action: Equatable {
            case none
            /// The request is complete: route it.
            case respond(HTTPRequestHead)
            /// The body exceeded the limit: answer 413 without reading on.
            case rejectTooLarge(HTTPRequestHead)
            /// Nothing useful can happen on this connection any more.
            case close
        }

        private(set) var state: State = .awaitingHead
        let maxBodyBytes: Int

        init(maxBodyBytes: Int) {
            self.maxBodyBytes = maxBodyBytes
        }

        mutating func receivedHead(_ head: HTTPRequestHead) -> Action {
            guard case .awaitingHead = state else { return .none }
            state = .receivingBody(head, bytes: 0)
            return .none
        }

        mutating func receivedBody(byteCount: Int) -> Action {
            guard case .receivingBody(let head, let bytes) = state else { return .none }
            let total = bytes + byteCount
            if total > maxBodyBytes {
                state = .responding
                return .rejectTooLarge(head)
            }
            state = .receivingBody(head, bytes: total)
            return .none
        }

        mutating func receivedEnd() -> Action {
            guard case .receivingBody(let head, _) = state else { return .none }
            state = .responding
            return .respond(head)
        }

        /// The client sent nothing for the read timeout. A slow `POST /admin/reload` keeps the
        /// connection; a client that never finishes its request loses it.
        mutating func readTimedOut() -> Action {
            if case .responding = state { return .none }
            state = .responding
            return .close
        }
    }
}
