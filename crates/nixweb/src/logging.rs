//! Log lines on stderr, in one of two formats, each of them one record per line:
//!
//! - text, for people: `TIME LEVEL TARGET: id=ID MESSAGE key=value…`; a message of several
//!   lines (a Nix error with its source) continues on lines that repeat the prefix, up to
//!   the request id, followed by `| `, so `grep id=…` or `grep ERROR` keeps all of it;
//! - json, for tools: one object per line with `time`, `level`, `target`, `message` and the
//!   event's fields (`id`, and for access lines `client`, `status`, `bytes`…).
//!
//! An event's `id` field (the request id) is what ties its lines to a request.

use crate::cli::LogFormat;
use std::fmt::{self, Write as _};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::registry::LookupSpan;

/// Sends log lines to stderr in `format`, filtered by RUST_LOG (default: info). A server
/// (`buffered`) writes them from a thread of its own; a one-off command writes each as it
/// happens, so its log is complete before it prints its result. Keep the guard until exit:
/// dropping it flushes what is left.
pub fn init(
    format: LogFormat,
    buffered: bool,
) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(format == LogFormat::Text && std::io::stderr().is_terminal())
        .event_format(LineFormat { format });
    if !buffered {
        builder.with_writer(std::io::stderr).init();
        return None;
    }
    // Buffered and flushed whenever no more lines are waiting: under load many lines share
    // one write instead of each costing a system call on the thread serving requests.
    // Nothing is dropped (not lossy).
    let (stderr, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        // Room for bursts; its slots are allocated up front (the default, 128,000 lines,
        // took 4 MB of an idle server's memory).
        .buffered_lines_limit(4096)
        .thread_name("nixweb-log")
        .finish(std::io::BufWriter::with_capacity(
            64 * 1024,
            std::io::stderr(),
        ));
    builder.with_writer(stderr).init();
    Some(guard)
}

/// The event formatter for both formats.
pub struct LineFormat {
    pub format: LogFormat,
}

impl<S, N> FormatEvent<S, N> for LineFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut time = String::new();
        SystemTime.format_time(&mut Writer::new(&mut time))?;
        let meta = event.metadata();
        match self.format {
            LogFormat::Json => write_json(&mut writer, &time, meta.level(), meta.target(), fields),
            LogFormat::Text => {
                let ansi = writer.has_ansi_escapes();
                write_text(
                    &mut writer,
                    ansi,
                    &time,
                    meta.level(),
                    meta.target(),
                    &fields,
                )
            }
        }
    }
}

fn write_text(
    out: &mut impl fmt::Write,
    ansi: bool,
    time: &str,
    level: &Level,
    target: &str,
    fields: &Fields,
) -> fmt::Result {
    let mut prefix = String::with_capacity(64);
    if ansi {
        let colour = match *level {
            Level::ERROR => "31",
            Level::WARN => "33",
            Level::INFO => "32",
            Level::DEBUG => "34",
            Level::TRACE => "35",
        };
        write!(
            prefix,
            "\x1b[2m{time}\x1b[0m \x1b[{colour}m{level:>5}\x1b[0m \x1b[2m{target}:\x1b[0m "
        )?;
    } else {
        write!(prefix, "{time} {level:>5} {target}: ")?;
    }
    if let Some(id) = &fields.id {
        write!(prefix, "id={id} ")?;
    }
    let mut lines = fields.message.trim_end().lines();
    out.write_str(&prefix)?;
    out.write_str(lines.next().unwrap_or_default())?;
    for (name, value) in &fields.rest {
        out.write_char(' ')?;
        out.write_str(name)?;
        out.write_char('=')?;
        match value {
            serde_json::Value::String(text) if needs_quotes(text) => write!(out, "{text:?}")?,
            serde_json::Value::String(text) => out.write_str(text)?,
            other => write!(out, "{other}")?,
        }
    }
    out.write_char('\n')?;
    for line in lines {
        out.write_str(&prefix)?;
        out.write_str("| ")?;
        out.write_str(line)?;
        out.write_char('\n')?;
    }
    Ok(())
}

fn needs_quotes(text: &str) -> bool {
    text.is_empty() || text.contains(|c: char| c.is_whitespace() || c == '"' || c == '=')
}

fn write_json(
    out: &mut impl fmt::Write,
    time: &str,
    level: &Level,
    target: &str,
    fields: Fields,
) -> fmt::Result {
    let mut object = serde_json::Map::with_capacity(fields.rest.len() + 5);
    object.insert("time".into(), time.into());
    object.insert("level".into(), level.as_str().into());
    object.insert("target".into(), target.into());
    if let Some(id) = fields.id {
        object.insert("id".into(), id.into());
    }
    object.insert("message".into(), fields.message.trim_end().into());
    for (name, value) in fields.rest {
        object.insert(name.into(), value);
    }
    writeln!(out, "{}", serde_json::Value::Object(object))
}

/// An event's fields: its message, the request id, and the others in their order.
#[derive(Default)]
struct Fields {
    message: String,
    id: Option<String>,
    rest: Vec<(&'static str, serde_json::Value)>,
}

impl Fields {
    fn put(&mut self, field: &Field, value: serde_json::Value) {
        match (field.name(), value) {
            ("message", serde_json::Value::String(text)) => self.message = text,
            ("id", serde_json::Value::String(text)) => self.id = Some(text),
            (name, value) => self.rest.push((name, value)),
        }
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, format!("{value:?}").into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(
        message: &str,
        id: Option<&str>,
        rest: &[(&'static str, serde_json::Value)],
    ) -> Fields {
        Fields {
            message: message.into(),
            id: id.map(str::to_owned),
            rest: rest.to_vec(),
        }
    }

    #[test]
    fn text_lines_each_carry_the_prefix_and_the_id() {
        let mut out = String::new();
        let f = fields(
            "error: boom\n\n       at /a.nix:1:2:\n",
            Some("abc"),
            &[("status", 500.into()), ("agent", "curl 8".into())],
        );
        write_text(&mut out, false, "T", &Level::ERROR, "nixweb::request", &f).unwrap();
        assert_eq!(
            out,
            "T ERROR nixweb::request: id=abc error: boom status=500 agent=\"curl 8\"\n\
             T ERROR nixweb::request: id=abc | \n\
             T ERROR nixweb::request: id=abc |        at /a.nix:1:2:\n"
        );
    }

    #[test]
    fn json_is_one_object_per_line() {
        let mut out = String::new();
        let f = fields("error: a\nb\n", None, &[("bytes", 12.into())]);
        write_json(&mut out, "T", &Level::WARN, "nixweb", f).unwrap();
        assert_eq!(out.lines().count(), 1, "{out}");
        let value: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(value["message"], "error: a\nb");
        assert_eq!(value["level"], "WARN");
        assert_eq!(value["bytes"], 12);
    }
}
