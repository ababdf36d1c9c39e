/// A configuration that cannot run on this machine, with the fix.
public struct StartupError: Error, CustomStringConvertible {
    /// What is wrong and what to do.
    public var description: String
}
