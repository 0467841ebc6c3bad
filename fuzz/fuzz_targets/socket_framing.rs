//! The socket's framing (`next_frame`) on arbitrary bytes arriving in
//! arbitrary pieces, checked against a plain split on `\n`.
//!
//! Input layout: byte 0 is the line-length limit (0..=255); byte 1 the
//! `BufReader` capacity (1..=16); byte 2 how many chunk sizes follow (1..=8);
//! those bytes are the sizes of successive reads, cycled (0 = the read is
//! not ready yet: `Pending`, woken at once); the rest is the stream.

#![no_main]

use std::io;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use hookmeter::ingest::socket::{next_frame, Frame};
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncRead, BufReader, ReadBuf};

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime")
    })
}

/// A stream that hands out `data` in reads of the given sizes, like a socket
/// whose peer writes in pieces.
struct Chunked<'a> {
    data: &'a [u8],
    sizes: &'a [u8],
    next: usize,
}

impl AsyncRead for Chunked<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.data.is_empty() {
            return Poll::Ready(Ok(()));
        }
        let size = self.sizes[self.next % self.sizes.len()] as usize;
        self.next += 1;
        if size == 0 {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let n = size.min(buf.remaining()).min(self.data.len());
        buf.put_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Poll::Ready(Ok(()))
    }
}

/// What the framing must yield for `data`: each `\n`-terminated line, then
/// the unterminated rest if there is any.
fn expected_lines(data: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    // `split` yields the (possibly empty) piece after the last newline.
    if lines.last().is_some_and(|rest| rest.is_empty()) {
        lines.pop();
    }
    lines
}

fuzz_target!(|input: &[u8]| {
    let [limit, capacity, count, rest @ ..] = input else {
        return;
    };
    let limit = *limit as usize;
    let capacity = (*capacity as usize % 16) + 1;
    let count = (*count as usize % 8) + 1;
    if rest.len() < count {
        return;
    }
    let (sizes, data) = rest.split_at(count);
    // All-zero sizes would never make progress.
    if sizes.iter().all(|&s| s == 0) {
        return;
    }

    let expected = expected_lines(data);
    let stream = Chunked {
        data,
        sizes,
        next: 0,
    };
    let mut reader = BufReader::with_capacity(capacity, stream);
    let frames = runtime().block_on(async {
        let mut frames = Vec::new();
        loop {
            let mut buf = Vec::new();
            let frame = next_frame(&mut reader, &mut buf, limit)
                .await
                .expect("an in-memory stream cannot fail");
            assert!(
                buf.len() <= limit,
                "frame {frame:?} holds {} bytes, over the limit of {limit}",
                buf.len()
            );
            if frame == Frame::Eof {
                assert!(buf.is_empty(), "Eof with {} bytes", buf.len());
                // End of stream stays the end.
                let mut again = Vec::new();
                let after = next_frame(&mut reader, &mut again, limit).await.unwrap();
                assert_eq!(after, Frame::Eof);
                return frames;
            }
            frames.push((frame, buf));
            assert!(
                frames.len() <= expected.len(),
                "more frames than lines: Eof must come only at the end"
            );
        }
    });

    assert_eq!(frames.len(), expected.len(), "a line was lost");
    for ((frame, buf), line) in frames.iter().zip(&expected) {
        if line.len() > limit {
            assert_eq!(*frame, Frame::TooLong { total: line.len() });
            assert_eq!(buf[..], line[..limit], "a long line keeps its first bytes");
        } else {
            assert_eq!(
                *frame,
                Frame::Line,
                "a line within the limit is not TooLong"
            );
            assert_eq!(buf[..], line[..]);
        }
    }
    // Without truncation, the frames are the stream again.
    if frames.iter().all(|(frame, _)| *frame == Frame::Line) {
        let mut joined = Vec::with_capacity(data.len() + 1);
        for (_, buf) in &frames {
            joined.extend_from_slice(buf);
            joined.push(b'\n');
        }
        let mut want = data.to_vec();
        if !want.is_empty() && !want.ends_with(b"\n") {
            want.push(b'\n');
        }
        assert_eq!(joined, want);
    }
});
