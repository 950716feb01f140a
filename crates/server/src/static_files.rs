//! Files on the way out: `file` responses and static folders (`<nixweb/static.nix>`).
//!
//! A file is first opened through the confinement check ([`files::open_confined`], which
//! judges the opened descriptor); its bytes are then served by tower-http's `ServeFile`
//! from that same open file (through its `/proc/self/fd` link, so a path swapped after the
//! check cannot lead elsewhere), which
//! answers `Range` (206, 416), `If-Modified-Since` and `If-Unmodified-Since`, HEAD, and sets
//! Content-Type, Content-Length and Last-Modified. This module adds what ServeFile lacks: a
//! strong ETag (matched against `If-None-Match` in [`crate::conditional`], which per RFC
//! 9110 §13.2.2 then overrides `If-Modified-Since`) and `If-Range`.
//!
//! A folder maps the rest of the URL onto its files: a folder URL gets its `index.html`
//! (and a redirect to the URL with a slash, so relative links work), a listing only when the
//! app asks, and names starting with a dot are hidden unless it asks. Nothing outside the
//! folder is reachable, through `..` or symbolic links alike.

use crate::files::{self, ConfinedFile, Refusal};
use axum::body::Body;
use headers::{ETag, HeaderMapExt, IfRange, LastModified};
use http::{header, HeaderMap, Method, Request, Response, StatusCode, Uri};
use nixweb_app::outcome::Folder;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use tower::ServiceExt;

/// What a file answer needs of the request.
pub struct Asked<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
}

/// A `file` response: the file, if it lies inside one of `roots`. With a `status` of the
/// app's own (say a 404 page), the file is sent whole, with no conditions or ranges.
pub async fn file(
    path: &Path,
    status: Option<StatusCode>,
    asked: &Asked<'_>,
    roots: &[PathBuf],
) -> Response<Body> {
    match files::open_confined_async(path.to_owned(), roots.to_vec()).await {
        Ok(opened) => {
            let mut response = serve(&opened, path, asked, status.is_none()).await;
            if let Some(status) = status {
                *response.status_mut() = status;
            }
            response
        }
        Err(refusal) => refused("file response", &refusal),
    }
}

/// A static folder's answer for `folder.path` below `folder.root`.
pub async fn folder(folder: &Folder, asked: &Asked<'_>, roots: &[PathBuf]) -> Response<Body> {
    let root = match std::fs::canonicalize(&folder.root) {
        Ok(root) if roots_hold(roots, &root) => root,
        Ok(root) => {
            return refused(
                "static folder",
                &Refusal::Outside {
                    asked: folder.root.clone(),
                    real: root,
                    roots: "the app's folder and the Nix store".into(),
                },
            )
        }
        Err(_) => return refused("static folder", &Refusal::Missing(folder.root.clone())),
    };
    if !folder.hidden && folder.path.iter().any(|name| name.starts_with('.')) {
        return not_found();
    }
    let target = folder
        .path
        .iter()
        .fold(root.clone(), |p, name| p.join(name));
    let is_dir = std::fs::metadata(&target).is_ok_and(|m| m.is_dir());
    if !is_dir {
        return match files::open_confined_async(target.clone(), vec![root.clone()]).await {
            Ok(opened) => serve(&opened, &target, asked, true).await,
            Err(refusal) => refused("static folder", &refusal),
        };
    }
    // A folder: it must itself be inside (a link to a folder elsewhere is not).
    match std::fs::canonicalize(&target) {
        Ok(real) if real.starts_with(&root) => {}
        Ok(real) => {
            return refused(
                "static folder",
                &Refusal::Outside {
                    asked: target,
                    real,
                    roots: root.display().to_string(),
                },
            )
        }
        Err(_) => return refused("static folder", &Refusal::Missing(target)),
    }
    if !asked.uri.path().ends_with('/') {
        return redirect_to_slash(asked.uri);
    }
    let index = target.join("index.html");
    match files::open_confined_async(index.clone(), vec![root.clone()]).await {
        Ok(opened) => serve(&opened, &index, asked, true).await,
        Err(_) if folder.listing => listing(&target, folder.hidden),
        Err(refusal) => refused("static folder", &refusal),
    }
}

