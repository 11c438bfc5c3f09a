//! The staff console: a small web site the kiosk serves on loopback (the
//! reception PC's browser). Login with a staff account (the same Argon2id
//! accounts and lockout as the CLI), a session cookie (`HttpOnly`,
//! `SameSite=Strict`), a CSRF token on every state change, templates that
//! escape by construction (maud). It shows the kiosk's status and alerts
//! (the page refreshes itself every 5 s), the screen on the reader, the 目視
//! switch with its reason, consent relayed for a patient who answers aloud
//! (while the consent screens are up), and the audit trail. Nothing patient-related is
//! shown beyond what the status carries (screen kind, alert codes).
//!
//! The console asks the kiosk's event loop through the same requests as the
//! control socket ([`Ask`]); 目視 switched here is recorded as switched by
//! the logged-in member.

mod mirror;
mod pages;
pub mod session;

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use crate::control::{Answer, Request};
use crate::staff::{StaffDb, StaffError, StaffEvent};
use myna_reception::VisualCheckOn;
use myna_upstream::clock::Clock;
use myna_upstream::messages::VisualReason;
use session::{csrf_ok, Session, Sessions};

/// Asks the kiosk's loop; its typed answer, or `None` when it is gone.
pub type Ask = Arc<dyn Fn(Request) -> Option<Answer> + Send + Sync>;

/// What the handlers share.
pub struct Console {
    sessions: Mutex<Sessions>,
    staff: Mutex<StaffDb>,
    ask: Ask,
    clock: Box<dyn Clock + Send + Sync>,
}

type Shared = Arc<Console>;

const COOKIE: &str = "mynareader_session";

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

#[derive(Deserialize)]
struct LoginForm {
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
    lang: Lang,
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

impl Console {
    /// A console over the staff database and the kiosk's loop.
    pub fn new(staff: StaffDb, ask: Ask, clock: impl Clock + Send + Sync + 'static) -> Console {
        Console {
            sessions: Mutex::new(Sessions::default()),
            staff: Mutex::new(staff),
            ask,
            clock: Box::new(clock),
        }
    }

    fn now(&self) -> i64 {
        self.clock.now_ms() / 1000
    }

    fn session(&self, headers: &HeaderMap) -> Option<(String, Session)> {
        let id = cookie(headers)?;
        let now = self.now();
        let session = self
            .sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id, now)?;
        Some((id, session))
    }
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
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
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
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
    let Some((id, session)) = console.session(headers) else {
        return Err(Box::new(to_login(lang)));
    };
    if !csrf_ok(&session, csrf) {
        return Err(Box::new(page(StatusCode::FORBIDDEN, pages::forbidden())));
    }
    Ok((id, session))
}

async fn login_page(Query(q): Query<LangQuery>) -> Response {
    page(StatusCode::OK, pages::login(q.lang, None))
}

async fn login(State(console): State<Shared>, Form(mut form): Form<LoginForm>) -> Response {
    // Wiped when this handler ends.
    let password = zeroize::Zeroizing::new(std::mem::take(&mut form.password));
    let now = console.now();
    let result = console
        .staff
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .authenticate(&form.staff, &password, StaffEvent::ConsoleLogin, now);
    match result {
        Ok(()) => {
            let id = console
                .sessions
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .open(&form.staff, now, &mut rand::rngs::OsRng);
            let _ = console
                .staff
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .record(now, &form.staff, StaffEvent::ConsoleLogin, "ok", "");
            let mut response = Redirect::to(home_target(form.lang)).into_response();
            if let Ok(value) = HeaderValue::from_str(&format!(
                "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
                session::IDLE_LIMIT_SECS
            )) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            secured(response)
        }
        Err(e) => {
            let words = match e {
                StaffError::Locked { .. } => pages::Problem::Locked,
                _ => pages::Problem::Refused,
            };
            page(
                StatusCode::UNAUTHORIZED,
                pages::login(form.lang, Some(words)),
            )
        }
    }
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
    Query(q): Query<LangQuery>,
) -> Response {
    let Some((_, session)) = console.session(&headers) else {
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
    headers: HeaderMap,
    Form(form): Form<SwitchForm>,
) -> Response {
    let (_, session) = match posted(&console, &headers, form.lang, &form.csrf) {
        Ok(signed_in) => signed_in,
        Err(response) => return *response,
    };
    let request = match form.state.as_str() {
        "on" => {
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
            Request::VisualCheckOnBy(VisualCheckOn {
                staff_id: session.staff.clone(),
                reason,
            })
        }
        _ => Request::VisualCheckOffBy(session.staff.clone()),
    };
    ask(&console, request).await;
    secured(Redirect::to(home_target(form.lang)).into_response())
}

async fn large_text(
    State(console): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<SwitchForm>,
) -> Response {
    if let Err(response) = posted(&console, &headers, form.lang, &form.csrf) {
        return *response;
    }
    ask(&console, Request::LargeText(form.state == "on")).await;
    secured(Redirect::to(home_target(form.lang)).into_response())
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
    ask(
        &console,
        Request::RelayConsentBy(session.staff.clone(), answers),
    )
    .await;
    secured(Redirect::to(home_target(lang)).into_response())
}

async fn screen(
    State(console): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    if console.session(&headers).is_none() {
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
    let Some((_, session)) = console.session(&headers) else {
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

/// The console's routes.
pub fn router(console: Console) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/visual-check", post(switch))
        .route("/consent", post(relay))
        .route("/large-text", post(large_text))
        .route("/audit", get(audit))
        .route("/screen.png", get(screen))
        .with_state(Arc::new(console))
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
                        if let Err(e) = axum::serve(listener, router(console)).await {
                            tracing::error!(event = "console.stopped", error = %e);
                        }
                    }
                    Err(e) => tracing::error!(event = "console.listen-failed", error = %e),
                }
            });
        })?;
    Ok(())
}
