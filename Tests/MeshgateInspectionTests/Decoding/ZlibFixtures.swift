import CZlib

/// Compressed fixtures made with zlib itself, so the decoder is checked against the reference encoder.
enum ZlibFixtures {
    /// The wrapper around the deflate data.
    enum Wrapper: String, CaseIterable, Sendable {
        case gzip, zlib, raw

        var windowBits: Int32 {
            switch self {
            case .gzip: return 15 + 16
            case .zlib: return 15
            case .raw: return -15
            }
        }
    }

    struct CompressionFailed: Error, CustomStringConvertible {
        var code: Int32
        var description: String { "zlib deflate failed with \(code)" }
    }

    /// `bytes` deflated in one go with the given wrapper.
    static func compress(_ bytes: [UInt8], wrapper: Wrapper, level: Int32 = 6) throws -> [UInt8] {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer {
            stream.deinitialize(count: 1)
            stream.deallocate()
        }
        var rc = czlib_deflate_init2(stream, level, wrapper.windowBits)
        guard rc == Z_OK else { throw CompressionFailed(code: rc) }
        defer { deflateEnd(stream) }

        var output = [UInt8](repeating: 0, count: Int(deflateBound(stream, uLong(bytes.count))) + 64)
        rc = bytes.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                stream.pointee.next_in = input.baseAddress
                stream.pointee.avail_in = UInt32(input.count)
                stream.pointee.next_out = out.baseAddress
                stream.pointee.avail_out = UInt32(out.count)
                return deflate(stream, Z_FINISH)
            }
        }
        guard rc == Z_STREAM_END else { throw CompressionFailed(code: rc) }
        return Array(output.prefix(Int(stream.pointee.total_out)))
    }

    /// Deterministic, mildly compressible text (JSON-ish lines with a counter).
    static func sampleText(lines: Int) -> [UInt8] {
        var text = ""
        for i in 0..<lines {
            text += #"{"jsonrpc":"2.0","id":\#(i),"method":"tools/call","params":{"name":"search","arguments":{"q":"line \#(i * 7919 % 10007)"}}}"#
            text += "\n"
        }
        return Array(text.utf8)
    }
}
