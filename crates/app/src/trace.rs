//! `builtins.trace` output of one request, on its way to the log.
//!
//! Both engines hand each trace message to the request's [`Traces`] as they read it: it
//! goes to the log at info level (target `nixweb::trace`) with the request id, until the
//! request has logged [`Traces::limit`] bytes of them. Past that, messages are counted, not
//! kept, and one line says how much was dropped, so a trace loop cannot flood the log or
//! the server's memory. What was logged is kept for the request's `--dev` error page.

use std::sync::Mutex;

/// Bytes of trace messages one request may write to the log.
pub const DEFAULT_LIMIT: usize = 64 * 1024;

/// One request's trace messages.
pub struct Traces {
    id: String,
    limit: usize,
    /// Neither logged nor kept (see [`Traces::unlogged`]).
    quiet: bool,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    kept: Vec<String>,
    bytes: usize,
    dropped: Dropped,
    /// Dropped counts already reported by [`Traces::finish`].
    reported: Dropped,
}

/// Trace output past the limit: how many messages, how many bytes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Dropped {
    pub messages: u64,
    pub bytes: u64,
}

impl Traces {
    /// Traces of the request `id`, logging up to `limit` bytes of messages.
    pub fn new(id: impl Into<String>, limit: usize) -> Traces {
        Traces {
            id: id.into(),
            limit,
            quiet: false,
            inner: Mutex::default(),
        }
    }

    /// Traces that go nowhere: for an evaluation that repeats part of one already logged
    /// (asking the router where a failed request's handler is).
    pub fn unlogged() -> Traces {
        Traces {
            quiet: true,
            ..Traces::new("", 0)
        }
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// One message, as `builtins.trace` printed it after `trace: `. A message that does not
    /// fit in what is left of the limit is cut there; the rest counts as dropped.
    pub fn push(&self, message: &str) {
        if self.quiet {
            return;
        }
        let mut inner = self.inner.lock().expect("traces lock");
        let room = self.limit.saturating_sub(inner.bytes);
        if room == 0 {
            inner.dropped.messages += 1;
            inner.dropped.bytes += message.len() as u64;
            return;
        }
        let mut cut = message.len().min(room);
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        let kept = &message[..cut];
        if cut < message.len() {
            inner.dropped.bytes += (message.len() - cut) as u64;
        }
        inner.bytes += kept.len().max(1);
        tracing::info!(target: "nixweb::trace", id = %self.id, "trace: {kept}");
        inner.kept.push(kept.to_owned());
    }

    /// Every `trace: …` message in `output` (an evaluator's collected stderr). Lines that
    /// do not start a message continue the one before (a message may span lines); other
    /// output before the first message (warnings) is not trace output and is left out.
    pub fn push_output(&self, output: &str) {
        let mut message: Option<String> = None;
        for line in output.lines() {
            match line.strip_prefix("trace: ") {
                Some(start) => {
                    if let Some(done) = message.replace(start.to_owned()) {
                        self.push(&done);
                    }
                }
                None if line.starts_with("warning: ") => {
                    if let Some(done) = message.take() {
                        self.push(&done);
                    }
                    if self.quiet {
                        continue;
                    }
                    tracing::warn!(target: "nixweb::trace", id = %self.id, "{line}");
                }
                None => {
                    if let Some(message) = &mut message {
                        message.push('\n');
                        message.push_str(line);
                    }
                }
            }
        }
        if let Some(done) = message {
            self.push(&done);
        }
    }

    /// Bytes of trace output dropped before they reached here (an evaluator's own cap on
    /// what it keeps): reported with the rest by [`Traces::finish`].
    pub fn count_dropped(&self, bytes: u64) {
        if bytes > 0 && !self.quiet {
            self.inner.lock().expect("traces lock").dropped.bytes += bytes;
        }
    }

    /// Logs how much was dropped since the last call, if anything: engines call it when an
    /// evaluation ends.
    pub fn finish(&self) {
        let mut inner = self.inner.lock().expect("traces lock");
        let new = Dropped {
            messages: inner.dropped.messages - inner.reported.messages,
            bytes: inner.dropped.bytes - inner.reported.bytes,
        };
        if new != Dropped::default() {
            tracing::info!(
                target: "nixweb::trace",
                id = %self.id,
                "{} more bytes of trace output ({} more messages) dropped: a request logs at most {} bytes of it",
                new.bytes, new.messages, self.limit
            );
            inner.reported = inner.dropped;
        }
    }

    /// The messages that went to the log, in order.
    pub fn kept(&self) -> Vec<String> {
        self.inner.lock().expect("traces lock").kept.clone()
    }

    /// What did not fit under the limit.
    pub fn dropped(&self) -> Dropped {
        self.inner.lock().expect("traces lock").dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_kept_up_to_the_limit_and_the_rest_counted() {
        let traces = Traces::new("r1", 10);
        traces.push("abcd");
        traces.push("efghijkl");
        traces.push("mnop");
        assert_eq!(traces.kept(), ["abcd", "efghij"]);
        assert_eq!(
            traces.dropped(),
            Dropped {
                messages: 1,
                bytes: 2 + 4
            }
        );
    }

    #[test]
    fn a_cut_never_splits_a_character() {
        let traces = Traces::new("r1", 3);
        traces.push("aé");
        traces.push("b");
        assert_eq!(traces.kept(), ["aé"]);
        let traces = Traces::new("r1", 2);
        traces.push("aé");
        assert_eq!(traces.kept(), ["a"]);
        assert_eq!(traces.dropped().bytes, 2);
    }

    #[test]
    fn collected_output_splits_into_messages() {
        let traces = Traces::new("r1", 1000);
        traces.push_output("trace: one\ntrace: two\nlines\nwarning: w\ntrace: { a = 1; }\n");
        assert_eq!(traces.kept(), ["one", "two\nlines", "{ a = 1; }"]);
    }
}
