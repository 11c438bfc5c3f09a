//! The staff console: a small web site the kiosk serves on loopback (the
//! reception PC's browser). Login with a staff account (the same Argon2id
//! accounts as the CLI; wrong passwords slow the client down
//! ([`throttle`]) rather than lock the account), a session cookie
//! (`HttpOnly`, `SameSite=Strict`) with an idle and an absolute limit, a
//! CSRF token on every form (the login form's own is an HMAC of a pre-login
//! cookie), a Host allow-list and an Origin check (no DNS rebinding, no
//! cross-site post), small bodies only, templates that escape by
//! construction (maud). It shows the kiosk's status and alerts (the page
//! refreshes itself every 5 s, which does not keep a session alive), the
//! screen on the reader, the 目視 switch with its reason (the password is
//! asked again), consent relayed for a patient who answers aloud (while the
//! consent screens are up), and the audit trail. Nothing patient-related is
//! shown beyond what the status carries (screen kind, alert codes).
//!
//! The console asks the kiosk's event loop through the same requests as the
//! control socket ([`Ask`]); 目視 switched here is recorded as switched by
//! the logged-in member.

mod mirror;
mod pages;
pub mod session;
pub mod throttle;

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, DefaultBodyLimit, Form, Query, Request as HttpRequest, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use crate::control::{Answer, Request, Via};
use crate::staff::{check_id, StaffDb, StaffError, StaffEvent};
use myna_reception::VisualCheckOn;
use myna_upstream::clock::Clock;
use myna_upstream::messages::VisualReason;
use session::{csrf_ok, Session, Sessions, Touch};
use throttle::{Throttle, Verdict};

/// Asks the kiosk's loop; its typed answer, or `None` when it is gone.
pub type Ask = Arc<dyn Fn(Request) -> Option<Answer> + Send + Sync>;

/// What the handlers share.
pub struct Console {
    sessions: Mutex<Sessions>,
    staff: Mutex<StaffDb>,
    throttle: Mutex<Throttle>,
    /// Signs the login form's token (fresh for each start).
    login_key: ring::hmac::Key,
    /// Host names the console answers to (beside loopback's).
    hosts: Vec<String>,
    /// Served over TLS: cookies are marked `Secure`.
    tls: bool,
    ask: Ask,
    clock: Box<dyn Clock + Send + Sync>,
}

type Shared = Arc<Console>;

const COOKIE: &str = "mynareader_session";
/// The pre-login cookie the login form's token belongs to.
const LOGIN_COOKIE: &str = "mynareader_login";
/// The largest request body a console form needs (a login is well under).
const MAX_BODY: usize = 8 * 1024;
/// Host names every console answers to.
const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// The page language (`?lang=en`; Japanese first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// 日本語.
    #[default]
    Ja,
    /// English.
    En,
}

#[derive(Debug, Deserialize, Default)]
struct LangQuery {
    #[serde(default)]
    lang: Lang,
}

#[derive(Debug, Deserialize, Default)]
struct HomeQuery {
    #[serde(default)]
    lang: Lang,
    /// Set by the page's own refresh: not a person's request.
    #[serde(default)]
    auto: Option<u8>,
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    csrf: String,
    staff: String,
    password: String,
    #[serde(default)]
    lang: Lang,
}

#[derive(Deserialize)]
struct SwitchForm {
    csrf: String,
    state: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    lang: Lang,
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

impl Console {
    /// A console over the staff database and the kiosk's loop.
    pub fn new(staff: StaffDb, ask: Ask, clock: impl Clock + Send + Sync + 'static) -> Console {
        let mut key = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
        Console {
            sessions: Mutex::new(Sessions::default()),
            staff: Mutex::new(staff),
            throttle: Mutex::new(Throttle::default()),
            login_key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key),
            hosts: Vec::new(),
            tls: false,
            ask,
            clock: Box::new(clock),
        }
    }

    /// Also answers to these host names (a name the reception PC maps to
    /// loopback); loopback's own names are always allowed.
    pub fn with_hosts(mut self, hosts: &[String]) -> Console {
        self.hosts = hosts.iter().map(|h| h.to_ascii_lowercase()).collect();
        self
    }

    fn now(&self) -> i64 {
        self.clock.now_ms() / 1000
    }

