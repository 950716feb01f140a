//! A JSON parser for `builtins.fromJSON` that builds Nix values directly and reports
//! errors in the words of Nix 2.8's JSON library (nlohmann/json), positions included.

use crate::error::{limit_err, EResult, ErrorKind, EvalError, Limit};
use crate::source::Pos;
use crate::value::*;

struct Parser<'a> {
    text: &'a [u8],
    i: usize,
    /// Object keys seen so far: records of the same shape share their names.
    names: std::collections::HashMap<String, Symbol>,
    /// Keys read so far; sharing starts past [`SHARE_KEYS_AFTER`].
    keys_read: usize,
    /// Arrays and objects open around the current position, and how many may be.
    depth: usize,
    max_depth: usize,
}

/// Small documents (a web request: twenty-odd keys) are parsed without the sharing table,
/// whose hashing would cost more than the few repeated names it saves.
const SHARE_KEYS_AFTER: usize = 64;

/// Beyond this many distinct keys, new ones are no longer remembered.
const MAX_INTERNED_KEYS: usize = 4096;

type PResult<T> = Result<T, String>;

fn show_char(c: u8) -> String {
    (c as char).to_string()
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    /// "parse error at line L, column C" for the character at `at` (or end of input).
    fn error(&self, at: usize, context: &str, detail: &str) -> String {
        if self.text.get(at) == Some(&b'\n') {
            // nlohmann counts a consumed newline as the start of the next line.
            let line = self.text[..=at].iter().filter(|&&c| c == b'\n').count() + 1;
            return format!(
                "[json.exception.parse_error.101] parse error at line {}, column 0: syntax error while parsing {} - {}",
                line, context, detail
            );
        }
        let before = &self.text[..at.min(self.text.len())];
        let line = before.iter().filter(|&&c| c == b'\n').count() + 1;
        let col = before.len()
            - before
                .iter()
                .rposition(|&c| c == b'\n')
                .map_or(0, |p| p + 1)
            + 1;
        format!(
            "[json.exception.parse_error.101] parse error at line {}, column {}: syntax error while parsing {} - {}",
            line, col, context, detail
        )
    }

    /// Where nlohmann/json reports an unexpected token: at its last character.
    fn token_end(&self) -> usize {
        let mut j = self.i;
        match self.peek() {
            Some(b'"') => {
                j += 1;
                while j < self.text.len() && self.text[j] != b'"' {
                    j += if self.text[j] == b'\\' { 2 } else { 1 };
                }
                j.min(self.text.len())
            }
            Some(b'-' | b'0'..=b'9') => {
                while j + 1 < self.text.len()
                    && matches!(
                        self.text[j + 1],
                        b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-'
                    )
                {
                    j += 1;
                }
                j
            }
            Some(b't' | b'f' | b'n') => {
                let word = ["true", "false", "null"]
                    .into_iter()
                    .find(|w| self.text[j..].starts_with(w.as_bytes()));
                word.map_or(j, |w| j + w.len() - 1)
            }
            _ => j,
        }
    }

    fn unexpected(&self, context: &str, expected: &str) -> String {
        let at = self.token_end();
        let detail = match self.peek() {
            None => format!("unexpected end of input; expected {}", expected),
            Some(c @ (b'[' | b']' | b'{' | b'}' | b',' | b':')) => {
                format!("unexpected '{}'; expected {}", show_char(c), expected)
            }
            Some(b'"') => format!("unexpected string literal; expected {}", expected),
            Some(b't' | b'f' | b'n')
                if ["true", "false", "null"]
                    .iter()
                    .any(|w| self.text[self.i..].starts_with(w.as_bytes())) =>
            {
                let word = ["true", "false", "null"]
                    .into_iter()
                    .find(|w| self.text[self.i..].starts_with(w.as_bytes()))
                    .unwrap_or("null");
                format!("unexpected {} literal; expected {}", word, expected)
            }
            Some(b'-' | b'0'..=b'9') => format!("unexpected number literal; expected {}", expected),
            Some(c) => format!(
                "invalid literal; last read: '{}'; expected {}",
                show_char(c),
                expected
            ),
        };
        self.error(at, context, &detail)
    }

    fn value(&mut self) -> PResult<Value> {
        self.skip_ws();
        const LITERAL: &str = "'[', '{', or a literal";
        match self.peek() {
            Some(b'{' | b'[') if self.depth >= self.max_depth => Err(String::new()),
            Some(b'{') => self.nested(Self::object),
            Some(b'[') => self.nested(Self::array),
            Some(b'"') => Ok(Value::str(&*self.string()?)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(c @ (b']' | b'}' | b',' | b':')) => Err(self.error(
                self.i,
                "value",
                &format!("unexpected '{}'; expected {}", show_char(c), LITERAL),
            )),
            Some(c) => Err(self.error(
                self.i,
                "value",
                &format!("invalid literal; last read: '{}'", show_char(c)),
            )),
            None => Err(self.error(
                self.i,
                "value",
                &format!("unexpected end of input; expected {}", LITERAL),
            )),
        }
    }

    /// An array or object, one level deeper (on a stack that grows as it must).
    fn nested(&mut self, parse: fn(&mut Self) -> PResult<Value>) -> PResult<Value> {
        self.depth += 1;
        let v = crate::stack::ensure(|| parse(self));
        self.depth -= 1;
        v
    }

    fn literal(&mut self, word: &str, v: Value) -> PResult<Value> {
        let start = self.i;
        for expected in word.bytes() {
            if self.peek() != Some(expected) {
                let end = (self.i + 1).min(self.text.len());
                let read = String::from_utf8_lossy(&self.text[start..end]).into_owned();
                return Err(self.error(
                    self.i,
                    "value",
                    &format!("invalid literal; last read: '{}'", read),
                ));
            }
            self.i += 1;
        }
        Ok(v)
    }

    fn number(&mut self) -> PResult<Value> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let digits = |p: &mut Self| {
            let s = p.i;
            while matches!(p.peek(), Some(b'0'..=b'9')) {
                p.i += 1;
            }
            p.i - s
        };
        if self.peek() == Some(b'0') {
            self.i += 1;
        } else if digits(self) == 0 {
            let read =
                String::from_utf8_lossy(&self.text[start..(self.i + 1).min(self.text.len())])
                    .into_owned();
            return Err(self.error(
                self.i,
                "value",
                &format!(
                    "invalid number; expected digit after '-'; last read: '{}'",
                    read
                ),
            ));
        }
        let mut is_float = false;
        if self.peek() == Some(b'.') {
            is_float = true;
            self.i += 1;
            if digits(self) == 0 {
                let read =
                    String::from_utf8_lossy(&self.text[start..(self.i + 1).min(self.text.len())])
                        .into_owned();
                return Err(self.error(
                    self.i,
                    "value",
                    &format!(
                        "invalid number; expected digit after '.'; last read: '{}'",
                        read
                    ),
                ));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            is_float = true;
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if digits(self) == 0 {
                let read =
                    String::from_utf8_lossy(&self.text[start..(self.i + 1).min(self.text.len())])
                        .into_owned();
                return Err(self.error(
                    self.i,
                    "value",
                    &format!(
                        "invalid number; expected digit after exponent sign; last read: '{}'",
                        read
                    ),
                ));
            }
        }
        let text = std::str::from_utf8(&self.text[start..self.i]).unwrap_or("0");
        if !is_float {
            if let Ok(i) = text.parse::<i64>() {
                return Ok(Value::Int(i));
            }
            // Nix 2.8 wraps integers between 2^63 and 2^64.
            if let Ok(u) = text.parse::<u64>() {
                return Ok(Value::Int(u as i64));
            }
        }
        let f: f64 = text.parse().unwrap_or(f64::INFINITY);
        if f.is_infinite() {
            return Err(format!(
                "[json.exception.out_of_range.406] number overflow parsing '{}'",
                text
            ));
        }
        Ok(Value::Float(f))
    }

    fn hex4(&mut self, start: usize) -> PResult<u32> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = self.peek().and_then(|c| (c as char).to_digit(16));
            match d {
                Some(d) => {
                    v = v * 16 + d;
                    self.i += 1;
                }
                None => {
                    let read = String::from_utf8_lossy(
                        &self.text[start..(self.i + 1).min(self.text.len())],
                    )
                    .into_owned();
                    return Err(self.error(self.i, "value", &format!("invalid string: '\\u' must be followed by 4 hex digits; last read: '{}'", read)));
                }
            }
        }
        Ok(v)
    }

    fn string(&mut self) -> PResult<std::borrow::Cow<'a, str>> {
        // Most strings hold no escape: they are the text between the quotes, borrowed.
        let text: &'a [u8] = self.text;
        let body = &text[self.i + 1..];
        if let Some(n) = body
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        {
            if body[n] == b'"' {
                if let Ok(plain) = std::str::from_utf8(&body[..n]) {
                    self.i += n + 2;
                    return Ok(std::borrow::Cow::Borrowed(plain));
                }
            }
        }
        let start = self.i;
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            match self.peek() {
                None => {
                    let read = String::from_utf8_lossy(&self.text[start..]).into_owned();
                    return Err(self.error(
                        self.i,
                        "value",
                        &format!(
                            "invalid string: missing closing quote; last read: '{}'",
                            read
                        ),
                    ));
                }
                Some(b'"') => {
                    self.i += 1;
                    break;
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = self.peek();
                    self.i += 1;
                    match c {
                        Some(b'"') => out.push(b'"'),
                        Some(b'\\') => out.push(b'\\'),
                        Some(b'/') => out.push(b'/'),
                        Some(b'b') => out.push(8),
                        Some(b'f') => out.push(12),
                        Some(b'n') => out.push(b'\n'),
                        Some(b'r') => out.push(b'\r'),
                        Some(b't') => out.push(b'\t'),
                        Some(b'u') => {
                            let mut cp = self.hex4(start)?;
                            if (0xD800..0xDC00).contains(&cp) {
                                let low = if self.text[self.i..].starts_with(b"\\u") {
                                    self.i += 2;
                                    Some(self.hex4(start)?)
                                } else {
                                    None
                                };
                                match low {
                                    Some(low) if (0xDC00..0xE000).contains(&low) => {
                                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                                    }
                                    _ => {
                                        let end = (self.i + 1).min(self.text.len());
                                        let read = String::from_utf8_lossy(&self.text[start..end])
                                            .into_owned();
                                        return Err(self.error(
                                            self.i,
                                            "value",
                                            &format!(
                                                "invalid string: surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF; last read: '{}'",
                                                read
                                            ),
                                        ));
                                    }
                                }
                            }
                            let ch = char::from_u32(cp).unwrap_or('\u{fffd}');
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => {
                            let read = String::from_utf8_lossy(
                                &self.text[start..self.i.min(self.text.len())],
                            )
                            .into_owned();
                            return Err(self.error(self.i - 1, "value", &format!("invalid string: forbidden character after backslash; last read: '{}'", read)));
                        }
                    }
                }
                Some(c) if c < 0x20 => {
                    const NAMES: [&str; 32] = [
                        "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF",
                        "VT", "FF", "CR", "SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK",
                        "SYN", "ETB", "CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US",
                    ];
                    let short = match c {
                        8 => " or \\b",
                        9 => " or \\t",
                        10 => " or \\n",
                        12 => " or \\f",
                        13 => " or \\r",
                        _ => "",
                    };
                    let read = format!(
                        "{}<U+{:04X}>",
                        String::from_utf8_lossy(&self.text[start..self.i]),
                        c
                    );
                    return Err(self.error(
                        self.i,
                        "value",
                        &format!(
                            "invalid string: control character U+{:04X} ({}) must be escaped to \\u{:04X}{}; last read: '{}'",
                            c, NAMES[c as usize], c, short, read
                        ),
                    ));
                }
                Some(_) => {
                    // Copy a run of plain characters at once.
                    let run_start = self.i;
                    while matches!(self.peek(), Some(c) if c >= 0x20 && c != b'"' && c != b'\\') {
                        self.i += 1;
                    }
                    out.extend_from_slice(&self.text[run_start..self.i]);
                }
            }
        }
        // Nix strings end at a NUL byte.
        if let Some(n) = out.iter().position(|&c| c == 0) {
            out.truncate(n);
        }
        Ok(std::borrow::Cow::Owned(
            String::from_utf8_lossy(&out).into_owned(),
        ))
    }

    /// An object key, shared with earlier equal keys.
    fn key(&mut self) -> PResult<Symbol> {
        let key = self.string()?;
        self.keys_read += 1;
        if self.keys_read <= SHARE_KEYS_AFTER {
            return Ok((&*key).into());
        }
        if let Some(name) = self.names.get(&*key) {
            return Ok(name.clone());
        }
        let name: Symbol = (&*key).into();
        if self.names.len() < MAX_INTERNED_KEYS {
            self.names.insert(key.into_owned(), name.clone());
        }
        Ok(name)
    }

    fn array(&mut self) -> PResult<Value> {
        self.i += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(Value::list(items));
        }
        loop {
            items.push(Thunk::value(self.value()?));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Value::list(items));
                }
                _ => return Err(self.unexpected("array", "']'")),
            }
        }
    }

    fn object(&mut self) -> PResult<Value> {
        self.i += 1;
        let mut entries: Vec<Attr> = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(Value::attrs(Attrs::new()));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.unexpected("object key", "string literal"));
            }
            let key = self.key()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.unexpected("object separator", "':'"));
            }
            self.i += 1;
            let v = self.value()?;
            entries.push(Attr {
                name: key,
                value: Thunk::value(v),
                pos: Pos::NONE,
            });
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    break;
                }
                _ => return Err(self.unexpected("object", "'}'")),
            }
        }
        // A repeated key keeps its last value.
        entries.reverse();
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        entries.dedup_by(|later, earlier| later.name == earlier.name);
        Ok(Value::attrs(Attrs { entries }))
    }
}

/// Parses JSON text into a Nix value; errors carry Nix's message (and no position). Arrays
/// and objects may nest `max_depth` deep.
pub fn parse(text: &str, max_depth: Option<usize>) -> EResult<Value> {
    let max_depth = max_depth.unwrap_or(usize::MAX);
    let mut p = Parser {
        text: text.as_bytes(),
        i: 0,
        names: Default::default(),
        keys_read: 0,
        depth: 0,
        max_depth,
    };
    let parsed = p.value().and_then(|v| {
        p.skip_ws();
        match p.peek() {
            Some(_) => Err(p.unexpected("value", "end of input")),
            None => Ok(v),
        }
    });
    parsed.map_err(|msg| match msg.is_empty() {
        // Only the depth check fails without a message.
        true => limit_err(
            Limit::Depth,
            format!(
                "maximum call depth ({}) exceeded in JSON nested that deep",
                max_depth
            ),
            Pos::NONE,
        ),
        false => EvalError::new(ErrorKind::Eval, msg, Pos::NONE),
    })
}
