import NIOCore

/// One framed message, or the header error that ends the session.
enum BGPFrame {
    case message([UInt8])
    case error(BGPNotification)
}

/// Splits the TCP stream into BGP messages (RFC 4271 §4.1). After a header error it
/// discards everything: the session is being torn down.
struct BGPFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = BGPFrame
    private var failed = false

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if failed { buffer.moveReaderIndex(forwardBy: buffer.readableBytes); return .needMoreData }
        guard let header = buffer.getBytes(at: buffer.readerIndex, length: BGPMessage.headerLength) else { return .needMoreData }
        let length: Int
        do {
            guard let l = try BGPMessage.frameLength(header) else { return .needMoreData }
            length = l
        } catch let n as BGPNotification {
            failed = true
            context.fireChannelRead(wrapInboundOut(.error(n)))
            return .continue
        }
        guard let bytes = buffer.readBytes(length: length) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(.message(bytes)))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