    fn session(&self, headers: &HeaderMap, touch: Touch) -> Option<(String, Session)> {
        let id = cookie(headers, COOKIE)?;
        let now = self.now();
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let session = sessions.get(&id, now, touch)?;
        // A new password or a removed account ends the sessions opened
        // before (`staff passwd`, `staff remove`, from another process).
        let stamp = self
            .staff
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .stamp(&session.staff)
            .ok()
            .flatten();
        if stamp.as_deref() != Some(session.stamp.as_str()) {
            tracing::info!(event = "console.session-ended", why = "account-changed");
            sessions.close_stale(&session.staff, stamp.as_deref());
            return None;
        }
        Some((id, session))
    }

    fn allowed_host(&self, host: &str) -> bool {
        let name = host_name(host).to_ascii_lowercase();
        LOOPBACK_HOSTS.contains(&name.as_str()) || self.hosts.contains(&name)
    }

    /// Checks a password off the async runtime (Argon2 takes tens of ms),
    /// throttled per client; the refusal to show, if any.
    async fn password(
        self: &Arc<Self>,
        client: IpAddr,
        staff: String,
        password: zeroize::Zeroizing<String>,
        action: StaffEvent,
    ) -> Result<(), pages::Problem> {
        let now = self.now();
        if check_id(&staff).is_err() {
            self.throttle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .failed(client, None, now);
            return Err(pages::Problem::Refused);
        }
        {
            // Counted as a failure before the password is checked (and
            // taken back when it was right): posts sent all at once are
            // throttled as surely as posts sent one after another.
            let mut throttle = self.throttle.lock().unwrap_or_else(|e| e.into_inner());
            if let Verdict::Wait(secs) = throttle.check(client, &staff, now) {
                tracing::warn!(event = "console.throttled", secs);
                return Err(pages::Problem::Wait(secs));
            }
            throttle.failed(client, Some(&staff), now);
        }
        let console = self.clone();
        let checked = tokio::task::spawn_blocking(move || {
            let result = console
                .staff
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .authenticate_throttled(&staff, &password, action, now);
            (staff, result)
        })
        .await;
        let Ok((staff, result)) = checked else {
            return Err(pages::Problem::Refused);
        };
        match result {
            Ok(()) => {
                self.throttle
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .succeeded(client, &staff);
                Ok(())
            }
            Err(StaffError::Locked { .. }) => Err(pages::Problem::Locked),
            Err(_) => Err(pages::Problem::Refused),
        }
    }
}

fn cookie(headers: &HeaderMap, wanted: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| value.to_string())
}

/// The name in a `Host` value (`[::1]:8750` → `[::1]`, `localhost:8750` →
/// `localhost`).
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

fn from_here(console: &Console, method: &Method, headers: &HeaderMap) -> bool {
    let text = |name: header::HeaderName| headers.get(name).map(|v| v.to_str().unwrap_or("\u{0}"));
    let host_ok = text(header::HOST).is_some_and(|host| console.allowed_host(host));
    let origin_ok = method != Method::POST
        || match text(header::ORIGIN) {
            None => true,
            Some(origin) => origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"))
                .is_some_and(|host| console.allowed_host(host)),
        };
    if !host_ok || !origin_ok {
        tracing::warn!(event = "console.refused-origin", host_ok, origin_ok);
    }
    host_ok && origin_ok
}

/// Every request: a `Host` the console answers to (a page whose name was
/// re-pointed at loopback, DNS rebinding, is refused), and on a POST an
/// `Origin`, when the browser sends one, of the same.
async fn guard(State(console): State<Shared>, request: HttpRequest, next: Next) -> Response {
    if !from_here(&console, request.method(), request.headers()) {
        return page(StatusCode::FORBIDDEN, pages::forbidden());
    }
    next.run(request).await
}

/// Headers on every page: no caching, no framing, nothing from elsewhere.
fn secured(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    // `same-origin`, not `no-referrer`: under `no-referrer` a browser sends
    // `Origin: null` with our own forms, and the Origin check needs it.
    headers.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    response
}

fn page(status: StatusCode, markup: maud::Markup) -> Response {
    secured((status, axum::response::Html(markup.into_string())).into_response())
}

