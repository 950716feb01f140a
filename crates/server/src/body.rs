//! Reading a request body: within its size limit, at a minimum rate, and telling a body
//! that is too large from one that is malformed.
//!
//! The time a body may take grows with what has arrived: `timeout` for the start, plus one
//! second per `min_rate` bytes received. A client sending at least that fast is never cut
//! off (the size limit bounds its total time); one that trickles or stops is answered with
//! 408 and its connection freed.

use axum::body::{Body, Bytes};
use http_body_util::BodyExt;
use std::time::Duration;
use tokio::time::Instant;

/// How much, and how slowly, a body may arrive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BodyLimits {
    /// Larger bodies get 413.
    pub max_bytes: usize,
    /// Time for the body to start arriving, and the base of its deadline.
    pub timeout: Duration,
    /// Bytes per second that extend the deadline by a second each.
    pub min_rate: u64,
}

/// Why a body was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// More than `max_bytes` arrived (413).
    TooLarge(usize),
    /// The body arrived slower than the minimum rate (408): `received` bytes by then.
    TooSlow { received: usize, after: Duration },
    /// The framing was broken (a bad chunk size, a body shorter than its length): 400.
    Malformed(String),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::TooLarge(limit) => {
                write!(f, "the request body is larger than {limit} bytes")
            }
            BodyError::TooSlow { received, after } => write!(
                f,
                "the request body arrived too slowly: {received} bytes after {:.1} s",
                after.as_secs_f64()
            ),
            BodyError::Malformed(why) => write!(f, "the request body is malformed: {why}"),
        }
    }
}

impl BodyLimits {
    /// The deadline for the rest of a body that started at `started` and has `received`
    /// bytes so far.
    fn deadline(&self, started: Instant, received: usize) -> Instant {
        let earned = Duration::from_secs_f64(received as f64 / self.min_rate.max(1) as f64);
        started + self.timeout + earned
    }
}

/// What the request head says about its body, checked before reading it: a declared length
/// over the limit is refused at once (413).
///
/// The rest of the head's framing is hyper's: a length that is not one number, a transfer
/// coding other than chunked, are 400 before the request gets here. A head with both
/// `Content-Length` and `Transfer-Encoding` is read by its chunks, as RFC 9112 §6.3 says,
/// and its connection closed after the response, so bytes a proxy in front might have
/// framed differently are never read as another request.
pub fn check_head(headers: &http::HeaderMap, limits: &BodyLimits) -> Result<(), BodyError> {
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_bytes as u64) {
        return Err(BodyError::TooLarge(limits.max_bytes));
    }
    Ok(())
}

/// Reads the whole body within `limits`.
pub async fn read(body: Body, limits: &BodyLimits) -> Result<Bytes, BodyError> {
    let started = Instant::now();
    let mut body = body;
    let mut buffer: Vec<u8> = Vec::new();
    loop {
        let deadline = limits.deadline(started, buffer.len());
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Ok(frame) => frame,
            Err(_) => {
                return Err(BodyError::TooSlow {
                    received: buffer.len(),
                    after: started.elapsed(),
                })
            }
        };
        let Some(frame) = frame else {
            return Ok(Bytes::from(buffer));
        };
        let frame = frame.map_err(|e| BodyError::Malformed(describe(&e)))?;
        if let Ok(data) = frame.into_data() {
            if buffer.len() + data.len() > limits.max_bytes {
                return Err(BodyError::TooLarge(limits.max_bytes));
            }
            if buffer.is_empty() {
                buffer.reserve(data.len());
            }
            buffer.extend_from_slice(&data);
        }
    }
}

/// hyper's error and its cause ("invalid chunk size line", "unexpected end of file").
fn describe(error: &axum::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    fn limits(max_bytes: usize) -> BodyLimits {
        BodyLimits {
            max_bytes,
            timeout: Duration::from_secs(2),
            min_rate: 1000,
        }
    }

    /// A body that yields its frames, then either ends or waits forever.
    struct Scripted {
        frames: VecDeque<Result<Bytes, std::io::Error>>,
        then_stall: bool,
    }

    impl http_body::Body for Scripted {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
            match self.frames.pop_front() {
                Some(frame) => Poll::Ready(Some(frame.map(http_body::Frame::data))),
                None if self.then_stall => Poll::Pending,
                None => Poll::Ready(None),
            }
        }
    }

    fn scripted(frames: Vec<Result<Bytes, std::io::Error>>, then_stall: bool) -> Body {
        Body::new(Scripted {
            frames: frames.into(),
            then_stall,
        })
    }

    #[tokio::test]
    async fn a_body_within_the_limit_is_read_whole() {
        let parts = || vec![Ok(Bytes::from("hel")), Ok(Bytes::from("lo"))];
        let body = read(scripted(parts(), false), &limits(5)).await.unwrap();
        assert_eq!(&body[..], b"hello");
        assert_eq!(
            read(scripted(parts(), false), &limits(4)).await,
            Err(BodyError::TooLarge(4))
        );
    }

    /// A body that sends part and stops is cut off at its deadline: the start's timeout
    /// plus a second per `min_rate` bytes received.
    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_is_cut_off_at_its_deadline() {
        let started = Instant::now();
        let body = scripted(vec![Ok(Bytes::from(vec![b'x'; 3000]))], true);
        let result = read(body, &limits(1 << 20)).await;
        // 2 s of timeout plus 3 s earned by 3000 bytes at 1000 bytes/s.
        assert_eq!(
            result,
            Err(BodyError::TooSlow {
                received: 3000,
                after: Duration::from_secs(5)
            })
        );
        assert_eq!(started.elapsed(), Duration::from_secs(5));
    }

    #[test]
    fn the_head_is_checked_before_the_body() {
        let head = |pairs: &[(&str, &str)]| {
            let mut headers = http::HeaderMap::new();
            for (name, value) in pairs {
                headers.append(
                    http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    value.parse().unwrap(),
                );
            }
            check_head(&headers, &limits(100))
        };
        assert_eq!(head(&[("content-length", "100")]), Ok(()));
        assert_eq!(
            head(&[("content-length", "101")]),
            Err(BodyError::TooLarge(100))
        );
    }

    #[tokio::test]
    async fn a_broken_body_is_malformed() {
        let broken = std::io::Error::new(std::io::ErrorKind::InvalidInput, "invalid chunk size");
        match read(scripted(vec![Err(broken)], false), &limits(100)).await {
            Err(BodyError::Malformed(why)) => assert!(why.contains("chunk size"), "{why}"),
            other => panic!("expected Malformed, got {other:?}"),
        }
    }
}
