import NIOCore

/// How long a TLS connection meshgate closes waits for the peer's close_notify.
enum CloseNotify {
    /// NIOSSL's default is 5 s, and its timer keeps the closed connection's handler, SSL object
    /// and 96 KiB of buffers alive for that long even when the peer simply drops the TCP
    /// connection (the timer is not cancelled on channelInactive). With a few hundred connections
    /// a second that was most of the resident memory under interception load. A proxy has
    /// nothing left to read once it closes, so a short wait loses nothing: our own close_notify and
    /// all data before it are already written either way.
    static let timeout: TimeAmount = .milliseconds(200)
}
