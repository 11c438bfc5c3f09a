//! The HTTP adapter of [`Upstream`]: reqwest (blocking) over rustls with the
//! ring provider, with an optional private CA and a client certificate for
//! mutual TLS. It owns the mapping from HTTP outcomes to [`UpstreamError`]:
//! transport failures and 5xx are transient, a 4xx carries the upstream's
//! typed [`ErrorBody`].

use std::sync::Arc;
use std::time::Duration;

use super::courier::{Upstream, UpstreamError};
use super::messages::{Challenge, ErrorBody, MessageKind};

/// TLS and timeout settings.
#[derive(Debug, Clone, Default)]
pub struct HttpOptions {
    /// Per-request timeout (default 5 s).
    pub timeout: Option<Duration>,
    /// PEM CA certificates to trust (instead of none) for `https://`.
    pub ca_pem: Option<Vec<u8>>,
    /// PEM client certificate chain and private key, for mutual TLS.
    pub client_identity_pem: Option<Vec<u8>>,
}

/// The upstream over HTTP(S).
pub struct HttpUpstream {
    base: String,
    client: reqwest::blocking::Client,
}

/// Why the HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum HttpSetupError {
    /// A PEM file cannot be read.
    #[error("TLS material is not usable: {0}")]
    Pem(#[from] rustls::pki_types::pem::Error),
    /// rustls refused the certificates or key.
    #[error("TLS material is not usable: {0}")]
    Tls(#[from] rustls::Error),
    /// reqwest refused the configuration.
    #[error("HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

fn tls_config(options: &HttpOptions) -> Result<rustls::ClientConfig, HttpSetupError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    if let Some(pem) = &options.ca_pem {
        for cert in CertificateDer::pem_slice_iter(pem) {
            roots.add(cert?)?;
        }
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots);
    Ok(match &options.client_identity_pem {
        Some(pem) => {
            let chain = CertificateDer::pem_slice_iter(pem).collect::<Result<Vec<_>, _>>()?;
            let key = PrivateKeyDer::from_pem_slice(pem)?;
            builder.with_client_auth_cert(chain, key)?
        }
        None => builder.with_no_client_auth(),
    })
}

impl HttpUpstream {
    /// A client for the upstream at `base` (e.g. `http://127.0.0.1:8700`).
    pub fn new(base: &str, options: HttpOptions) -> Result<HttpUpstream, HttpSetupError> {
        let client = reqwest::blocking::Client::builder()
            .tls_backend_preconfigured(tls_config(&options)?)
            .timeout(options.timeout.unwrap_or(Duration::from_secs(5)))
            .build()?;
        Ok(HttpUpstream {
            base: base.trim_end_matches('/').to_string(),
            client,
        })
    }
}

impl HttpUpstream {
    /// `GET` a JSON document (the challenge, status pages such as `/v1/received`).
    pub fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, UpstreamError> {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .map_err(transport)?;
        if !response.status().is_success() {
            return Err(UpstreamError::Server(response.status().as_u16()));
        }
        response
            .json()
            .map_err(|e| UpstreamError::BadAnswer(Box::new(e)))
    }
}

fn transport(e: reqwest::Error) -> UpstreamError {
    UpstreamError::Unreachable(Box::new(e))
}

impl Upstream for HttpUpstream {
    fn challenge(&self) -> Result<Challenge, UpstreamError> {
        self.get_json("/v1/challenge")
    }

    fn post(&self, kind: MessageKind, jws: &str) -> Result<String, UpstreamError> {
        let response = self
            .client
            .post(format!("{}{}", self.base, kind.path()))
            .header("content-type", "application/jose")
            .body(jws.to_string())
            .send()
            .map_err(transport)?;
        let status = response.status();
        let body = response.text().map_err(transport)?;
        if status.is_success() {
            Ok(body)
        } else if status.is_client_error() {
            let parsed: Option<ErrorBody> = serde_json::from_str(&body).ok();
            Err(UpstreamError::Rejected {
                status: status.as_u16(),
                code: parsed.as_ref().map(|b| b.error.clone()).unwrap_or_default(),
                message: parsed.map(|b| b.message).unwrap_or(body),
            })
        } else {
            Err(UpstreamError::Server(status.as_u16()))
        }
    }
}