fn to_login(lang: Lang) -> Response {
    let target = match lang {
        Lang::Ja => "/login",
        Lang::En => "/login?lang=en",
    };
    secured(Redirect::to(target).into_response())
}

/// Home, in `lang`.
fn home_target(lang: Lang) -> &'static str {
    match lang {
        Lang::Ja => "/",
        Lang::En => "/?lang=en",
    }
}

/// For a form post: the signed-in session when its CSRF token matches,
/// otherwise the answer to give (the login page, or 403).
fn posted(
    console: &Shared,
    headers: &HeaderMap,
    lang: Lang,
    csrf: &str,
) -> Result<(String, Session), Box<Response>> {
    let Some((id, session)) = console.session(headers, Touch::Person) else {
        return Err(Box::new(to_login(lang)));
    };
    if !csrf_ok(&session, csrf) {
        return Err(Box::new(page(StatusCode::FORBIDDEN, pages::forbidden())));
    }
    Ok((id, session))
}

async fn login_page(State(console): State<Shared>, Query(q): Query<LangQuery>) -> Response {
    let pre = session::login_cookie(console.now(), &mut rand::rngs::OsRng);
    let token = session::login_token(&console.login_key, &pre);
    login_form(q.lang, &pre, &token, StatusCode::OK, None, console.tls)
}

/// The login page with a fresh pre-login cookie and its token.
fn login_form(
    lang: Lang,
    pre: &str,
    token: &str,
    status: StatusCode,
    problem: Option<pages::Problem>,
    secure: bool,
) -> Response {
    let mut response = page(status, pages::login(lang, token, problem));
    if let Ok(value) = HeaderValue::from_str(&format!(
        "{LOGIN_COOKIE}={pre}; HttpOnly; SameSite=Strict; Path=/login; Max-Age={}{}",
        session::LOGIN_FORM_SECS,
        if secure { "; Secure" } else { "" }
    )) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

async fn login(
    State(console): State<Shared>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(mut form): Form<LoginForm>,
) -> Response {
    // Wiped when this handler ends.
    let password = zeroize::Zeroizing::new(std::mem::take(&mut form.password));
    let now = console.now();
    // A post from a page that never loaded our form (another site, a
    // script) is refused before anything is checked or written.
    let token_ok = cookie(&headers, LOGIN_COOKIE)
        .is_some_and(|pre| session::login_token_ok(&console.login_key, &pre, &form.csrf, now));
    if !token_ok {
        tracing::warn!(event = "console.login-without-token");
        return page(StatusCode::FORBIDDEN, pages::forbidden());
    }
    let checked = console
        .password(
            client.ip(),
            form.staff.clone(),
            password,
            StaffEvent::ConsoleLogin,
        )
        .await;
    if let Err(problem) = checked {
        let pre = session::login_cookie(now, &mut rand::rngs::OsRng);
        let token = session::login_token(&console.login_key, &pre);
        let status = match problem {
            pages::Problem::Wait(_) => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::UNAUTHORIZED,
        };
        return login_form(form.lang, &pre, &token, status, Some(problem), console.tls);
    }
    let stamp = {
        let mut staff = console.staff.lock().unwrap_or_else(|e| e.into_inner());
        let _ = staff.record(now, &form.staff, StaffEvent::ConsoleLogin, "ok", "");
        staff.stamp(&form.staff).ok().flatten().unwrap_or_default()
    };
    let id = console
        .sessions
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .open(&form.staff, &stamp, now, &mut rand::rngs::OsRng);
    let mut response = Redirect::to(home_target(form.lang)).into_response();
    if let Ok(value) = HeaderValue::from_str(&format!(
        "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{}",
        session::ABSOLUTE_LIMIT_SECS,
        if console.tls { "; Secure" } else { "" }
    )) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    // The pre-login cookie has served.
    response.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("mynareader_login=; Path=/login; Max-Age=0"),
    );
    secured(response)
}

async fn logout(
    State(console): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let (id, _) = match posted(&console, &headers, Lang::Ja, &form.csrf) {
        Ok(signed_in) => signed_in,
        Err(response) => return *response,
    };
    console
        .sessions
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .close(&id);
    to_login(Lang::Ja)
}

