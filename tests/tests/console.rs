//! The staff console over HTTP, against a running kiosk (the rig: the kiosk
//! loop, `reader-sim` and `upstream-ref` processes): no page without a
//! session, login and its throttle, the session cookie's flags, CSRF on
//! every form (the login form's too), the Host and Origin checks, 目視
//! switched on from the console (password again) showing on the reader and
//! turning itself off after one reception or when left armed too long,
//! sessions ended by an account change, and the audit view.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use myna_sim_world::{patient_entry, personality, serial_text, Rig, RigSetup, SharedCard};
use reqwest::blocking::Client;
use reqwest::redirect::Policy;
use reqwest::StatusCode;

const SERIAL: [u8; 4] = [0x40, 0, 0, 1];
const PASSWORD: &str = "console passphrase";

struct World {
    rig: Rig,
    base: String,
    http: Client,
    _dir: tempfile::TempDir,
}

fn world() -> World {
    world_with(|_| {})
}

fn world_with(adjust: impl FnOnce(&mut RigSetup)) -> World {
    let dir = tempfile::tempdir().unwrap();
    let mut setup = RigSetup::new(mynareader_tests::bin_dir(), dir.path().join("work"));
    setup.patients.insert(
        serial_text(&SERIAL),
        patient_entry("valid", true, "コンソール ハナコ", false),
    );
    setup.sim_args = vec!["--seed".into(), "5".into()];
    setup.staff = vec![
        ("nurse-5".into(), PASSWORD.into()),
        ("clerk-1".into(), PASSWORD.into()),
    ];
    adjust(&mut setup);
    let mut rig = Rig::start(setup).unwrap();
    rig.start_kiosk(Box::new(myna_sim_world::Recorder::default()))
        .unwrap();
    rig.reader_control().unwrap().wait_for("Idle").unwrap();
    let base = rig.start_console().unwrap();
    // Plain HTTP on loopback; reqwest still wants its TLS set up.
    let http = client_from(rustls::RootCertStore::empty(), "127.0.0.1");
    World {
        rig,
        base,
        http,
        _dir: dir,
    }
}

