//! The settings of the web features (docs/web.md): ETags, sessions and their secrets, CSRF
//! checks, the part limit of uploads. Flags win over `nixweb.toml`, the list of session
//! secrets included (it is one whole: its first signs).

use crate::cli::WebArgs;
use crate::settings::AppFile;
use anyhow::{bail, Context, Result};
use nixweb_server::session::MIN_SECRET_BYTES;
use std::path::Path;
use std::time::Duration;

#[derive(Clone, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct WebSettings {
    pub etag: bool,
    /// Read from their sources: the signing one first. Serialised (to tell settings apart)
    /// as digests only.
    #[serde(serialize_with = "digests")]
    pub session_secrets: Vec<Vec<u8>>,
    pub session_max_age: Duration,
    pub csrf: bool,
    pub max_parts: usize,
}

impl std::fmt::Debug for WebSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSettings")
            .field("etag", &self.etag)
            .field(
                "session_secrets",
                &format_args!("{} (not shown)", self.session_secrets.len()),
            )
            .field("session_max_age", &self.session_max_age)
            .field("csrf", &self.csrf)
            .field("max_parts", &self.max_parts)
            .finish()
    }
}

fn digests<S: serde::Serializer>(secrets: &[Vec<u8>], serializer: S) -> Result<S::Ok, S::Error> {
    use sha2::Digest;
    serializer.collect_seq(secrets.iter().map(|s| hex::encode(sha2::Sha256::digest(s))))
}

impl WebSettings {
    pub fn merge(flags: &WebArgs, file: &AppFile) -> Result<WebSettings> {
        let max_age = flags
            .session_max_age
            .or(file.session_max_age)
            .unwrap_or(14 * 24 * 3600);
        if max_age == 0 {
            bail!("session-max-age must be at least 1 second");
        }
        // A rotation list is one whole: given as flags, it replaces the file's.
        let sources = if flags.session_secret.is_empty() {
            &file.session_secrets
        } else {
            &flags.session_secret
        };
        let session_secrets = sources
            .iter()
            .map(|source| read_secret(source))
            .collect::<Result<_>>()?;
        Ok(WebSettings {
            etag: !flags.no_etag && file.etag.unwrap_or(true),
            session_secrets,
            session_max_age: Duration::from_secs(max_age),
            csrf: flags.csrf || file.csrf.unwrap_or(false),
            max_parts: flags.max_parts.or(file.max_parts).unwrap_or(100),
        })
    }
}

/// `file:` sources of the file made relative to the app's folder.
pub fn relative_to(app_dir: &Path, sources: Vec<String>) -> Vec<String> {
    sources
        .into_iter()
        .map(|source| match source.strip_prefix("file:") {
            Some(path) if Path::new(path).is_relative() => {
                format!("file:{}", app_dir.join(path).display())
            }
            _ => source,
        })
        .collect()
}

/// A secret from `file:PATH` (its contents, without a final newline; a file that does not
/// exist yet is made, with a random secret only its owner may read) or `env:NAME`.
fn read_secret(source: &str) -> Result<Vec<u8>> {
    let secret = if let Some(path) = source.strip_prefix("file:") {
        if !Path::new(path).exists() {
            create_secret(Path::new(path))?;
        }
        let mut bytes = std::fs::read(path)
            .with_context(|| format!("cannot read the session secret {path}"))?;
        while bytes.last().is_some_and(|b| b.is_ascii_whitespace()) {
            bytes.pop();
        }
        bytes
    } else if let Some(name) = source.strip_prefix("env:") {
        std::env::var(name)
            .with_context(|| format!("the session secret's variable {name} is not set"))?
            .into_bytes()
    } else {
        bail!("a session secret is file:PATH or env:NAME, not {source:?}");
    };
    if secret.len() < MIN_SECRET_BYTES {
        bail!(
            "the session secret from {source} has {} bytes; it needs at least {MIN_SECRET_BYTES} (make one with: head -c 32 /dev/urandom | base64 > session.key)",
            secret.len()
        );
    }
    Ok(secret)
}

/// Writes 32 random bytes, in base64, to a new file that only its owner may read.
fn create_secret(path: &Path) -> Result<()> {
    use base64::Engine as _;
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no random numbers: {e}"))?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create the session secret {}", path.display()))?;
    writeln!(
        file,
        "{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )?;
    tracing::info!(target: "nixweb", "made a new session secret in {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_come_from_files_and_variables_and_must_be_long() {
        let dir = tempfile::tempdir().unwrap();
        let long = "k".repeat(40);
        std::fs::write(dir.path().join("key"), format!("{long}\n")).unwrap();
        std::fs::write(dir.path().join("short"), "tiny").unwrap();
        let file = AppFile {
            session_secrets: relative_to(dir.path(), vec!["file:key".into()]),
            ..AppFile::default()
        };
        std::env::set_var("NIXWEB_TEST_SECRET", "e".repeat(32));
        let flags = WebArgs {
            session_secret: vec!["env:NIXWEB_TEST_SECRET".into()],
            ..WebArgs::default()
        };
        let web = WebSettings::merge(&WebArgs::default(), &file).unwrap();
        assert_eq!(
            web.session_secrets,
            [long.into_bytes()],
            "the newline dropped"
        );
        let web = WebSettings::merge(&flags, &file).unwrap();
        assert_eq!(
            web.session_secrets,
            [b"e".repeat(32)],
            "flags replace the file's list"
        );
        // A secret file that does not exist is made, for its owner only, and kept.
        let made = AppFile {
            session_secrets: relative_to(dir.path(), vec!["file:new.key".into()]),
            ..AppFile::default()
        };
        let first = WebSettings::merge(&WebArgs::default(), &made).unwrap();
        let again = WebSettings::merge(&WebArgs::default(), &made).unwrap();
        assert_eq!(first.session_secrets, again.session_secrets);
        assert!(first.session_secrets[0].len() >= 32);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("new.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let short = AppFile {
            session_secrets: relative_to(dir.path(), vec!["file:short".into()]),
            ..AppFile::default()
        };
        let err = WebSettings::merge(&WebArgs::default(), &short).unwrap_err();
        assert!(format!("{err:#}").contains("at least 32"), "{err:#}");
        for bad in [
            "key",
            "env:NIXWEB_TEST_UNSET_VARIABLE",
            "file:/nonexistent/key",
        ] {
            let flags = WebArgs {
                session_secret: vec![bad.into()],
                ..WebArgs::default()
            };
            assert!(
                WebSettings::merge(&flags, &AppFile::default()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn defaults_and_switches() {
        let web = WebSettings::merge(&WebArgs::default(), &AppFile::default()).unwrap();
        assert!(web.etag && !web.csrf && web.session_secrets.is_empty());
        assert_eq!(web.session_max_age, Duration::from_secs(1_209_600));
        assert_eq!(web.max_parts, 100);
        let file: AppFile = toml::from_str("etag = false\ncsrf = true\nmax-parts = 5").unwrap();
        let web = WebSettings::merge(&WebArgs::default(), &file).unwrap();
        assert!(!web.etag && web.csrf && web.max_parts == 5);
        let flags = WebArgs {
            no_etag: true,
            ..WebArgs::default()
        };
        assert!(
            !WebSettings::merge(&flags, &AppFile::default())
                .unwrap()
                .etag
        );
    }
}