/// Serves an opened file with ServeFile, adding the ETag and honouring `If-Range`.
/// Without `conditional`, the request's conditions and range are not looked at.
async fn serve(
    opened: &ConfinedFile,
    named: &Path,
    asked: &Asked<'_>,
    conditional: bool,
) -> Response<Body> {
    let etag = etag_of(&opened.metadata);
    let last_modified = opened.metadata.modified().ok().map(LastModified::from);
    let mut request = Request::new(());
    *request.method_mut() = if asked.method == Method::HEAD {
        Method::HEAD
    } else {
        Method::GET
    };
    if conditional {
        let forwarded = request.headers_mut();
        for name in [
            header::RANGE,
            header::IF_MODIFIED_SINCE,
            header::IF_UNMODIFIED_SINCE,
        ] {
            if let Some(value) = asked.headers.get(&name) {
                forwarded.insert(name, value.clone());
            }
        }
        // If-None-Match, when present, is what decides (crate::conditional).
        if asked.headers.contains_key(header::IF_NONE_MATCH) {
            forwarded.remove(header::IF_MODIFIED_SINCE);
        }
        // A range of another version of the file would be garbage: send it whole (also
        // when the If-Range cannot be read, as there is no telling which version it means).
        let stale_range = asked.headers.get(header::IF_RANGE).is_some_and(|value| {
            let text = value.as_bytes();
            let readable = !(text.starts_with(b"\"") || text.starts_with(b"W/"))
                || crate::conditional::is_entity_tag(text);
            let if_range = readable
                .then(|| asked.headers.typed_get::<IfRange>())
                .flatten();
            match if_range {
                Some(if_range) => if_range.is_modified(Some(&etag), last_modified.as_ref()),
                None => true,
            }
        });
        if stale_range {
            forwarded.remove(header::RANGE);
        }
    }
    let mime = content_type(named);
    let through_descriptor = format!("/proc/self/fd/{}", opened.file.as_raw_fd());
    let served = tower_http::services::ServeFile::new_with_mime(through_descriptor, &mime)
        .oneshot(request)
        .await;
    let mut response = match served {
        Ok(response) => response.map(Body::new),
        Err(e) => match e {},
    };
    if response.status() != StatusCode::NOT_FOUND {
        response.headers_mut().typed_insert(etag);
        response
            .extensions_mut()
            .insert(crate::compressed::Identified);
    }
    response
}

/// The file's type from its name, with `charset=utf-8` for text.
fn content_type(named: &Path) -> mime_guess::Mime {
    let mime = mime_guess::from_path(named).first_or_octet_stream();
    let textual = mime.type_() == "text"
        || matches!(
            mime.essence_str(),
            "application/javascript" | "application/json" | "image/svg+xml"
        );
    if textual && mime.get_param("charset").is_none() {
        format!("{}; charset=utf-8", mime.essence_str())
            .parse()
            .unwrap_or(mime)
    } else {
        mime
    }
}

/// A strong ETag from what identifies one version of a file: device, inode, size, and the
/// modification and change times in nanoseconds (the change time cannot be set back, so a
/// rewrite that restores the modification time still changes the tag).
fn etag_of(metadata: &std::fs::Metadata) -> ETag {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    for n in [
        metadata.dev(),
        metadata.ino(),
        metadata.size(),
        metadata.mtime() as u64,
        metadata.mtime_nsec() as u64,
        metadata.ctime() as u64,
        metadata.ctime_nsec() as u64,
    ] {
        hash.update(n.to_le_bytes());
    }
    let value = crate::conditional::strong_etag(&hash.finalize()[..16]);
    value
        .to_str()
        .ok()
        .and_then(|text| text.parse().ok())
        .expect("a strong ETag parses")
}

fn roots_hold(roots: &[PathBuf], real: &Path) -> bool {
    roots
        .iter()
        .filter_map(|root| std::fs::canonicalize(root).ok())
        .any(|root| real.starts_with(root))
}

fn redirect_to_slash(uri: &Uri) -> Response<Body> {
    let location = match uri.query() {
        Some(query) => format!("{}/?{query}", uri.path()),
        None => format!("{}/", uri.path()),
    };
    Response::builder()
        .status(StatusCode::PERMANENT_REDIRECT)
        .header(header::LOCATION, location)
        .body(Body::empty())
        .expect("a valid redirect")
}

/// An HTML list of a folder's entries, folders first, names escaped.
fn listing(dir: &Path, hidden: bool) -> Response<Body> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return not_found();
    };
    let mut names: Vec<(bool, String)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let is_dir = e.path().is_dir();
            (hidden || !name.starts_with('.')).then_some((!is_dir, name))
        })
        .collect();
    names.sort();
    let items: String = names
        .iter()
        .map(|(is_file, name)| {
            let slash = if *is_file { "" } else { "/" };
            let href =
                percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
            format!(
                "<li><a href=\"{href}{slash}\">{}{slash}</a></li>",
                crate::render::escape(name)
            )
        })
        .collect();
    let page = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Index</title></head><body><ul>{items}</ul></body></html>\n"
    );
    Response::builder()
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(Body::from(page))
        .expect("a valid page")
}

fn not_found() -> Response<Body> {
    Response::builder()
        .status(StatusCode::NOT_FOUND)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from("404 Not Found\n"))
        .expect("a valid response")
}

/// The same 404 whatever the reason, so clients cannot probe which paths exist; the log
/// says which it was.
fn refused(what: &str, refusal: &Refusal) -> Response<Body> {
    if refusal.is_suspicious() {
        tracing::error!(target: "nixweb::request", "{what} refused: {refusal}");
    } else {
        tracing::warn!(target: "nixweb::request", "{what}: {refusal}");
    }
    not_found()
}
