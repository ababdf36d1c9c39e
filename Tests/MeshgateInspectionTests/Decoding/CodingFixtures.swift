import CBrotli
import CZstd

/// Brotli and zstd fixtures made with the reference encoders (libbrotlienc, libzstd), so the
/// decoders are checked against what real senders produce.
enum CodingFixtures {
    struct CompressionFailed: Error, CustomStringConvertible {
        var description: String
    }

    /// `bytes` as one brotli stream. `window` is the encoder's lgwin (10...24).
    static func brotli(_ bytes: [UInt8], quality: Int32 = 5, window: Int32 = 22) throws -> [UInt8] {
        var size = BrotliEncoderMaxCompressedSize(bytes.count)
        if size == 0 { size = bytes.count + 1024 }
        var output = [UInt8](repeating: 0, count: size)
        let ok = bytes.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                BrotliEncoderCompress(quality, window, BROTLI_MODE_GENERIC, input.count, input.baseAddress, &size, out.baseAddress)
            }
        }
        guard ok == BROTLI_TRUE else { throw CompressionFailed(description: "BrotliEncoderCompress failed") }
        return Array(output.prefix(size))
    }

    /// `bytes` as one zstd frame; `windowLog` (10...27) forces the window the frame asks for.
    static func zstd(_ bytes: [UInt8], level: Int32 = 3, windowLog: Int32? = nil) throws -> [UInt8] {
        guard let context = ZSTD_createCCtx() else { throw CompressionFailed(description: "ZSTD_createCCtx failed") }
        defer { ZSTD_freeCCtx(context) }
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level))
        if let windowLog { try check(ZSTD_CCtx_setParameter(context, ZSTD_c_windowLog, windowLog)) }
        var output = [UInt8](repeating: 0, count: ZSTD_compressBound(bytes.count))
        let written = bytes.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { out in
                ZSTD_compress2(context, out.baseAddress, out.count, input.baseAddress, input.count)
            }
        }
        try check(written)
        return Array(output.prefix(written))
    }

    /// `bytes` compressed by each coding in turn, as a sender applying "gzip, br" would.
    static func encode(_ bytes: [UInt8], _ codings: [String]) throws -> [UInt8] {
        try codings.reduce(bytes) { data, coding in
            switch coding {
            case "br": return try brotli(data)
            case "zstd": return try zstd(data)
            case "gzip": return try ZlibFixtures.compress(data, wrapper: .gzip)
            case "deflate": return try ZlibFixtures.compress(data, wrapper: .zlib)
            default: throw CompressionFailed(description: "no encoder for '\(coding)'")
            }
        }
    }

    private static func check(_ rc: Int) throws {
        if ZSTD_isError(rc) != 0 {
            throw CompressionFailed(description: String(cString: ZSTD_getErrorName(rc)))
        }
    }
}
