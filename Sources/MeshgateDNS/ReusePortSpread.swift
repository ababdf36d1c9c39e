import NIOCore

/// Spreads datagrams over the UDP sockets of one `SO_REUSEPORT` group at random, per datagram.
///
/// The kernel's default picks a socket by the 4-tuple hash, so every query from one source port
/// lands on one event loop. A node's local resolver (systemd-resolved, dnsmasq) forwards everything
/// from one or a few ports, and then one core answered all of it while the others idled. A classic
/// BPF program attached to the group (`SO_ATTACH_REUSEPORT_CBPF`) returns `random % sockets`: the
/// index of the socket, in the order they joined the group.
enum ReusePortSpread {
    /// `sock_filter` from <linux/filter.h>.
    private struct Instruction {
        var code: UInt16
        var jt: UInt8 = 0
        var jf: UInt8 = 0
        var k: UInt32
    }

    /// `sock_fprog` from <linux/filter.h>.
    fileprivate struct Program {
        var length: UInt16
        var instructions: UnsafeMutableRawPointer
    }

    /// <asm-generic/socket.h>
    private static let attachReusePortCBPF: Int32 = 51

    /// Attaches the program through one socket of the group. Throws when the kernel refuses it; the
    /// group then keeps the hash.
    static func attach(to channel: any Channel, sockets: Int) async throws {
        #if os(Linux)
        guard sockets > 1, let provider = channel as? any SocketOptionProvider else { return }
        // ld [SKF_AD_OFF + SKF_AD_RANDOM]; A %= sockets; ret A
        let code: [Instruction] = [
            Instruction(code: 0x20, k: UInt32(bitPattern: -0x1000 + 56)),
            Instruction(code: 0x94, k: UInt32(sockets)),
            Instruction(code: 0x16, k: 0),
        ]
        let buffer = UnsafeMutablePointer<Instruction>.allocate(capacity: code.count)
        buffer.initialize(from: code, count: code.count)
        defer { buffer.deallocate() }
        // The kernel copies the program during the call, so the buffer only has to outlive it.
        try await provider.unsafeSetSocketOption(
            level: .socket,
            name: NIOBSDSocket.Option(rawValue: attachReusePortCBPF),
            value: Program(length: UInt16(code.count), instructions: UnsafeMutableRawPointer(buffer))
        ).get()
        #endif
    }
}

// The pointer is only read by the kernel during the setsockopt call that the future waits for.
extension ReusePortSpread.Program: @unchecked Sendable {}