/// A client that trusts `roots` and connects from `local` (another
/// loopback address is another computer to the console's throttle).
fn client_from(roots: rustls::RootCertStore, local: &str) -> Client {
    let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(Policy::none())
        .timeout(Duration::from_secs(20))
        .local_address(local.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}

fn another_client() -> Client {
    client_from(rustls::RootCertStore::empty(), "127.0.0.2")
}

/// The `name=value` of the cookie `name` the response sets.
fn set_cookie(response: &reqwest::blocking::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

/// A login form as a browser gets it: its pre-login cookie and token.
fn login_form(w: &World, http: &Client) -> (String, String) {
    let response = http.get(format!("{}/login", w.base)).send().unwrap();
    let pre = set_cookie(&response, "mynareader_login").expect("a pre-login cookie");
    assert!(
        pre.contains("HttpOnly") && pre.contains("SameSite=Strict"),
        "{pre}"
    );
    let pre = pre.split(';').next().unwrap().to_string();
    (pre, csrf(&response.text().unwrap()))
}

fn login_from(
    w: &World,
    http: &Client,
    staff: &str,
    password: &str,
) -> reqwest::blocking::Response {
    let (pre, token) = login_form(w, http);
    http.post(format!("{}/login", w.base))
        .header("cookie", pre)
        .form(&[
            ("csrf", token.as_str()),
            ("staff", staff),
            ("password", password),
        ])
        .send()
        .unwrap()
}

fn login(w: &World, staff: &str, password: &str) -> reqwest::blocking::Response {
    login_from(w, &w.http, staff, password)
}

/// The session cookie from a successful login.
fn session(w: &World) -> String {
    let response = login(w, "nurse-5", PASSWORD);
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = set_cookie(&response, "mynareader_session").expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    cookie.split(';').next().unwrap().to_string()
}

/// Every audit entry the kiosk's database holds.
fn trail(w: &World) -> Vec<myna_kiosk::staff::AuditEntry> {
    myna_kiosk::staff::StaffDb::open(&w.rig.database())
        .unwrap()
        .entries(i64::MIN)
        .unwrap()
}

fn get(w: &World, path: &str, cookie: &str) -> (StatusCode, String) {
    let response = w
        .http
        .get(format!("{}{path}", w.base))
        .header("cookie", cookie)
        .send()
        .unwrap();
    let status = response.status();
    (status, response.text().unwrap())
}

/// Waits (up to 10 s) until the reader's state line says `what` (the
/// reader draws what the kiosk sent a moment later).
fn reader_says(reader: &mut myna_sim_world::SimControl, what: &str) -> String {
    let start = std::time::Instant::now();
    loop {
        let state = reader.ask("state").unwrap();
        if state.contains(what) || start.elapsed() > Duration::from_secs(10) {
            return state;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn csrf(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    page[at..at + 64].to_string()
}

fn switch(w: &World, cookie: &str, token: &str, state: &str) -> StatusCode {
    switch_with(w, cookie, token, state, PASSWORD)
}

fn switch_with(w: &World, cookie: &str, token: &str, state: &str, password: &str) -> StatusCode {
    w.http
        .post(format!("{}/visual-check", w.base))
        .header("cookie", cookie)
        .form(&[
            ("csrf", token),
            ("state", state),
            ("reason", "unwell"),
            ("password", password),
        ])
        .send()
        .unwrap()
        .status()
}

/// One reception under 目視: the patient confirms, agrees to all, and
/// takes the card.
fn visual_check_reception(w: &World, reader: &mut myna_sim_world::SimControl) {
    let card = SharedCard::new(&personality(SERIAL, "4826")).unwrap();
    w.rig.place(&card).unwrap();
    reader.wait_for("VisualCheck").unwrap();
    reader.tap("confirm").unwrap();
    reader.wait_for("ConsentOverview").unwrap();
    reader.tap("yes").unwrap();
    reader.wait_for("Done").unwrap();
    w.rig.take().unwrap();
    reader.wait_for("Idle").unwrap();
}

#[test]
fn no_page_without_a_session_and_logins_are_checked() {
    let w = world();
    for path in ["/", "/audit"] {
        let (status, _) = get(&w, path, "");
        assert_eq!(status, StatusCode::SEE_OTHER, "{path}");
        let (status, _) = get(&w, path, "mynareader_session=made-up");
        assert_eq!(
            status,
            StatusCode::SEE_OTHER,
            "{path} with a made-up session"
        );
    }
    let (status, page) = get(&w, "/login", "");
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("職員ログイン"));
    let wrong = login(&w, "nurse-5", "not it");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.text().unwrap().contains("パスワードが違います"));
    // A good login gives a page with the status.
    let cookie = session(&w);
    let (status, page) = get(&w, "/", &cookie);
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("目視モードにする"), "{page}");
    // Large text on the reader, from the console, for this reception.
    let token = csrf(&page);
    let mut reader = w.rig.reader_control().unwrap();
    for (state, said) in [("on", "large=true"), ("off", "large=false")] {
        let answer = w
            .http
            .post(format!("{}/large-text", w.base))
            .header("cookie", &cookie)
            .form(&[("csrf", token.as_str()), ("state", state)])
            .send()
            .unwrap();
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        let seen = reader_says(&mut reader, said);
        assert!(seen.contains(said), "{seen}");
    }
    // Logging out ends the session.
    let out = w
        .http
        .post(format!("{}/logout", w.base))
        .header("cookie", &cookie)
        .form(&[("csrf", token.as_str())])
        .send()
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(get(&w, "/", &cookie).0, StatusCode::SEE_OTHER);
    // Ten wrong passwords from one computer (one was given above): after
    // five it has to wait, even with the right password ...
    let mut refused = Vec::new();
    for _ in 0..10 {
        refused.push(login(&w, "clerk-1", "wrong").status());
    }
    assert_eq!(refused[..4], [StatusCode::UNAUTHORIZED; 4]);
    assert_eq!(refused[5..], [StatusCode::TOO_MANY_REQUESTS; 5]);
    let waiting = login(&w, "clerk-1", PASSWORD);
    assert_eq!(waiting.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(waiting.text().unwrap().contains("秒後に"));
    // ... but the account is not locked: from another computer it works.
    let elsewhere = login_from(&w, &another_client(), "clerk-1", PASSWORD);
    assert_eq!(elsewhere.status(), StatusCode::SEE_OTHER);
}

#[test]
fn visual_check_from_the_console_serves_one_reception_and_is_audited() {
    let w = world();
    let cookie = session(&w);
    let (_, page) = get(&w, "/", &cookie);
    let token = csrf(&page);
    // Without the right token: refused, nothing switched.
    assert_eq!(
        switch(&w, &cookie, "0".repeat(64).as_str(), "on"),
        StatusCode::FORBIDDEN
    );
    assert_eq!(switch(&w, &cookie, "", "on"), StatusCode::FORBIDDEN);
    // A state that is neither on nor off switches nothing (it used to
    // mean off).
    assert_eq!(
        switch(&w, &cookie, &token, "<b>on</b>"),
        StatusCode::BAD_REQUEST
    );
    // A signed-in page is not enough: the member's password again.
    assert_eq!(
        switch_with(&w, &cookie, &token, "on", ""),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        switch_with(&w, &cookie, &token, "on", "not the password"),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(w.rig.status().unwrap()["visual_check"], false);
    // With it: on, and the reader shows the banner.
    assert_eq!(switch(&w, &cookie, &token, "on"), StatusCode::SEE_OTHER);
    let mut reader = w.rig.reader_control().unwrap();
    let state = reader_says(&mut reader, "visual_check=true");
    assert!(state.contains("visual_check=true"), "{state}");
    let (_, page) = get(&w, "/", &cookie);
    assert!(page.contains("オン（次の1回の受付のみ）"), "{page}");
    // One reception under 目視, then it is off by itself.
    visual_check_reception(&w, &mut reader);
    let (_, page) = get(&w, "/", &cookie);
    assert!(page.contains("目視モードにする"), "off again: {page}");
    // The audit view: who, what, and that the chain is sound.
    let (status, audit) = get(&w, "/audit", &cookie);
    assert_eq!(status, StatusCode::OK);
    for event in ["console-login", "visual-check-on", "visual-check-used"] {
        assert!(audit.contains(event), "{event} not in the audit view");
    }
    assert!(audit.contains("改ざんは検出されませんでした"), "{audit}");
    assert!(
        !audit.contains("コンソール ハナコ"),
        "no patient name in the trail"
    );
}

#[test]
fn forged_logins_foreign_hosts_and_oversized_ids_are_refused_before_anything_is_written() {
    let w = world();
    let before = trail(&w).len();
    let post_login = |cookie: &str, form: &[(&str, &str)]| {
        w.http
            .post(format!("{}/login", w.base))
            .header("cookie", cookie)
            .form(form)
            .send()
            .unwrap()
            .status()
    };
    // No token, a token of another form, a token without its cookie: the
    // right password does not help.
    let (pre, token) = login_form(&w, &w.http);
    let (other_pre, _) = login_form(&w, &w.http);
    for (cookie, token) in [
        (pre.as_str(), ""),
        (other_pre.as_str(), token.as_str()),
        ("", token.as_str()),
    ] {
        assert_eq!(
            post_login(
                cookie,
                &[
                    ("csrf", token),
                    ("staff", "nurse-5"),
                    ("password", PASSWORD)
                ]
            ),
            StatusCode::FORBIDDEN
        );
    }
    // A page whose name was pointed at loopback (DNS rebinding), and a post
    // from another site.
    let port = w.base.rsplit(':').next().unwrap();
    let foreign = w
        .http
        .get(format!("{}/login", w.base))
        .header("host", format!("attacker.example:{port}"))
        .send()
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    let cross_site = w
        .http
        .post(format!("{}/login", w.base))
        .header("cookie", &pre)
        .header("origin", "http://attacker.example")
        .form(&[
            ("csrf", token.as_str()),
            ("staff", "nurse-5"),
            ("password", PASSWORD),
        ])
        .send()
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    // Staff ids that are no ids: 100 kB, too long, spaces, escapes.
    let huge = "x".repeat(100 * 1024);
    for id in [huge.as_str(), &"a".repeat(33), "a b", "\u{1b}[2J"] {
        let (pre, token) = login_form(&w, &another_client());
        let status = post_login(
            &pre,
            &[("csrf", &token), ("staff", id), ("password", "whatever1")],
        );
        assert!(
            matches!(
                status,
                StatusCode::UNAUTHORIZED | StatusCode::PAYLOAD_TOO_LARGE
            ),
            "{status}"
        );
    }
    let entries = trail(&w);
    assert_eq!(entries.len(), before, "nothing audited: {entries:?}");
    // A well-formed unknown id is audited, and no row is large.
    assert_eq!(
        login_from(&w, &another_client(), "nobody-here", "whatever1").status(),
        StatusCode::UNAUTHORIZED
    );
    let entries = trail(&w);
    assert_eq!(entries.len(), before + 1);
    for e in &entries {
        let size = e.staff.len() + e.event.len() + e.outcome.len() + e.detail.len();
        assert!(size < 1024, "{e:?}");
    }
}

#[test]
fn wrong_passwords_sent_all_at_once_are_throttled_like_ones_sent_in_turn() {
    let w = world();
    // Ten forms fetched first, then ten wrong passwords posted together.
    let forms: Vec<(String, String)> = (0..10).map(|_| login_form(&w, &w.http)).collect();
    let statuses: Vec<StatusCode> = std::thread::scope(|scope| {
        let posts: Vec<_> = forms
            .iter()
            .map(|(pre, token)| {
                let (w, pre, token) = (&w, pre.clone(), token.clone());
                scope.spawn(move || {
                    w.http
                        .post(format!("{}/login", w.base))
                        .header("cookie", pre)
                        .form(&[
                            ("csrf", token.as_str()),
                            ("staff", "clerk-1"),
                            ("password", "wrong guess"),
                        ])
                        .send()
                        .unwrap()
                        .status()
                })
            })
            .collect();
        posts.into_iter().map(|p| p.join().unwrap()).collect()
    });
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!(checked, 5, "only five checked: {statuses:?}");
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count(),
        5,
        "{statuses:?}"
    );
}

#[test]
fn a_new_password_or_a_removed_account_ends_its_console_sessions() {
    let w = world();
    let cookie = session(&w);
    assert_eq!(get(&w, "/", &cookie).0, StatusCode::OK);
    let mut db = myna_kiosk::staff::StaffDb::open(&w.rig.database()).unwrap();
    db.set_password("nurse-5", "a new passphrase", 1, &mut rand::rngs::OsRng)
        .unwrap();
    assert_eq!(get(&w, "/", &cookie).0, StatusCode::SEE_OTHER, "ended");
    assert_eq!(
        login(&w, "nurse-5", "a new passphrase").status(),
        StatusCode::SEE_OTHER
    );
    let cookie = set_cookie(
        &login(&w, "nurse-5", "a new passphrase"),
        "mynareader_session",
    )
    .unwrap()
    .split(';')
    .next()
    .unwrap()
    .to_string();
    assert_eq!(get(&w, "/", &cookie).0, StatusCode::OK);
    db.remove("nurse-5", 2).unwrap();
    assert_eq!(get(&w, "/", &cookie).0, StatusCode::SEE_OTHER, "removed");
}

#[test]
fn a_visual_check_left_armed_past_its_expiry_is_withdrawn_and_audited() {
    let w = world_with(|setup| {
        setup.reception.visual_check_expiry = time::Duration::seconds(3);
    });
    let cookie = session(&w);
    let (_, page) = get(&w, "/", &cookie);
    assert_eq!(
        switch(&w, &cookie, &csrf(&page), "on"),
        StatusCode::SEE_OTHER
    );
    let (_, page) = get(&w, "/", &cookie);
    assert!(
        page.contains("id=\"visual-left\""),
        "time left shown: {page}"
    );
    let status = w.rig.status().unwrap();
    assert!(
        status["visual_check_left_secs"].as_i64().unwrap() <= 3,
        "{status}"
    );
    // Nobody places a card.
    let start = std::time::Instant::now();
    while w.rig.status().unwrap()["visual_check"] == true {
        assert!(start.elapsed() < Duration::from_secs(15), "never withdrawn");
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut reader = w.rig.reader_control().unwrap();
    let state = reader_says(&mut reader, "visual_check=false");
    assert!(state.contains("visual_check=false"), "{state}");
    let last = trail(&w).pop().unwrap();
    assert_eq!(
        (
            last.staff.as_str(),
            last.event.as_str(),
            last.outcome.as_str()
        ),
        ("nurse-5", "visual-check-expired", "expired")
    );
}

#[test]
fn over_tls_the_console_serves_https_only_with_secure_cookies() {
    let w = world();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let base = w
        .rig
        .start_console_tls(cert.pem().as_bytes(), key.serialize_pem().as_bytes())
        .unwrap();
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.der().clone()).unwrap();
    let https = client_from(roots, "127.0.0.1");
    let tls_world = World {
        base: base.clone(),
        ..w
    };
    let response = login_from(&tls_world, &https, "nurse-5", PASSWORD);
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = set_cookie(&response, "mynareader_session").unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
    let cookie = cookie.split(';').next().unwrap().to_string();
    let page = https
        .get(format!("{base}/"))
        .header("cookie", &cookie)
        .send()
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    // Plain HTTP to the same port gets no page.
    let plain = tls_world
        .http
        .get(format!("{}/login", base.replacen("https", "http", 1)))
        .send();
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
}

/// A minimal W3C WebDriver client over HTTP+JSON: the six commands this
/// test needs. (A WebDriver crate would bring a second HTTP and TLS stack
/// into the tests for the same six calls.)
struct Browser {
    http: Client,
    base: String,
    _driver: myna_sim_world::Process,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium; `None` (with a message)
    /// where they are not installed.
    fn start(http: &Client) -> Option<Browser> {
        let which = |tool: &str| {
            std::env::var_os("PATH")
                .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
        };
        if !which("chromedriver") || !which("chromium") {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI: chromium and chromium-driver must be installed (scripts/setup-debian)"
            );
            eprintln!("skipped: chromium / chromedriver not installed (scripts/setup-debian)");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = std::process::Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let driver = myna_sim_world::Process::from_child(driver);
        let base = format!("http://127.0.0.1:{port}");
        let start = std::time::Instant::now();
        while http.get(format!("{base}/status")).send().is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut browser = Browser {
            http: http.clone(),
            base,
            _driver: driver,
        };
        let session = browser.call(
            "POST",
            "/session",
            serde_json::json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": "/usr/bin/chromium",
                    "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                             "--disable-dev-shm-usage", "--window-size=1000,900", "--lang=ja"]
                }
            }}}),
        );
        let id = session["sessionId"]
            .as_str()
            .expect("a WebDriver session")
            .to_string();
        browser.base = format!("{}/session/{id}", browser.base);
        Some(browser)
    }

    fn call(&mut self, method: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
        let url = format!("{}{path}", self.base);
        let request = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body),
        };
        let answer: serde_json::Value = request.send().unwrap().json().unwrap();
        let value = answer["value"].clone();
        assert!(value.get("error").is_none(), "WebDriver {path}: {value}");
        value
    }

    fn go(&mut self, url: &str) {
        self.call("POST", "/url", serde_json::json!({ "url": url }));
    }

    fn element(&mut self, css: &str) -> String {
        let found = self.call(
            "POST",
            "/element",
            serde_json::json!({"using": "css selector", "value": css}),
        );
        found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(|v| v.as_str())
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_string()
    }

    fn type_in(&mut self, css: &str, text: &str) {
        let id = self.element(css);
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            serde_json::json!({ "text": text }),
        );
    }

    fn click(&mut self, css: &str) {
        let id = self.element(css);
        self.call(
            "POST",
            &format!("/element/{id}/click"),
            serde_json::json!({}),
        );
    }

    fn source(&mut self) -> String {
        self.call("GET", "/source", serde_json::Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The page's source once it contains `text` (a click's navigation
    /// completes a moment after the click returns); panics after 15 s.
    fn wait_for(&mut self, text: &str) -> String {
        let start = std::time::Instant::now();
        loop {
            let source = self.source();
            if source.contains(text) {
                return source;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "{text:?} never appeared; the page:\n{source}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn screenshot(&mut self, name: &str) {
        use base64::Engine as _;
        let png = self.call("GET", "/screenshot", serde_json::Value::Null);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .unwrap();
        let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        std::fs::write(&path, bytes).unwrap();
        eprintln!("screenshot: {}", path.display());
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let url = self.base.clone();
        let _ = self.http.delete(url).send();
    }
}

#[test]
fn in_a_real_browser_staff_log_in_switch_visual_check_and_read_the_trail() {
    let w = world();
    let Some(mut b) = Browser::start(&w.http) else {
        return;
    };
    b.go(&format!("{}/", w.base));
    b.wait_for("職員ログイン");
    b.type_in("#staff", "nurse-5");
    b.type_in("#password", "wrong password");
    b.click("#login");
    b.wait_for("パスワードが違います");
    b.screenshot("console-login-refused.png");
    b.type_in("#staff", "nurse-5");
    b.type_in("#password", PASSWORD);
    b.click("#login");
    b.wait_for("目視モードにする");
    b.type_in("#visual-password", PASSWORD);
    b.click("#visual-on");
    let mut reader = w.rig.reader_control().unwrap();
    let state = reader_says(&mut reader, "visual_check=true");
    assert!(
        state.contains("visual_check=true"),
        "the banner is on the reader: {state}"
    );
    b.wait_for("オン（次の1回の受付のみ）");
    b.screenshot("console-visual-check-on.png");
    visual_check_reception(&w, &mut reader);
    b.go(&format!("{}/", w.base));
    b.wait_for("目視モードにする");
    b.click("#audit-link");
    let audit = b.wait_for("visual-check-used");
    for event in ["console-login", "visual-check-on", "visual-check-used"] {
        assert!(audit.contains(event), "{event} not in the audit view");
    }
    b.screenshot("console-audit.png");
}

#[test]
fn another_user_cannot_reach_the_control_socket() {
    // Only meaningful when this test can become another user.
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if !root || !std::path::Path::new("/usr/bin/setpriv").exists() {
        eprintln!("skipped: needs root and setpriv to run a client as another user");
        return;
    }
    let w = world();
    // Let everyone through the test's own folders (only those), so only
    // the socket's own mode decides.
    use std::os::unix::fs::PermissionsExt;
    for dir in [w._dir.path().to_path_buf(), w._dir.path().join("work")] {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let socket = w.rig.socket.display().to_string();
    let as_nobody = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(mynareader_tests::binary("mynareader"))
        .args(["staff", "status", "--control", &socket])
        .output()
        .unwrap();
    assert!(!as_nobody.status.success(), "nobody reached the kiosk");
    let words = String::from_utf8_lossy(&as_nobody.stderr);
    assert!(words.contains("ermission denied"), "{words}");
    // The owner can (positive control).
    let as_owner = std::process::Command::new(mynareader_tests::binary("mynareader"))
        .args(["staff", "status", "--control", &socket])
        .output()
        .unwrap();
    assert!(
        as_owner.status.success(),
        "{}",
        String::from_utf8_lossy(&as_owner.stderr)
    );
}

#[test]
fn consent_answered_aloud_is_relayed_by_staff_and_recorded_as_theirs() {
    let w = world();
    let cookie = session(&w);
    let (_, page) = get(&w, "/", &cookie);
    assert!(
        !page.contains("同意の代理入力"),
        "only while the consent screens are up"
    );
    let token = csrf(&page);
    let relay = |token: &str| {
        w.http
            .post(format!("{}/consent", w.base))
            .header("cookie", &cookie)
            .form(&[
                ("csrf", token),
                ("topic-operation", "agree"),
                ("topic-diagnosis-and-medication", "decline"),
            ])
            .send()
            .unwrap()
            .status()
    };
    let card = SharedCard::new(&personality(SERIAL, "4826")).unwrap();
    w.rig.place(&card).unwrap();
    let mut reader = w.rig.reader_control().unwrap();
    reader.wait_for("PinEntry").unwrap();
    reader.enter_pin("4826").unwrap();
    reader.wait_for("ConsentOverview").unwrap();
    let (_, page) = get(&w, "/", &cookie);
    assert!(page.contains("同意の代理入力"), "{page}");
    assert!(page.contains("手術の情報"));
    assert_eq!(relay("wrong"), StatusCode::FORBIDDEN);
    assert_eq!(relay(&token), StatusCode::SEE_OTHER);
    reader.wait_for("Done").unwrap();
    w.rig.take().unwrap();
    reader.wait_for("Idle").unwrap();
    assert_eq!(w.rig.wait_outbox_empty(Duration::from_secs(10)), 0);
    assert_eq!(
        w.rig.received()["consent"].as_array().map(Vec::len),
        Some(1)
    );
    let (_, audit) = get(&w, "/audit", &cookie);
    assert!(audit.contains("consent-relayed"), "{audit}");
    assert!(
        audit.contains("operation=1 diagnosis-and-medication=0"),
        "{audit}"
    );
}

#[test]
fn the_console_mirrors_the_reader_screen_pixel_for_pixel() {
    let w = world();
    assert_eq!(
        w.http
            .get(format!("{}/screen.png", w.base))
            .send()
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED,
        "no picture without a session"
    );
    let cookie = session(&w);
    // A card with one PIN try left: the warning before the pad is a screen
    // the mirror shows as the reader does (this kiosk has no face path, so
    // no choice of method comes first).
    let mut one_try = personality(SERIAL, "4826");
    one_try.auth_pin_tries = 1;
    let card = SharedCard::new(&one_try).unwrap();
    w.rig.place(&card).unwrap();
    let mut reader = w.rig.reader_control().unwrap();
    reader.wait_for("PinLastTry").unwrap();
    let shot = w._dir.path().join("reader.png");
    assert!(reader
        .ask(&format!("screenshot {}", shot.display()))
        .unwrap()
        .starts_with("ok"));
    let response = w
        .http
        .get(format!("{}/screen.png", w.base))
        .header("cookie", &cookie)
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/png");
    let mirror = image::load_from_memory(&response.bytes().unwrap())
        .unwrap()
        .to_rgb8();
    let on_reader = image::open(&shot).unwrap().to_rgb8();
    assert_eq!(mirror.dimensions(), on_reader.dimensions());
    assert!(
        mirror == on_reader,
        "the mirror differs from the reader's screen"
    );
    // On the PIN pad the mirror shows the pad in phone order, not the
    // patient's shuffled one.
    reader.tap("confirm").unwrap();
    reader.wait_for("PinEntry").unwrap();
    let state = reader.ask("state").unwrap();
    assert!(
        !state.contains("pad=1234567890"),
        "the reader's pad is shuffled: {state}"
    );
    assert!(reader
        .ask(&format!("screenshot {}", shot.display()))
        .unwrap()
        .starts_with("ok"));
    let pad_on_reader = image::open(&shot).unwrap().to_rgb8();
    let pad_mirror = w
        .http
        .get(format!("{}/screen.png", w.base))
        .header("cookie", &cookie)
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    let pad_mirror = image::load_from_memory(&pad_mirror).unwrap().to_rgb8();
    assert!(
        pad_mirror != pad_on_reader,
        "the console must not show the patient's shuffled pad"
    );
    let (_, page) = get(&w, "/", &cookie);
    assert!(page.contains("id=\"mirror\""), "{page}");
}