/// Asks the kiosk's loop (off the async runtime); `None` when it does not
/// answer.
async fn ask(console: &Shared, request: Request) -> Option<Answer> {
    let ask = console.ask.clone();
    tokio::task::spawn_blocking(move || ask(request))
        .await
        .ok()
        .flatten()
}

async fn home(
    State(console): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HomeQuery>,
) -> Response {
    let touch = if q.auto.is_some() {
        Touch::Passive
    } else {
        Touch::Person
    };
    let Some((_, session)) = console.session(&headers, touch) else {
        return to_login(q.lang);
    };
    let status = match ask(&console, Request::Status).await {
        Some(Answer::Status(status)) => Some(status),
        _ => None,
    };
    page(
        StatusCode::OK,
        pages::home(q.lang, &session, status.as_deref()),
    )
}

async fn switch(
    State(console): State<Shared>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(mut form): Form<SwitchForm>,
) -> Response {
    let password = zeroize::Zeroizing::new(std::mem::take(&mut form.password));
    let (_, session) = match posted(&console, &headers, form.lang, &form.csrf) {
        Ok(signed_in) => signed_in,
        Err(response) => return *response,
    };
    let request = match form.state.as_str() {
        "on" => {
            // Whoever sits at a signed-in console is not enough to wave the
            // next patient through: the member's password again.
            if let Err(problem) = console
                .password(
                    client.ip(),
                    session.staff.clone(),
                    password,
                    StaffEvent::VisualCheckOn,
                )
                .await
            {
                return page(StatusCode::UNAUTHORIZED, pages::refused(form.lang, problem));
            }
            let Some(reason) = VisualReason::from_code(&form.reason) else {
                let now = console.now();
                let _ = console
                    .staff
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .record(
                        now,
                        &session.staff,
                        StaffEvent::VisualCheckOn,
                        "refused",
                        "unknown-reason",
                    );
                return page(StatusCode::BAD_REQUEST, pages::forbidden());
            };
            Request::VisualCheckOnBy(
                VisualCheckOn {
                    staff_id: session.staff.clone(),
                    reason,
                },
                Via::Console,
            )
        }
        "off" => Request::VisualCheckOffBy(session.staff.clone(), Via::Console),
        // Anything else is no switch at all (it used to mean "off").
        _ => {
            return page(
                StatusCode::BAD_REQUEST,
                pages::not_done(form.lang, "unknown state (on or off)"),
            )
        }
    };
    answered(ask(&console, request).await, form.lang)
}

/// After a change: back to the dashboard, or the kiosk's refusal in words
/// (the audit trail could not record it, the consent screens are gone).
fn answered(answer: Option<Answer>, lang: Lang) -> Response {
    match answer {
        Some(Answer::Refused(why)) => page(StatusCode::CONFLICT, pages::not_done(lang, &why)),
        None => page(
            StatusCode::SERVICE_UNAVAILABLE,
            pages::not_done(lang, "the kiosk does not answer"),
        ),
        Some(_) => secured(Redirect::to(home_target(lang)).into_response()),
    }
}

async fn large_text(
    State(console): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<SwitchForm>,
) -> Response {
    if let Err(response) = posted(&console, &headers, form.lang, &form.csrf) {
        return *response;
    }
    let on = match form.state.as_str() {
        "on" => true,
        "off" => false,
        _ => {
            return page(
                StatusCode::BAD_REQUEST,
                pages::not_done(form.lang, "unknown state (on or off)"),
            )
        }
    };
    answered(ask(&console, Request::LargeText(on)).await, form.lang)
}

async fn relay(
    State(console): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<std::collections::HashMap<String, String>>,
) -> Response {
    let lang = match form.get("lang").map(String::as_str) {
        Some("en") => Lang::En,
        _ => Lang::Ja,
    };
    let csrf = form.get("csrf").map_or("", String::as_str);
    let (_, session) = match posted(&console, &headers, lang, csrf) {
        Ok(signed_in) => signed_in,
        Err(response) => return *response,
    };
    let answers: Vec<_> = form
        .iter()
        .filter_map(|(name, value)| {
            let topic = crate::service::topic_from_code(name.strip_prefix("topic-")?)?;
            Some((topic, value == "agree"))
        })
        .collect();
    answered(
        ask(
            &console,
            Request::RelayConsentBy(session.staff.clone(), answers),
        )
        .await,
        lang,
    )
}

