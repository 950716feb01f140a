//! TLS with rustls: the certificate and key from PEM files, reloaded when the files change
//! (new connections get the new ones, open ones keep theirs), HTTP/2 or HTTP/1.1 by ALPN,
//! and optional client certificates verified against a CA, whose facts reach the app as
//! `req.tls` ([`connection_facts`]).

use nixweb_app::request::{ClientCert, SubjectAltNames, TlsInfo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ServerConnection, WebPkiClientVerifier};
use rustls::{RootCertStore, ServerConfig};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, SystemTime};

/// Where the certificate, key and client CA are; `nixweb serve` fills it from its flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, leaf first (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// CA certificates (PEM) that client certificates are verified against; None: no
    /// client certificates are asked for.
    pub client_ca: Option<PathBuf>,
    /// With a client CA: whether clients without a certificate are turned away.
    pub client_cert_required: bool,
}

/// How often the files are looked at for changes.
const RELOAD_CHECK: Duration = Duration::from_secs(1);

/// The TLS configuration in force, replaced when the files change.
pub struct Tls {
    files: TlsFiles,
    current: RwLock<Arc<ServerConfig>>,
}

impl Tls {
    /// Loads the files (an error says which one is wrong and why) and starts watching them.
    pub fn start(files: TlsFiles) -> Result<Arc<Tls>, String> {
        let config = server_config(&files)?;
        let tls = Arc::new(Tls {
            files,
            current: RwLock::new(Arc::new(config)),
        });
        tokio::spawn(watch(Arc::downgrade(&tls), stamp(&tls.files)));
        Ok(tls)
    }

    /// An acceptor with the configuration in force now.
    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(self.current.read().expect("TLS lock").clone())
    }
}

/// What identifies a version of the files: each one's size, modification time and inode.
type Stamp = Vec<Option<(u64, SystemTime, u64)>>;

fn stamp(files: &TlsFiles) -> Stamp {
    use std::os::unix::fs::MetadataExt;
    [
        Some(&files.cert),
        Some(&files.key),
        files.client_ca.as_ref(),
    ]
    .into_iter()
    .flatten()
    .map(|path| {
        std::fs::metadata(path).ok().map(|m| {
            (
                m.len(),
                m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                m.ino(),
            )
        })
    })
    .collect()
}

/// Reloads the configuration whenever the files' stamp changes, until the server is gone.
/// A version that does not load (a key written before its certificate, say) is logged
/// and the configuration in force kept; the next change is tried again.
async fn watch(tls: Weak<Tls>, mut seen: Stamp) {
    let mut ticks = tokio::time::interval(RELOAD_CHECK);
    loop {
        ticks.tick().await;
        let Some(tls) = tls.upgrade() else { return };
        let now = stamp(&tls.files);
        if now == seen {
            continue;
        }
        seen = now;
        match server_config(&tls.files) {
            Ok(config) => {
                *tls.current.write().expect("TLS lock") = Arc::new(config);
                tracing::info!(target: "nixweb::http", "TLS: reloaded {}", tls.files.cert.display());
            }
            Err(e) => tracing::error!(
                target: "nixweb::http",
                "TLS: the changed files do not load ({e}); new connections keep the previous certificate"
            ),
        }
    }
}

fn server_config(files: &TlsFiles) -> Result<ServerConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = certificates(&files.cert)?;
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| format!("{}: no private key ({e})", files.key.display()))?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let builder = match &files.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for cert in certificates(ca)? {
                roots
                    .add(cert)
                    .map_err(|e| format!("{}: {e}", ca.display()))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = if files.client_cert_required {
                verifier
            } else {
                verifier.allow_unauthenticated()
            };
            builder.with_client_cert_verifier(
                verifier
                    .build()
                    .map_err(|e| format!("{}: {e}", ca.display()))?,
            )
        }
    };
    let mut config = builder.with_single_cert(chain, key).map_err(|e| {
        format!(
            "{} and {} do not make a certificate and its key: {e}",
            files.cert.display(),
            files.key.display()
        )
    })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate in it", path.display()));
    }
    Ok(certs)
}

/// The facts of an established TLS connection, for `req.tls`.
pub fn connection_facts(connection: &ServerConnection) -> TlsInfo {
    let version = match connection.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_owned(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_owned(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    };
    TlsInfo {
        version,
        cipher: connection
            .negotiated_cipher_suite()
            .map(|suite| format!("{:?}", suite.suite()))
            .unwrap_or_default(),
        alpn: connection
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
        server_name: connection.server_name().map(str::to_owned),
        client_cert: connection
            .peer_certificates()
            .and_then(|chain| chain.first())
            .and_then(|leaf| client_cert(leaf)),
    }
}

/// A verified certificate's subject, issuer, serial, validity, names and fingerprint.
fn client_cert(der: &CertificateDer<'_>) -> Option<ClientCert> {
    use sha2::Digest;
    use x509_parser::extensions::GeneralName;
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
    let mut san = SubjectAltNames::default();
    if let Ok(Some(names)) = cert.subject_alternative_name() {
        for name in &names.value.general_names {
            match name {
                GeneralName::DNSName(dns) => san.dns.push((*dns).to_owned()),
                GeneralName::RFC822Name(email) => san.email.push((*email).to_owned()),
                GeneralName::URI(uri) => san.uri.push((*uri).to_owned()),
                GeneralName::IPAddress(bytes) => {
                    if let Some(ip) = ip_address(bytes) {
                        san.ip.push(ip);
                    }
                }
                _ => {}
            }
        }
    }
    let common_name = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_owned);
    Some(ClientCert {
        subject: cert.subject().to_string(),
        common_name,
        issuer: cert.issuer().to_string(),
        serial: hex::encode(cert.raw_serial()),
        fingerprint: hex::encode(sha2::Sha256::digest(der.as_ref())),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        san,
    })
}

fn ip_address(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => Some(std::net::Ipv4Addr::from(<[u8; 4]>::try_from(bytes).ok()?).to_string()),
        16 => Some(std::net::Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?).to_string()),
        _ => None,
    }
}
