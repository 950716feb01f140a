//! Uploaded files on their way to the app. Each file of a `multipart/form-data` body is
//! written to a folder of its own request, inside the folder the engine lets evaluations
//! read ([`nixweb_app::engine::Engine::upload_dir`]), and described in `req.files`; the
//! folder is removed when the request has been answered.

use nixweb_app::multipart::Upload;
use serde_json::{json, Value};
use std::path::Path;

/// The files of one request, on disk until this is dropped.
pub struct Uploads {
    _dir: Option<tempfile::TempDir>,
}

impl Uploads {
    pub fn none() -> Uploads {
        Uploads { _dir: None }
    }
}

/// Writes `files` below `upload_dir` and returns `req.files`: for each, `name` (the form
/// field), `filename`, `contentType`, `size` in bytes, `text` (the content when it is UTF-8
/// text, which a Nix string can hold, else null) and `path` (a file the app may read).
pub fn store(files: Vec<Upload>, upload_dir: &Path) -> std::io::Result<(Value, Uploads)> {
    if files.is_empty() {
        return Ok((json!([]), Uploads::none()));
    }
    let dir = tempfile::Builder::new()
        .prefix("request-")
        .tempdir_in(upload_dir)?;
    let mut described = Vec::with_capacity(files.len());
    for (n, file) in files.into_iter().enumerate() {
        let path = dir.path().join(format!("{n}{}", extension(&file.filename)));
        std::fs::write(&path, &file.bytes)?;
        let text = std::str::from_utf8(&file.bytes)
            .ok()
            .filter(|text| !text.contains('\0'));
        described.push(json!({
            "name": file.name,
            "filename": file.filename,
            "contentType": file.content_type,
            "size": file.bytes.len(),
            "text": text,
            "path": path.display().to_string(),
        }));
    }
    Ok((Value::Array(described), Uploads { _dir: Some(dir) }))
}

/// The client's extension (`.png`), when it is a plain one, so the file keeps its type.
fn extension(filename: &str) -> String {
    match filename.rsplit_once('.') {
        Some((_, ext))
            if !ext.is_empty()
                && ext.len() <= 10
                && ext.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            format!(".{ext}")
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_written_described_and_removed() {
        let base = tempfile::tempdir().unwrap();
        let files = vec![
            Upload {
                name: "doc".into(),
                filename: "notes.txt".into(),
                content_type: "text/plain".into(),
                bytes: "héllo".into(),
            },
            Upload {
                name: "pic".into(),
                filename: "../../evil.p/ng".into(),
                content_type: "image/png".into(),
                bytes: vec![0x89, b'P', 0, 0xff].into(),
            },
        ];
        let (described, uploads) = store(files, base.path()).unwrap();
        assert_eq!(described[0]["text"], "héllo");
        assert_eq!(described[0]["size"], 6);
        assert_eq!(described[1]["text"], Value::Null);
        assert_eq!(described[1]["filename"], "../../evil.p/ng");
        let paths: Vec<std::path::PathBuf> = (0..2)
            .map(|i| described[i]["path"].as_str().unwrap().into())
            .collect();
        assert!(paths[0].to_str().unwrap().ends_with("/0.txt"));
        assert!(
            paths[1].starts_with(base.path()) && paths[1].file_name().unwrap() == "1",
            "the client's name never makes the path: {:?}",
            paths[1]
        );
        assert_eq!(std::fs::read(&paths[1]).unwrap(), [0x89, b'P', 0, 0xff]);
        drop(uploads);
        assert!(!paths[0].exists() && !paths[1].exists());
        assert_eq!(std::fs::read_dir(base.path()).unwrap().count(), 0);
    }
}