async fn screen(
    State(console): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    if console.session(&headers, Touch::Passive).is_none() {
        return secured(StatusCode::UNAUTHORIZED.into_response());
    }
    let png = match ask(&console, Request::Screen).await {
        Some(Answer::Screen {
            screen,
            visual_check,
        }) => mirror::render(&screen.to_link(), visual_check, q.lang),
        _ => None,
    };
    match png {
        Some(png) => secured(([(header::CONTENT_TYPE, "image/png")], png).into_response()),
        None => secured(StatusCode::SERVICE_UNAVAILABLE.into_response()),
    }
}

async fn audit(
    State(console): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let Some((_, session)) = console.session(&headers, Touch::Person) else {
        return to_login(q.lang);
    };
    let (entries, verdict) = {
        let staff = console.staff.lock().unwrap_or_else(|e| e.into_inner());
        (
            staff.entries(i64::MIN).unwrap_or_default(),
            staff.verify().ok(),
        )
    };
    page(
        StatusCode::OK,
        pages::audit(q.lang, &session, &entries, verdict),
    )
}

/// The console's routes (served with the client's address:
/// [`Router::into_make_service_with_connect_info`]).
pub fn router(console: Console) -> Router {
    let console = Arc::new(console);
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/visual-check", post(switch))
        .route("/consent", post(relay))
        .route("/large-text", post(large_text))
        .route("/audit", get(audit))
        .route("/screen.png", get(screen))
        .layer(axum::middleware::from_fn_with_state(console.clone(), guard))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(console)
}

/// The console's TLS identity, for a console that listens beyond loopback.
pub struct ConsoleTls {
    config: Arc<rustls::ServerConfig>,
}

impl ConsoleTls {
    /// From a PEM certificate chain and its PEM private key.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<ConsoleTls, String> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let chain = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("certificate: {e}"))?;
        if chain.is_empty() {
            return Err("certificate: no certificate in the file".into());
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| format!("key: {e}"))?;
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("certificate and key: {e}"))?;
        Ok(ConsoleTls {
            config: Arc::new(config),
        })
    }
}

/// Serves the console over TLS on `listener` (any address: staff reach it
/// from another PC) on its own thread; cookies are marked `Secure`.
pub fn serve_tls(
    listener: TcpListener,
    mut console: Console,
    tls: ConsoleTls,
) -> std::io::Result<()> {
    use tower::ServiceExt as _;
    listener.set_nonblocking(true)?;
    console.tls = true;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let acceptor = tokio_rustls::TlsAcceptor::from(tls.config);
    std::thread::Builder::new()
        .name("staff-console".into())
        .spawn(move || {
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => listener,
                    Err(e) => {
                        tracing::error!(event = "console.listen-failed", error = %e);
                        return;
                    }
                };
                let app = router(console);
                loop {
                    let Ok((tcp, client)) = listener.accept().await else {
                        // Out of file handles, say: wait rather than spin.
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        continue;
                    };
                    let (acceptor, app) = (acceptor.clone(), app.clone());
                    tokio::spawn(async move {
                        // A client that never finishes its handshake does
                        // not hold a task for ever.
                        let handshake = tokio::time::timeout(
                            std::time::Duration::from_secs(10),
                            acceptor.accept(tcp),
                        );
                        let Ok(Ok(stream)) = handshake.await else {
                            return;
                        };
                        let service = hyper::service::service_fn(
                            move |mut request: hyper::Request<hyper::body::Incoming>| {
                                request.extensions_mut().insert(ConnectInfo(client));
                                app.clone().oneshot(request)
                            },
                        );
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                            .await;
                    });
                }
            });
        })?;
    Ok(())
}

/// Serves the console on `listener` on its own thread (a small runtime of
/// its own, beside the kiosk's loop).
pub fn serve(listener: TcpListener, console: Console) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("staff-console".into())
        .spawn(move || {
            runtime.block_on(async move {
                match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => {
                        let service =
                            router(console).into_make_service_with_connect_info::<SocketAddr>();
                        if let Err(e) = axum::serve(listener, service).await {
                            tracing::error!(event = "console.stopped", error = %e);
                        }
                    }
                    Err(e) => tracing::error!(event = "console.listen-failed", error = %e),
                }
            });
        })?;
    Ok(())
}
