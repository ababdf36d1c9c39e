/// One content coding undone inside a `BodyDecoder` (gzip/deflate, br, zstd).
///
/// A layer owns a fixed output window of `BodyDecoder.outputWindowSize` bytes and hands every piece
/// it decodes to a sink before decoding more, so no layer holds more than one window of output, and
/// it stops the moment the sink says it has enough: that is what bounds a decompression bomb to the
/// cap. Layers are stacked by `BodyDecoder`, the output of one being the input of the next.
protocol BodyDecodingLayer: AnyObject {
    /// The coding this layer undoes.
    var coding: BodyContentCoding { get }
    /// Encoded bytes this layer has taken in so far.
    var consumed: Int { get }

    /// Decodes the next piece of `input`, passing output to `sink` window by window. Returns false
    /// as soon as `sink` does (the rest of `input` is then left unread).
    func decode(
        _ input: UnsafeRawBufferPointer,
        into sink: (UnsafeRawBufferPointer) throws(BodyDecodingError) -> Bool
    ) throws(BodyDecodingError) -> Bool

    /// Called at the end of the body: throws `unexpectedEnd` when the stream did not end with it.
    /// No input at all is an empty body, which senders label with any coding.
    func finish() throws(BodyDecodingError)
}

extension BodyDecoder {
    /// The most decoded bytes a layer produces before handing them on.
    static let outputWindowSize = 16 * 1024
}

extension BodyContentCoding {
    /// A fresh layer that undoes this coding; nil for `identity`, which needs none.
    func makeDecodingLayer() -> (any BodyDecodingLayer)? {
        switch self {
        case .identity: return nil
        case .gzip, .deflate: return ZlibInflater(coding: self)
        case .br: return BrotliDecoder()
        case .zstd: return ZstdDecoder()
        }
    }
}
