//! Reaching the central server: the connection string completed the way
//! libpq completes it (the `PG*` variables, `password_file`, `.pgpass`),
//! and TLS by rustls for every `sslmode` libpq knows that this client
//! supports: `disable`, `prefer` and `require` (encrypted, certificate not
//! checked, as libpq does), `verify-ca` and `verify-full` (the chain checked
//! against the system's roots or `sslrootcert`; the host name too for
//! verify-full).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::config::{Host, SslMode as WireSsl};
use tokio_postgres::Client;

use crate::config::PushSettings;

/// How the connection is protected (libpq's `sslmode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(text: &str) -> Result<Self, String> {
        Ok(match text {
            "disable" => SslMode::Disable,
            // `allow` tries without TLS first; the nearest this client has
            // is to try TLS first.
            "allow" | "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(format!(
                    "sslmode {other:?} is not one of disable, allow, prefer, require, verify-ca, verify-full"
                ))
            }
        })
    }
}

/// Where and how to connect, resolved once.
pub struct Target {
    config: tokio_postgres::Config,
    ssl: SslMode,
    root_cert: Option<PathBuf>,
}

/// Waits this long for the server to answer a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl Target {
    /// The push URL completed from `password_file` and the environment
    /// (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`,
    /// `PGSSLMODE`, `PGSSLROOTCERT`, `PGPASSFILE`), as libpq would. A
    /// value the URL gives wins.
    pub fn resolve(
        settings: &PushSettings,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Target, String> {
        let url = settings
            .url
            .as_ref()
            .ok_or("no push URL: set [push] postgres or HOOKMETER_PUSH_URL")?;
        let (rest, sslmode, root_cert) = split_tls_options(url.secret());
        let mut config: tokio_postgres::Config = rest
            .parse()
            .map_err(|e| format!("the push URL {} cannot be read: {e}", url.redacted()))?;
        let env = |var: &str| env(var).filter(|v| !v.is_empty());
        if config.get_hosts().is_empty() {
            config.host(env("PGHOST").as_deref().unwrap_or("localhost"));
        }
        if config.get_ports().is_empty() {
            if let Some(port) = env("PGPORT") {
                let port = port
                    .parse()
                    .map_err(|_| format!("PGPORT {port:?} is not a port number"))?;
                config.port(port);
            }
        }
        if config.get_user().is_none() {
            let user = env("PGUSER")
                .or_else(|| env("USER"))
                .or_else(|| env("LOGNAME"))
                .ok_or("no database user: put one in the push URL or set PGUSER")?;
            config.user(&user);
        }
        if config.get_dbname().is_none() {
            if let Some(db) = env("PGDATABASE") {
                config.dbname(&db);
            }
        }
        if config.get_password().is_none() {
            let password = match &settings.password_file {
                Some(path) => Some(read_password_file(path)?),
                None => env("PGPASSWORD").or_else(|| from_pgpass(&config, &env)),
            };
            if let Some(password) = password {
                config.password(password);
            }
        }
        let ssl = match sslmode.or_else(|| env("PGSSLMODE")) {
            Some(mode) => SslMode::parse(&mode)?,
            None => SslMode::Prefer,
        };
        config.ssl_mode(match ssl {
            SslMode::Disable => WireSsl::Disable,
            SslMode::Prefer => WireSsl::Prefer,
            _ => WireSsl::Require,
        });
        config.connect_timeout(CONNECT_TIMEOUT);
        config.application_name("hookmeter");
        Ok(Target {
            config,
            ssl,
            root_cert: root_cert
                .or_else(|| env("PGSSLROOTCERT"))
                .map(PathBuf::from),
        })
    }

    /// The server as `host:port`, for messages.
    pub fn server(&self) -> String {
        let host = match self.config.get_hosts().first() {
            Some(Host::Tcp(h)) => h.clone(),
            #[cfg(unix)]
            Some(Host::Unix(p)) => p.display().to_string(),
            None => "?".into(),
        };
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        format!("{host}:{port}")
    }

    /// Connects; the connection is driven by a task of its own until the
    /// client is dropped.
    pub async fn connect(&self) -> Result<Client, String> {
        let reason = |e: tokio_postgres::Error| crate::store::central::postgres_reason(&e);
        let client = if self.ssl == SslMode::Disable {
            let (client, connection) = self
                .config
                .connect(tokio_postgres::NoTls)
                .await
                .map_err(reason)?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::debug!(error = %e, "Push connection closed.");
                }
            });
            client
        } else {
            let tls = tokio_postgres_rustls::MakeRustlsConnect::new(self.tls_config()?);
            let (client, connection) = self.config.connect(tls).await.map_err(reason)?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::debug!(error = %e, "Push connection closed.");
                }
            });
            client
        };
        Ok(client)
    }

    fn tls_config(&self) -> Result<rustls::ClientConfig, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        let config = match self.ssl {
            SslMode::VerifyCa | SslMode::VerifyFull => {
                let roots = self.roots()?;
                if self.ssl == SslMode::VerifyFull {
                    builder.with_root_certificates(roots).with_no_client_auth()
                } else {
                    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
                        Arc::new(roots),
                        provider.clone(),
                    )
                    .build()
                    .map_err(|e| e.to_string())?;
                    builder
                        .dangerous()
                        .with_custom_certificate_verifier(Arc::new(tls::ChainOnly(verifier)))
                        .with_no_client_auth()
                }
            }
            _ => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(tls::Unchecked(provider)))
                .with_no_client_auth(),
        };
        Ok(config)
    }

    /// `sslrootcert`, else the system's roots.
    fn roots(&self) -> Result<rustls::RootCertStore, String> {
        use rustls::pki_types::pem::PemObject as _;
        let mut roots = rustls::RootCertStore::empty();
        match &self.root_cert {
            Some(path) => {
                for cert in rustls::pki_types::CertificateDer::pem_file_iter(path)
                    .map_err(|e| format!("cannot read sslrootcert {}: {e}", path.display()))?
                {
                    let cert = cert
                        .map_err(|e| format!("cannot read sslrootcert {}: {e}", path.display()))?;
                    roots
                        .add(cert)
                        .map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
                }
            }
            None => {
                for cert in rustls_native_certs::load_native_certs().certs {
                    let _ = roots.add(cert);
                }
            }
        }
        if roots.is_empty() {
            return Err("no root certificates to verify the server with: set sslrootcert".into());
        }
        Ok(roots)
    }
}

