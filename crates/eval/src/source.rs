//! Source files known to an evaluator, and compact positions into them.

use std::path::PathBuf;
use std::rc::Rc;

/// A position: which source (index into `Sources`) and a byte offset in its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub file: u32,
    pub offset: u32,
}

impl Pos {
    /// Positions in builtins and host values that have no source.
    pub const NONE: Pos = Pos {
        file: u32::MAX,
        offset: 0,
    };
    pub fn is_none(self) -> bool {
        self.file == u32::MAX
    }
}

pub struct SourceFile {
    /// `None` for expressions given on the command line (shown as «string»).
    pub path: Option<PathBuf>,
    pub text: Rc<str>,
    line_starts: Vec<u32>,
}

#[derive(Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn add(&mut self, path: Option<PathBuf>, text: Rc<str>) -> u32 {
        let mut line_starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i as u32 + 1);
            }
        }
        self.files.push(SourceFile {
            path,
            text,
            line_starts,
        });
        (self.files.len() - 1) as u32
    }

    /// Bytes of source text held.
    pub fn bytes(&self) -> usize {
        self.files.iter().map(|f| f.text.len()).sum()
    }

    pub fn get(&self, file: u32) -> Option<&SourceFile> {
        self.files.get(file as usize)
    }

    /// 1-based line and column.
    pub fn line_col(&self, pos: Pos) -> Option<(usize, usize)> {
        let f = self.get(pos.file)?;
        let line = match f.line_starts.binary_search(&pos.offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let col = pos.offset - f.line_starts[line];
        Some((line + 1, col as usize + 1))
    }

    pub fn origin(&self, pos: Pos) -> String {
        match self.get(pos.file) {
            Some(SourceFile { path: Some(p), .. }) => p.display().to_string(),
            Some(_) => "«string»".to_string(),
            None => "«none»".to_string(),
        }
    }

    /// `file:line:col`, as Nix prints positions.
    pub fn describe(&self, pos: Pos) -> String {
        match self.line_col(pos) {
            Some((l, c)) => format!("{}:{}:{}", self.origin(pos), l, c),
            None => "«none»".to_string(),
        }
    }

    /// Whether `line` (1-based) ends with a newline; Nix 2.8 shows a context line after
    /// the error only when it does.
    pub fn line_terminated(&self, file: u32, line: usize) -> bool {
        self.get(file).is_some_and(|f| f.line_starts.len() > line)
    }

    pub fn line_text(&self, file: u32, line: usize) -> Option<&str> {
        let f = self.get(file)?;
        let start = *f.line_starts.get(line.checked_sub(1)?)? as usize;
        if start >= f.text.len() && line > 1 {
            // After a final newline there is no further line.
            return None;
        }
        let end = f
            .line_starts
            .get(line)
            .map(|e| *e as usize - 1)
            .unwrap_or(f.text.len());
        f.text.get(start..end)
    }
}
