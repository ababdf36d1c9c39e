/// A listener could not bind its address.
public struct ListenerBindError: Error, CustomStringConvertible {
    /// Which listener (`explicit`, `admin`, …).
    public var listener: String
    /// The address it tried.
    public var address: String
    /// What the OS said.
    public var underlying: any Error

    /// Creates the error.
    public init(listener: String, address: String, underlying: any Error) {
        self.listener = listener
        self.address = address
        self.underlying = underlying
    }

    /// One line naming the listener, the address and the cause.
    public var description: String {
        "cannot listen on \(address) for listeners.\(listener): \(SystemErrorText.bindFailure(underlying, key: "listeners.\(listener)"))"
    }
}
