//! `multipart/form-data` bodies → form fields and uploaded files, with the `multer` crate.
//!
//! The body is already whole in memory (bounded by `--max-body`); this bounds the number of
//! parts too, so a body of many tiny parts cannot make as many values. Parts without a file
//! name are fields (their text goes to `req.form`); parts with one are files. A file input
//! left empty (an empty file name) is no file.

use crate::request::BadRequest;

/// One uploaded file.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    /// The form field's name.
    pub name: String,
    /// The name the client gave the file (no path: browsers send the last part only).
    pub filename: String,
    pub content_type: String,
    pub bytes: bytes::Bytes,
}

/// A parsed body: its fields in order, and its files.
#[derive(Debug, Default, PartialEq)]
pub struct Multipart {
    pub fields: Vec<(String, String)>,
    pub files: Vec<Upload>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MultipartError {
    #[error("the form has more than {0} parts")]
    TooManyParts(usize),
    #[error("{0}")]
    Malformed(BadRequest),
}

/// Whether the media type (lower case, without parameters) is a multipart form.
pub fn is_multipart(media_type: &str) -> bool {
    media_type == "multipart/form-data"
}

/// Parses a `multipart/form-data` body of at most `max_parts` parts.
pub async fn parse(
    content_type: &str,
    body: bytes::Bytes,
    max_parts: usize,
) -> Result<Multipart, MultipartError> {
    let malformed = |why: String| MultipartError::Malformed(BadRequest(why));
    let boundary = multer::parse_boundary(content_type).map_err(|e| {
        malformed(format!(
            "the multipart body's Content-Type is unusable: {e}"
        ))
    })?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(body) });
    let mut parts = multer::Multipart::new(stream, boundary);
    let mut form = Multipart::default();
    let mut count = 0;
    while let Some(part) = parts
        .next_field()
        .await
        .map_err(|e| malformed(format!("the multipart body is malformed: {e}")))?
    {
        count += 1;
        if count > max_parts {
            return Err(MultipartError::TooManyParts(max_parts));
        }
        let name = part.name().unwrap_or_default().to_owned();
        let filename = part.file_name().map(str::to_owned);
        let content_type = part
            .content_type()
            .map(|m| m.to_string())
            .unwrap_or_else(|| "application/octet-stream".into());
        let bytes = part
            .bytes()
            .await
            .map_err(|e| malformed(format!("the multipart body is malformed: {e}")))?;
        match filename {
            Some(filename) if !filename.is_empty() => form.files.push(Upload {
                name,
                filename,
                content_type,
                bytes,
            }),
            Some(_) => {}
            None => {
                let text = String::from_utf8(bytes.to_vec())
                    .map_err(|_| malformed(format!("the form field {name:?} is not UTF-8 text")))?;
                form.fields.push((name, text));
            }
        }
    }
    Ok(form)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPE: &str = "multipart/form-data; boundary=XyZ";

    fn body(parts: &[(&str, Option<&str>, &[u8])]) -> bytes::Bytes {
        let mut out = Vec::new();
        for (name, filename, content) in parts {
            out.extend_from_slice(b"--XyZ\r\n");
            match filename {
                Some(f) => out.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: image/png\r\n\r\n").as_bytes(),
                ),
                None => out.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            out.extend_from_slice(content);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"--XyZ--\r\n");
        out.into()
    }

    #[tokio::test]
    async fn fields_and_files() {
        let parsed = parse(
            TYPE,
            body(&[
                ("title", None, b"Hello"),
                ("avatar", Some("me.png"), &[0x89, b'P', 0, 0xff]),
                ("empty", Some(""), b""),
                ("title", None, "é".as_bytes()),
            ]),
            10,
        )
        .await
        .unwrap();
        assert_eq!(
            parsed.fields,
            [
                ("title".to_owned(), "Hello".to_owned()),
                ("title".to_owned(), "é".to_owned())
            ]
        );
        assert_eq!(parsed.files.len(), 1, "an empty file input is no file");
        let file = &parsed.files[0];
        assert_eq!(
            (
                file.name.as_str(),
                file.filename.as_str(),
                file.content_type.as_str()
            ),
            ("avatar", "me.png", "image/png")
        );
        assert_eq!(&file.bytes[..], &[0x89, b'P', 0, 0xff]);
    }

    #[tokio::test]
    async fn limits_and_mistakes() {
        let many: Vec<(&str, Option<&str>, &[u8])> =
            (0..5).map(|_| ("a", None, &b"1"[..])).collect();
        assert_eq!(
            parse(TYPE, body(&many), 4).await,
            Err(MultipartError::TooManyParts(4))
        );
        assert!(parse(TYPE, body(&many), 5).await.is_ok());
        for (content_type, body) in [
            ("multipart/form-data", bytes::Bytes::from_static(b"--XyZ--")),
            (TYPE, bytes::Bytes::from_static(b"--XyZ\r\nnonsense")),
            (TYPE, super::tests::body(&[("bin", None, &[0xff, 0xfe])])),
        ] {
            assert!(
                matches!(
                    parse(content_type, body, 10).await,
                    Err(MultipartError::Malformed(_))
                ),
                "{content_type}"
            );
        }
    }
}
