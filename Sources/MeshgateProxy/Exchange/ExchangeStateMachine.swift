import MeshgateCore
import NIOCore
import NIOHTTP1

/// The lifecycle of one client connection's exchanges, with no I/O: which exchange is current and
/// at what stage, which pipelined request parts wait behind it, whether client reads are held,
/// what the client's half-close and a malformed request mean at each stage, and when the header
/// timer gives up. `ExchangeSession` feeds it events and performs what it returns.
///
/// Generic over the exchange and the upstream connection so that it can be driven in tests with
/// plain values; the proxy uses `HTTPTransaction` and `UpstreamConnection`.
struct ExchangeStateMachine<Exchange: AnyObject, Upstream: AnyObject> {
    enum State {
        /// Between exchanges (also while a head is being decided, until it picks a stage).
        case idle
        case connecting(Exchange)
        /// An LLM call waits for its token reservation (or a fallback's backoff, or an off-loop
        /// translation); body parts are buffered meanwhile.
        case admitting(Exchange)
        case forwarding(Exchange, Upstream)
        /// Our own response is going out; the rest of the request body is discarded.
        case localResponse(Exchange, closeAfter: Bool)
        /// The body is held while a rule that needs it decides.
        case inspecting(Exchange)
        /// A CONNECT head arrived; the tunnel starts once the decoder has delivered its end.
        case connectPending(Exchange, HostPort)
        /// The connection now belongs to a tunnel (CONNECT or upgrade).
        case handedOff
        case closed
    }

    private(set) var state: State = .idle
    /// Request parts that `HTTPServerPipelineHandler` delivered while the previous exchange was
    /// still settling here (it releases the next request from inside our write of the previous
    /// response's end). Replayed in order once idle.
    private var deferredParts: [HTTPServerRequestPart] = []
    private var replaying = false
    /// A malformed request pipelined behind one not yet answered; answered once idle.
    private var deferredMalformedRequest: HTTPParserError?
    private var readsHeld = false
    private var pendingRead = false
    /// The client shut down its sending side (FIN): nothing after the requests already read will
    /// come, so the connection closes once they are answered instead of waiting in CLOSE-WAIT.
    private(set) var clientInputClosed = false
    /// llhttp stops parsing after an `Upgrade` or `CONNECT` request (what follows is the new
    /// protocol); if that request is declined, a fresh decoder must take over before the next one.
    private var requestDecoderStopped = false
    private var idleSince: NIODeadline
    private var headerCheckPending = false
    /// Exchanges recorded on this connection.
    private(set) var exchangesServed = 0

    init(now: NIODeadline) {
        idleSince = now
    }

    // MARK: stages

    /// The exchange the connection is busy with (nil when idle, handed off or closed).
    var current: Exchange? {
        switch state {
        case .connecting(let e), .admitting(let e), .inspecting(let e), .forwarding(let e, _),
             .localResponse(let e, _), .connectPending(let e, _):
            e
        case .idle, .handedOff, .closed:
            nil
        }
    }

    var isIdle: Bool {
        if case .idle = state { return true }
        return false
    }

    var isHandedOff: Bool {
        if case .handedOff = state { return true }
        return false
    }

    var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    /// Whether `exchange` is the current one.
    func isCurrent(_ exchange: Exchange) -> Bool {
        current === exchange
    }

    /// Moves the current exchange to another stage. A tunnel or a closed connection keeps its state:
    /// a late callback of an exchange that ended cannot revive it.
    mutating func enter(_ next: State) {
        switch state {
        case .handedOff, .closed:
            return
        default:
            state = next
        }
    }

    /// The connection now belongs to a tunnel. Its header check is no longer this machine's.
    mutating func handOff() {
        guard !isClosed else { return }
        state = .handedOff
        headerCheckPending = false
    }

    /// Returns false when the connection was already closed (nothing more to do).
    mutating func close() -> Bool {
        if isClosed { return false }
        state = .closed
        headerCheckPending = false
        return true
    }

    /// The client is gone. Returns the state the connection was in, for its exchange to be settled;
    /// the machine is closed from here on.
    mutating func connectionLost() -> State {
        let previous = state
        state = .closed
        deferredParts.removeAll()
        deferredMalformedRequest = nil
        headerCheckPending = false
        return previous
    }

    // MARK: request parts

    /// A request part from the decoder: returns the part to process now, or nil when it waits for
    /// the current exchange to settle (it comes back from `nextDeferredPart()`).
    mutating func received(_ part: HTTPServerRequestPart) -> HTTPServerRequestPart? {
        if !deferredParts.isEmpty {
            deferredParts.append(part)
            return nil
        }
        guard case .head = part else { return part }
        switch state {
        case .forwarding, .localResponse:
            deferredParts.append(part)
            return nil
        default:
            return part
        }
    }

    var hasDeferredParts: Bool { !deferredParts.isEmpty }

    /// A request head is about to be decided. Returns false when one is already in progress, which
    /// the serialising handler never does: the connection must close.
    mutating func beginExchange(decoderStops: Bool) -> Bool {
        guard isIdle else { return false }
        requestDecoderStopped = decoderStops
        return true
    }

