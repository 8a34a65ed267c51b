//! The WebSocket transport of an upgraded connection: frames (actix-http's codec) read
//! from and written to the TCP stream directly, after `server.rs` took the stream away
//! from the HTTP/1 dispatcher.
//!
//! Why not the dispatcher: a socket kept the whole HTTP/1 connection alive, its task
//! (sized for any HTTP request, about 15 KiB) and its 8 KiB read and write buffers, so an
//! idle socket cost 24 KiB. Here a socket holds no buffer at all while nothing is in
//! flight: reads go through a stack chunk into a buffer that is let go once every frame
//! in it is decoded, and the frames queued for a socket are encoded and written with one
//! `write_all`, then that buffer is let go too.

use actix_codec::{Decoder, Encoder};
use actix_http::ws::{CloseCode, CloseReason, Codec, Frame, Item, Message, ProtocolError};
use bytes::{Bytes, BytesMut};
use bytestring::ByteString;
use std::io;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

/// One read takes at most this much from the kernel.
const READ_CHUNK: usize = 4096;
/// After sending a close frame, how long the client has to answer it (and to stop
/// sending) before the connection is dropped.
const CLOSE_LINGER: Duration = Duration::from_secs(2);

/// A whole message from the client: continuations are joined.
#[derive(Debug)]
pub enum Incoming {
    Text(ByteString),
    Binary(Bytes),
    Ping(Bytes),
    Pong,
    Close,
}

/// Why the client's byte stream cannot be read on: each has its close code.
#[derive(Debug)]
pub enum Broken {
    /// A frame or joined message above the limit: 1009.
    TooBig,
    /// A text message that is not UTF-8: 1007.
    NotUtf8,
    /// Anything else against RFC 6455 (unmasked frame, bad opcode, stray continuation): 1002.
    Protocol(ProtocolError),
}

impl Broken {
    pub fn close_code(&self) -> u16 {
        match self {
            Broken::TooBig => 1009,
            Broken::NotUtf8 => 1007,
            Broken::Protocol(_) => 1002,
        }
    }

    pub fn reason(&self) -> String {
        match self {
            Broken::TooBig => "frame too large".into(),
            Broken::NotUtf8 => "text frame is not UTF-8".into(),
            Broken::Protocol(e) => format!("protocol error: {e}"),
        }
    }
}

impl From<ProtocolError> for Broken {
    fn from(e: ProtocolError) -> Self {
        match e {
            ProtocolError::Overflow => Broken::TooBig,
            e => Broken::Protocol(e),
        }
    }
}

/// Splits an upgraded stream. `early` is what the HTTP/1 codec had already read past the
/// handshake (a client may send its first frame without waiting for the 101).
pub fn split(io: TcpStream, early: &[u8], limit: usize) -> (Reader, Writer) {
    // Frames are small and must leave now: no Nagle delay behind an unacknowledged one.
    let _ = io.set_nodelay(true);
    let (read, write) = io.into_split();
    // Copied: the HTTP codec's 8 KiB buffer (which the request head shares) goes with it.
    let buf = BytesMut::from(early);
    (
        Reader {
            io: read,
            codec: Codec::new().max_size(limit),
            buf,
            partial: None,
            limit,
        },
        Writer {
            io: write,
            pending: BytesMut::new(),
            codec: Codec::new(),
            closed: false,
        },
    )
}

pub struct Reader {
    io: OwnedReadHalf,
    codec: Codec,
    /// Bytes read but not decoded yet; unallocated when empty.
    buf: BytesMut,
    /// A fragmented message being joined: (is text, bytes so far).
    partial: Option<(bool, BytesMut)>,
    limit: usize,
}

impl Reader {
    /// The next whole message; `None` when the connection ended. Cancel-safe: what was
    /// read stays in the reader.
    pub async fn next(&mut self) -> Option<Result<Incoming, Broken>> {
        loop {
            match self.decode() {
                Ok(Some(m)) => return Some(Ok(m)),
                Ok(None) => {}
                Err(e) => return Some(Err(e)),
            }
            if self.io.readable().await.is_err() {
                return None;
            }
            match self.fill() {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => return None,
            }
        }
    }

    /// One non-blocking read through a stack chunk, so no buffer outlives the data.
    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; READ_CHUNK];
        let n = self.io.try_read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    fn decode(&mut self) -> Result<Option<Incoming>, Broken> {
        loop {
            let Some(frame) = self.codec.decode(&mut self.buf)? else {
                if self.buf.is_empty() {
                    // Let go of the allocation: an idle socket holds no buffer.
                    self.buf = BytesMut::new();
                }
                return Ok(None);
            };
            let whole = match frame {
                Frame::Text(b) => (true, b),
                Frame::Binary(b) => (false, b),
                Frame::Ping(b) => return Ok(Some(Incoming::Ping(b))),
                Frame::Pong(_) => return Ok(Some(Incoming::Pong)),
                Frame::Close(_) => return Ok(Some(Incoming::Close)),
                Frame::Continuation(item) => match self.join(item)? {
                    Some(whole) => whole,
                    None => continue,
                },
            };
            return Ok(Some(match whole {
                (true, b) => Incoming::Text(ByteString::try_from(b).map_err(|_| Broken::NotUtf8)?),
                (false, b) => Incoming::Binary(b),
            }));
        }
    }

    /// Adds a fragment; the joined message once the last one is in.
    fn join(&mut self, item: Item) -> Result<Option<(bool, Bytes)>, Broken> {
        let (start, last, chunk) = match item {
            Item::FirstText(b) => (Some(true), false, b),
            Item::FirstBinary(b) => (Some(false), false, b),
            Item::Continue(b) => (None, false, b),
            Item::Last(b) => (None, true, b),
        };
        let (text, mut joined) = match (start, self.partial.take()) {
            (Some(_), Some(_)) => return Err(ProtocolError::ContinuationStarted.into()),
            (None, None) => return Err(ProtocolError::ContinuationNotStarted.into()),
            (Some(text), None) => (text, BytesMut::new()),
            (None, Some(partial)) => partial,
        };
        if joined.len() + chunk.len() > self.limit {
            return Err(Broken::TooBig);
        }
        joined.extend_from_slice(&chunk);
        if last {
            return Ok(Some((text, joined.freeze())));
        }
        self.partial = Some((text, joined));
        Ok(None)
    }

    /// Reads and drops whatever the client still sends, until it closes its side or the
    /// linger time is up. Dropping a socket with unread data makes the kernel answer with
    /// a reset, which can destroy the close frame before the client reads it.
    async fn drain(&mut self) {
        self.buf = BytesMut::new();
        self.partial = None;
        let _ = tokio::time::timeout(CLOSE_LINGER, async {
            loop {
                if self.io.readable().await.is_err() {
                    return;
                }
                match self.fill() {
                    Ok(0) => return,
                    Ok(_) => self.buf.clear(),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(_) => return,
                }
            }
        })
        .await;
    }
}