/// The connection string without `sslmode` and `sslrootcert`, which this
/// client handles itself, and their values.
fn split_tls_options(text: &str) -> (String, Option<String>, Option<String>) {
    let mut sslmode = None;
    let mut root_cert = None;
    let mut keep = |pair: &str| -> bool {
        match pair.split_once('=') {
            Some(("sslmode", v)) => {
                sslmode = Some(v.to_string());
                false
            }
            Some(("sslrootcert", v)) => {
                root_cert = Some(v.to_string());
                false
            }
            _ => true,
        }
    };
    let rest = if text.contains("://") {
        match text.split_once('?') {
            Some((base, query)) => {
                let kept: Vec<&str> = query.split('&').filter(|p| keep(p)).collect();
                if kept.is_empty() {
                    base.to_string()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
            None => text.to_string(),
        }
    } else {
        text.split_whitespace()
            .filter(|p| keep(p))
            .collect::<Vec<_>>()
            .join(" ")
    };
    (rest, sslmode, root_cert)
}

fn read_password_file(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read [push] password_file {}: {e}", path.display()))?;
    Ok(text.trim_end_matches(['\n', '\r']).to_string())
}

/// The password `.pgpass` (or `PGPASSFILE`) gives this host, port,
/// database and user: the first line that matches, `*` matching anything.
fn from_pgpass(
    config: &tokio_postgres::Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    let path = env("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|home| PathBuf::from(home).join(".pgpass")))?;
    let text = std::fs::read_to_string(path).ok()?;
    let host = match config.get_hosts().first()? {
        Host::Tcp(h) => h.clone(),
        #[cfg(unix)]
        Host::Unix(_) => "localhost".into(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let user = config.get_user()?.to_string();
    let db = config.get_dbname().unwrap_or(&user).to_string();
    let want = [host, port, db, user];
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let fields = pgpass_fields(line);
            if fields.len() != 5 {
                return None;
            }
            let matches = fields[..4]
                .iter()
                .zip(&want)
                .all(|(field, want)| field == "*" || field == want);
            matches.then(|| fields[4].clone())
        })
}

/// A `.pgpass` line's fields (`:` separates, `\` escapes).
fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields.last_mut().unwrap().extend(chars.next()),
            ':' => fields.push(String::new()),
            c => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

/// Certificate checks for the modes that skip part of them.
mod tls {
    use std::sync::Arc;

    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{DigitallySignedStruct, Error, SignatureScheme};

    /// `require` and `prefer`: encrypted, the certificate taken as offered
    /// (libpq does the same without a root certificate). The handshake's
    /// signatures are still checked.
    #[derive(Debug)]
    pub struct Unchecked(pub Arc<rustls::crypto::CryptoProvider>);

    impl ServerCertVerifier for Unchecked {
        fn verify_server_cert(
            &self,
            _end_entity: &CertificateDer<'_>,
            _intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp_response: &[u8],
            _now: UnixTime,
        ) -> Result<ServerCertVerified, Error> {
            Ok(ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }

    /// `verify-ca`: the chain must lead to a trusted root; the name in the
    /// certificate need not be the host's.
    #[derive(Debug)]
    pub struct ChainOnly(pub Arc<rustls::client::WebPkiServerVerifier>);

    impl ServerCertVerifier for ChainOnly {
        fn verify_server_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            intermediates: &[CertificateDer<'_>],
            server_name: &ServerName<'_>,
            ocsp_response: &[u8],
            now: UnixTime,
        ) -> Result<ServerCertVerified, Error> {
            match self.0.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ) {
                Err(Error::InvalidCertificate(rustls::CertificateError::NotValidForName))
                | Err(Error::InvalidCertificate(
                    rustls::CertificateError::NotValidForNameContext { .. },
                )) => Ok(ServerCertVerified::assertion()),
                other => other,
            }
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            self.0.verify_tls12_signature(message, cert, dss)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            self.0.verify_tls13_signature(message, cert, dss)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.supported_verify_schemes()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_options_are_taken_out_of_either_form() {
        assert_eq!(
            split_tls_options("postgres://a@h/d?sslmode=verify-full&sslrootcert=/ca.pem&x=1"),
            (
                "postgres://a@h/d?x=1".to_string(),
                Some("verify-full".to_string()),
                Some("/ca.pem".to_string())
            )
        );
        assert_eq!(
            split_tls_options("host=h sslmode=require user=a"),
            (
                "host=h user=a".to_string(),
                Some("require".to_string()),
                None
            )
        );
    }

    #[test]
    fn pgpass_lines_split_on_unescaped_colons() {
        assert_eq!(
            pgpass_fields(r"db:5432:*:ann:pa\:ss"),
            ["db", "5432", "*", "ann", "pa:ss"]
        );
    }
}