    /// The current exchange's audit line was recorded.
    mutating func exchangeRecorded() {
        exchangesServed += 1
    }

    // MARK: between exchanges

    /// The exchange ended and the connection stays open for the next one. The handler then replays
    /// deferred parts (`beginReplay`) and does what `afterReplay` says.
    mutating func becameIdle(now: NIODeadline, headerTimeout: TimeAmount) -> IdleActions {
        guard !isClosed, !isHandedOff else { return IdleActions() }
        state = .idle
        readsHeld = false
        var actions = IdleActions()
        if requestDecoderStopped {
            requestDecoderStopped = false
            actions.restartDecoder = true
        }
        actions.scheduleHeaderCheck = armHeaderCheck(now: now, headerTimeout: headerTimeout)
        if pendingRead {
            pendingRead = false
            actions.read = true
        }
        return actions
    }

    /// Starts replaying deferred parts; false when there are none or a replay is already running
    /// further up the stack (an exchange that ends while its head is being replayed).
    mutating func beginReplay() -> Bool {
        guard !replaying, !deferredParts.isEmpty else { return false }
        replaying = true
        return true
    }

    /// The next deferred part to process, or nil when none is due: a head waits until the exchange
    /// just started is answered (`becameIdle` comes back to the replay).
    mutating func nextDeferredPart() -> HTTPServerRequestPart? {
        guard let part = deferredParts.first else { return nil }
        if case .head = part, !isIdle { return nil }
        deferredParts.removeFirst()
        return part
    }

    mutating func endReplay() {
        replaying = false
    }

    /// After an exchange ended and deferred parts were replayed.
    mutating func afterReplay() -> FollowUp {
        guard isIdle, deferredParts.isEmpty else { return .none }
        if let error = deferredMalformedRequest {
            deferredMalformedRequest = nil
            return .answerMalformed(error)
        }
        return clientInputClosed ? .close : .none
    }

    // MARK: flow control

    /// The handler's `read` was called: true to pass it on, false when it is held for later.
    mutating func readRequested() -> Bool {
        if readsHeld {
            pendingRead = true
            return false
        }
        return true
    }

    /// Holds or releases client reads (the upstream cannot take more, or too much is buffered).
    /// Returns true when a held read must be issued now.
    mutating func setReadsHeld(_ hold: Bool) -> Bool {
        readsHeld = hold
        if !hold, pendingRead {
            pendingRead = false
            return true
        }
        return false
    }

    // MARK: header timer

    /// The connection is waiting for a request head from `now`. Returns when to schedule the check
    /// (nil when one is pending: it is not rescheduled per request, a check finding the connection
    /// busy lapses and one finding it idle for less than the timeout waits the rest).
    mutating func armHeaderCheck(now: NIODeadline, headerTimeout: TimeAmount) -> NIODeadline? {
        idleSince = now
        guard !headerCheckPending else { return nil }
        headerCheckPending = true
        return now + headerTimeout
    }

    mutating func headerCheckDue(now: NIODeadline, headerTimeout: TimeAmount) -> HeaderCheck {
        headerCheckPending = false
        guard isIdle else { return .lapse }
        let due = idleSince + headerTimeout
        if due > now {
            headerCheckPending = true
            return .recheck(at: due)
        }
        return .timedOut(explain: exchangesServed == 0)
    }

    /// The handler cancelled its scheduled check.
    mutating func headerCheckCancelled() {
        headerCheckPending = false
    }

    // MARK: the client's side ends

    /// The client half-closed. An exchange whose request has fully arrived is still answered (a
    /// client may shut its sending side and wait for the response); one cut off mid-request is
    /// abandoned. So is an LLM call: no SDK half-closes, so its FIN means the caller gave up, and a
    /// provider call left running would hold its reservation and keep generating tokens nobody reads.
    mutating func clientClosedInput(requestEnded: Bool, isLLMCall: Bool) -> InputClosedAction {
        clientInputClosed = true
        switch state {
        case .idle:
            return deferredParts.isEmpty ? .close : .none
        case .connecting, .admitting, .inspecting, .forwarding:
            if requestEnded, isLLMCall { return .abandonAndClose }
            return requestEnded ? .none : .close
        case .localResponse:
            return requestEnded ? .none : .endLocalRequest
        case .connectPending:
            return .close
        case .handedOff, .closed:
            return .none
        }
    }

    /// The decoder could not parse what followed. `requestEnded`: the current exchange's request is
    /// whole, so the error belongs to the next request.
    mutating func malformedRequest(_ error: HTTPParserError, requestEnded: Bool) -> MalformedAction {
        switch state {
        case .idle:
            if !deferredParts.isEmpty {
                deferredMalformedRequest = error
                return .deferred
            }
            return .answer
        case .connecting, .inspecting, .admitting, .forwarding, .localResponse:
            if requestEnded {
                deferredMalformedRequest = error
                return .deferred
            }
            if case .localResponse = state { return .close }
            return .refuseCurrent
        case .handedOff, .closed, .connectPending:
            return .close
        }
    }
}