pub struct Writer {
    io: OwnedWriteHalf,
    codec: Codec,
    /// Frames encoded by `queue_text` and not yet written; empty (no allocation) between
    /// writes.
    pending: BytesMut,
    closed: bool,
}

impl Writer {
    pub async fn text(&mut self, text: ByteString) -> io::Result<()> {
        self.send(Message::Text(text)).await
    }

    /// Encodes a text frame to go out with the next `flush`: several frames queued
    /// together leave in one write.
    pub fn queue_text(&mut self, text: ByteString) -> io::Result<()> {
        self.encode(Message::Text(text))
    }

    /// Bytes queued and not yet written.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    pub async fn ping(&mut self, payload: &'static [u8]) -> io::Result<()> {
        self.send(Message::Ping(Bytes::from_static(payload))).await
    }

    pub async fn pong(&mut self, payload: Bytes) -> io::Result<()> {
        self.send(Message::Pong(payload)).await
    }

    async fn send(&mut self, msg: Message) -> io::Result<()> {
        self.encode(msg)?;
        self.flush().await
    }

    fn encode(&mut self, msg: Message) -> io::Result<()> {
        if self.closed {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        self.codec
            .encode(msg, &mut self.pending)
            .map_err(|e| io::Error::other(e.to_string()))
    }

    /// Writes every queued frame, then lets the buffer go.
    pub async fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        if self.pending.is_empty() {
            return Ok(());
        }
        let out = std::mem::take(&mut self.pending);
        // Closed until the frames are out whole: a write that fails or is abandoned (a
        // send timeout) leaves half a frame behind, and nothing may follow it.
        self.closed = true;
        self.io.write_all(&out).await?;
        self.closed = false;
        Ok(())
    }
}

/// Ends a connection the way RFC 6455 asks: a close frame (with `code` and `reason`, or
/// none), then the client's answer is awaited for a moment before the socket goes.
/// Never waits long for a client that does not read.
pub async fn close(mut reader: Reader, mut writer: Writer, code: Option<(u16, &str)>) {
    let reason = code.map(|(code, reason)| CloseReason {
        code: CloseCode::Other(code),
        description: Some(reason.to_owned()),
    });
    let sent = tokio::time::timeout(CLOSE_LINGER, writer.send(Message::Close(reason))).await;
    writer.closed = true;
    if matches!(sent, Ok(Ok(()))) {
        let _ = tokio::time::timeout(CLOSE_LINGER, writer.io.shutdown()).await;
        reader.drain().await;
    }
}

/// Answers a client's close frame (it sent one, so it expects one back); the connection
/// ends when the writer and its reader are dropped.
pub async fn close_answer(mut writer: Writer) {
    let _ = tokio::time::timeout(CLOSE_LINGER, writer.send(Message::Close(None))).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;

    /// Frames queued together reach the client whole and in order with the one flush,
    /// nothing before it, and the socket keeps no buffer afterwards.
    #[actix_web::test]
    async fn queued_frames_leave_together_in_order() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
        let mut client = client.unwrap();
        let (_reader, mut writer) = split(accepted.unwrap().0, &[], 1 << 16);

        for text in ["one", "two", "three"] {
            writer.queue_text(text.into()).unwrap();
        }
        let mut buf = BytesMut::with_capacity(256);
        let early = tokio::time::timeout(Duration::from_millis(100), client.read_buf(&mut buf));
        assert!(early.await.is_err(), "nothing is written before the flush");

        writer.flush().await.unwrap();
        assert_eq!(writer.pending.capacity(), 0, "the buffer is let go");
        let mut codec = Codec::new().client_mode();
        let mut got = Vec::new();
        while got.len() < 3 {
            assert!(client.read_buf(&mut buf).await.unwrap() > 0);
            while let Some(frame) = codec.decode(&mut buf).unwrap() {
                match frame {
                    Frame::Text(b) => got.push(String::from_utf8(b.to_vec()).unwrap()),
                    other => panic!("unexpected frame {other:?}"),
                }
            }
        }
        assert_eq!(got, ["one", "two", "three"]);
        // A flush with nothing queued writes nothing and succeeds.
        writer.flush().await.unwrap();
    }
}
