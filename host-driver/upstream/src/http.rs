//! The HTTP adapter of [`Upstream`]: reqwest (blocking) over rustls with the
//! ring provider, with an optional private CA and a client certificate for
//! mutual TLS. It owns the mapping from HTTP outcomes to [`UpstreamError`]:
//! transport failures and 5xx are transient, a 4xx carries the upstream's
//! typed [`ErrorBody`]. Plain `http://` only to loopback (the reference
//! upstream on this machine); redirects are not followed (an answer comes
//! from the address configured or not at all); bodies are read up to
//! [`MAX_BODY`].

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

/// The largest answer read (a verify answer is well under 2 kB).
pub const MAX_BODY: u64 = 256 * 1024;

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
    /// Not a URL.
    #[error("upstream URL {0:?} is not a URL")]
    Url(String),
    /// Plain HTTP to another machine: patients' answers in the clear.
    #[error("upstream URL {0:?}: plain http:// is only for loopback; use https://")]
    PlainHttp(String),
}

/// Whether the upstream at `base` may be reached this way: `https://`
/// anywhere, `http://` only on this machine.
fn check_base(base: &str) -> Result<(), HttpSetupError> {
    let url = reqwest::Url::parse(base).map_err(|_| HttpSetupError::Url(base.to_string()))?;
    let Some(host) = url.host_str() else {
        return Err(HttpSetupError::Url(base.to_string()));
    };
    let loopback = match host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
    {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(HttpSetupError::PlainHttp(base.to_string())),
        _ => Err(HttpSetupError::Url(base.to_string())),
    }
}

/// The body, read up to [`MAX_BODY`].
fn body(response: reqwest::blocking::Response) -> Result<String, UpstreamError> {
    let mut text = String::new();
    let read = response
        .take(MAX_BODY + 1)
        .read_to_string(&mut text)
        .map_err(|e| UpstreamError::Unreachable(Box::new(e)))?;
    if read as u64 > MAX_BODY {
        return Err(UpstreamError::BadAnswer(
            format!("the answer is larger than {MAX_BODY} bytes").into(),
        ));
    }
    Ok(text)
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
        check_base(base)?;
        let client = reqwest::blocking::Client::builder()
            .tls_backend_preconfigured(tls_config(&options)?)
            .redirect(reqwest::redirect::Policy::none())
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
        serde_json::from_str(&body(response)?).map_err(|e| UpstreamError::BadAnswer(Box::new(e)))
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
        let body = body(response)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_for_loopback_only() {
        for good in [
            "http://127.0.0.1:8700",
            "http://127.0.0.2:8700/",
            "http://[::1]:8700",
            "http://localhost:8700",
            "https://upstream.example.jp",
            "https://10.0.0.5:8443",
        ] {
            assert!(check_base(good).is_ok(), "{good}");
        }
        for bad in [
            "http://upstream.example.jp",
            "http://10.0.0.5:8700",
            "http://localhost.example.jp",
            "http://[2001:db8::1]:8700",
        ] {
            assert!(
                matches!(check_base(bad), Err(HttpSetupError::PlainHttp(_))),
                "{bad}"
            );
        }
        for bad in ["ftp://127.0.0.1", "127.0.0.1:8700", ""] {
            assert!(
                matches!(check_base(bad), Err(HttpSetupError::Url(_))),
                "{bad}"
            );
        }
    }

    /// A one-answer HTTP server on loopback: it answers every connection
    /// with `response` and counts them.
    fn server(response: Vec<u8>) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::io::Write;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let hits = std::sync::Arc::new(AtomicUsize::new(0));
        let counted = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                counted.fetch_add(1, Ordering::SeqCst);
                let mut request = [0u8; 8192];
                let _ = std::io::Read::read(&mut stream, &mut request);
                let _ = stream.write_all(&response);
            }
        });
        (base, hits)
    }

    #[test]
    fn redirects_are_not_followed_and_large_answers_are_not_read() {
        use std::sync::atomic::Ordering;
        let (elsewhere, elsewhere_hits) =
            server(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}".to_vec());
        let (redirecting, _) = server(
            format!("HTTP/1.1 307 Temporary Redirect\r\nlocation: {elsewhere}/v1/verify\r\ncontent-length: 0\r\n\r\n")
                .into_bytes(),
        );
        let upstream = HttpUpstream::new(&redirecting, HttpOptions::default()).expect("client");
        assert!(matches!(
            upstream.post(MessageKind::Verify, "h.p.s"),
            Err(UpstreamError::Server(307))
        ));
        assert_eq!(elsewhere_hits.load(Ordering::SeqCst), 0);
        let huge = MAX_BODY as usize + 10;
        let mut answer = format!("HTTP/1.1 200 OK\r\ncontent-length: {huge}\r\n\r\n").into_bytes();
        answer.extend(std::iter::repeat_n(b' ', huge));
        let (flooding, _) = server(answer);
        let upstream = HttpUpstream::new(&flooding, HttpOptions::default()).expect("client");
        assert!(matches!(
            upstream.post(MessageKind::Verify, "h.p.s"),
            Err(UpstreamError::BadAnswer(_))
        ));
    }
}
