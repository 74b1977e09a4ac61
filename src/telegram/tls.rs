//! Whom the Bot API client trusts: the system's certificate store, or the
//! PEM bundle `SSL_CERT_FILE` names (as OpenSSL and Debian's
//! ca-certificates read it); and TLS failures in words a shop owner can act
//! on.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::{CertificateError, RootCertStore};

use crate::error::{Error, Result};

/// A rustls client configuration that trusts the certificates in `ca_file`
/// only, or the system's store when it is `None`.
pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<rustls::ClientConfig>> {
    let roots = roots(ca_file)?;
    // The provider is named, not taken from the process default, so another
    // crate enabling a second rustls backend cannot make this panic.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Internal(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn roots(ca_file: Option<&Path>) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(trusted_certificates(ca_file)?);
    Ok(roots)
}

/// The CA certificates to trust (DER): those in `ca_file` only, or the
/// system's store when it is `None`. The one trust rule for every TLS
/// client of shopchat (the Bot API, the SMTP server).
pub fn trusted_certificates(ca_file: Option<&Path>) -> Result<Vec<CertificateDer<'static>>> {
    let mut probe = RootCertStore::empty();
    let certs = if let Some(file) = ca_file {
        let unreadable = |e: &dyn std::fmt::Display| {
            Error::Internal(format!(
                "SSL_CERT_FILE is {}, which could not be read ({e}); point it at a PEM file of CA certificates, or unset it to use the system's",
                file.display()
            ))
        };
        // Opened here first for a plain "No such file or directory".
        std::fs::File::open(file).map_err(|e| unreadable(&e))?;
        let found = rustls_native_certs::load_certs_from_paths(Some(file), None);
        if let Some(e) = found.errors.first() {
            return Err(unreadable(e));
        }
        let (added, _) = probe.add_parsable_certificates(found.certs.iter().cloned());
        if added == 0 {
            return Err(Error::Internal(format!(
                "SSL_CERT_FILE is {}, which holds no CA certificate (PEM, -----BEGIN CERTIFICATE-----); point it at a PEM file of CA certificates, or unset it to use the system's",
                file.display()
            )));
        }
        found.certs
    } else {
        // Unreadable files among many are skipped, as OpenSSL does;
        // only an empty store is an error.
        let found = rustls_native_certs::load_native_certs();
        probe.add_parsable_certificates(found.certs.iter().cloned());
        if probe.is_empty() {
            return Err(Error::Internal(
                "this system has no CA certificates to check Telegram's (or the SMTP server's) with: install them (Debian: apt install ca-certificates), or set SSL_CERT_FILE to a PEM file of CA certificates".into(),
            ));
        }
        found.certs
    };
    Ok(certs)
}

/// A TLS failure somewhere in `err`'s cause chain, as a sentence that says
/// what to do, or `None` when the failure is not about TLS.
pub fn explain(
    err: &(dyn std::error::Error + 'static),
    host: &str,
    ca_file: Option<&Path>,
) -> Option<String> {
    let tls = find_rustls_error(err)?;
    let trust = match ca_file {
        Some(f) => format!("the CA certificates in SSL_CERT_FILE ({})", f.display()),
        None => "this system's CA certificates".to_string(),
    };
    let fix_trust = match ca_file {
        Some(_) => "If this machine reaches the internet through a TLS-inspecting proxy, SSL_CERT_FILE must name a PEM file that holds that proxy's CA certificate; to trust the system's store instead, unset SSL_CERT_FILE",
        None => "If this machine reaches the internet through a TLS-inspecting proxy (or TELEGRAM_API_BASE is a server with its own CA), set SSL_CERT_FILE to a PEM file with that CA's certificate; otherwise make sure the system's CA certificates are installed and up to date (Debian: apt install ca-certificates)",
    };
    let sentence = match tls {
        rustls::Error::InvalidCertificate(c) => match c {
            // A bad signature: a CA of the same name is trusted, but it is
            // not the one that signed (a proxy's CA often is).
            CertificateError::UnknownIssuer | CertificateError::BadSignature => format!(
                "the certificate of {host} is not signed by an authority in {trust}. {fix_trust}"
            ),
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => format!(
                "the certificate of {host} has expired, or this machine's clock is wrong (check `date`)"
            ),
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                format!(
                    "the certificate of {host} is not valid yet: this machine's clock is probably wrong (check `date`)"
                )
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!(
                    "the certificate presented for {host} is made out to another name: check TELEGRAM_API_BASE, or a proxy is answering in its place. {fix_trust}"
                )
            }
            other => format!("the certificate of {host} was refused ({other:?}). {fix_trust}"),
        },
        other => format!("the secure (TLS) connection to {host} failed: {other}"),
    };
    Some(sentence)
}

/// rustls reports through `std::io::Error`, which ureq wraps again.
fn find_rustls_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(t) = e.downcast_ref::<rustls::Error>() {
            return Some(t);
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            if let Some(t) = inner.downcast_ref::<rustls::Error>() {
                return Some(t);
            }
        }
        cur = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_empty_ca_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let e = client_config(Some(&missing)).unwrap_err().to_string();
        assert!(
            e.contains("SSL_CERT_FILE is") && e.contains("missing.pem") && e.contains("PEM"),
            "{e}"
        );
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate\n").unwrap();
        let e = client_config(Some(&junk)).unwrap_err().to_string();
        assert!(e.contains("holds no CA certificate"), "{e}");
    }

    #[test]
    fn an_unknown_issuer_says_what_ssl_cert_file_is_for() {
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
        );
        let s = explain(&io, "api.telegram.org", None).unwrap();
        assert!(s.contains("not signed by an authority"), "{s}");
        assert!(s.contains("SSL_CERT_FILE"), "{s}");
        let plain = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(explain(&plain, "api.telegram.org", None).is_none());
    }
}
