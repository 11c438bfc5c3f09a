//! The console's pages (maud: every value is escaped by construction).
//! Japanese first; `?lang=en` for English.

use maud::{html, Markup, DOCTYPE};

use super::session::Session;
use super::Lang;
use crate::control::KioskStatus;
use crate::staff::{AuditEntry, ChainBreak};
use myna_upstream::messages::VisualReason;

/// Why a login was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Wrong id or password.
    Refused,
    /// Locked (by the CLI's lockout: the console's own guesses never lock).
    Locked,
    /// Too many wrong passwords from this computer: wait this many seconds.
    Wait(i64),
}

fn problem_words(lang: Lang, problem: Problem) -> String {
    match problem {
        Problem::Refused => t(
            lang,
            "職員IDまたはパスワードが違います",
            "Wrong staff id or password",
        )
        .into(),
        Problem::Locked => t(
            lang,
            "このアカウントはロックされています。しばらくしてからお試しください",
            "This account is locked; try again later",
        )
        .into(),
        Problem::Wait(secs) => match lang {
            Lang::Ja => {
                format!("パスワードを何度も間違えたため、{secs}秒後にもう一度お試しください")
            }
            Lang::En => format!("Too many wrong passwords: try again in {secs} s"),
        },
    }
}

fn t(lang: Lang, ja: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Ja => ja,
        Lang::En => en,
    }
}

const STYLE: &str = "
body { font-family: 'BIZ UDGothic', 'Noto Sans CJK JP', sans-serif; margin: 0; background: #f4f6f9; color: #111; }
header { background: #0a3d8f; color: #fff; padding: 12px 24px; display: flex; justify-content: space-between; align-items: center; }
header a, header button { color: #fff; }
main { padding: 16px 24px; max-width: 980px; }
section { background: #fff; border-radius: 8px; padding: 12px 20px; margin-bottom: 16px; box-shadow: 0 1px 3px rgba(0,0,0,.15); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #dde; font-size: 15px; }
.on { color: #fff; background: #b00020; padding: 2px 10px; border-radius: 4px; }
.off { color: #0a3d8f; }
.alert { border-left: 6px solid #b00020; padding: 6px 10px; margin: 6px 0; background: #fff5f5; }
.error { color: #b00020; font-weight: bold; }
button { font-size: 16px; padding: 8px 18px; border-radius: 6px; border: 1px solid #0a3d8f; background: #0a3d8f; color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: #0a3d8f; }
select, input { font-size: 16px; padding: 6px; }
label { display: block; margin: 8px 0 4px; }
";

fn frame(
    lang: Lang,
    title: &str,
    session: Option<&Session>,
    refresh: Option<&str>,
    body: Markup,
) -> Markup {
    let other = match lang {
        Lang::Ja => ("?lang=en", "English"),
        Lang::En => ("?", "日本語"),
    };
    html! {
        (DOCTYPE)
        html lang=(t(lang, "ja", "en")) {
            head {
                meta charset="utf-8";
                @if let Some(url) = refresh { meta http-equiv="refresh" content=(format!("5;url={url}")); }
                title { (title) }
                style { (STYLE) }
            }
            body {
                header {
                    strong { (t(lang, "マイナ保険証 受付 — 職員画面", "My Number reception — staff console")) }
                    div {
                        a href=(other.0) { (other.1) }
                        @if let Some(session) = session {
                            " · " (session.staff) " · "
                            form method="post" action="/logout" style="display:inline" {
                                input type="hidden" name="csrf" value=(session.csrf);
                                button.secondary type="submit" id="logout" { (t(lang, "ログアウト", "Log out")) }
                            }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// The login page; `token` belongs to the pre-login cookie sent with it.
pub fn login(lang: Lang, token: &str, problem: Option<Problem>) -> Markup {
    frame(
        lang,
        t(lang, "ログイン", "Log in"),
        None,
        None,
        html! {
            section {
                h2 { (t(lang, "職員ログイン", "Staff login")) }
                @if let Some(problem) = problem {
                    p.error id="problem" { (problem_words(lang, problem)) }
                }
                form method="post" action="/login" {
                    input type="hidden" name="csrf" value=(token);
                    input type="hidden" name="lang" value=(t(lang, "ja", "en"));
                    label for="staff" { (t(lang, "職員ID", "Staff id")) }
                    input id="staff" name="staff" autocomplete="username" required maxlength="32";
                    label for="password" { (t(lang, "パスワード", "Password")) }
                    input id="password" name="password" type="password" autocomplete="current-password" required;
                    p { button type="submit" id="login" { (t(lang, "ログイン", "Log in")) } }
                }
            }
        },
    )
}

/// A refused state change.
pub fn forbidden() -> Markup {
    html! {
        (DOCTYPE)
        html { body { p.error { "操作を受け付けられませんでした（画面を開き直してください） / Refused: reload the page and try again" } } }
    }
}

/// A refused password on a signed-in page.
pub fn refused(lang: Lang, problem: Problem) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(t(lang, "ja", "en")) { body {
            p.error id="problem" { (problem_words(lang, problem)) }
            p { a href=(t(lang, "/", "/?lang=en")) { (t(lang, "戻る", "Back")) } }
        } }
    }
}

/// A change the kiosk did not make, and why (its words).
pub fn not_done(lang: Lang, why: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(t(lang, "ja", "en")) { body {
            p.error id="problem" { (t(lang, "受付機が実行しませんでした：", "The kiosk did not do it: ")) (why) }
            p { a href=(t(lang, "/", "/?lang=en")) { (t(lang, "戻る", "Back")) } }
        } }
    }
}

/// The hidden fields every change form posts: the session's CSRF token
/// and the page's language (the answer comes back in it).
fn form_fields(session: &Session, lang: Lang) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(session.csrf);
        input type="hidden" name="lang" value=(t(lang, "ja", "en"));
    }
}

/// What staff read for each reason (the code is the reason's own).
fn reason_words(reason: VisualReason) -> (&'static str, &'static str) {
    match reason {
        VisualReason::FaceUnavailable => ("顔認証ができない", "Face recognition not possible"),
        VisualReason::PinForgotten => ("暗証番号を忘れた", "PIN forgotten"),
        VisualReason::DifficultToVisit => ("来所が困難", "Difficult to visit"),
        VisualReason::Unwell => ("体調不良", "Unwell"),
        VisualReason::Cognitive => ("認知機能の低下", "Cognitive decline"),
        VisualReason::Other => ("その他", "Other"),
    }
}

fn topic_words(lang: Lang, code: &str) -> &'static str {
    match code {
        "operation" => t(lang, "手術の情報", "Operations"),
        "diagnosis-and-medication" => t(
            lang,
            "手術以外の診療・お薬の情報",
            "Other care and medicines",
        ),
        "specific-health-checkup" => t(lang, "特定健診等の情報", "Specific health checkups"),
        _ => "?",
    }
}

/// The dashboard: status, the reader's screen, 目視, alerts (`status`:
/// `None` when the kiosk did not answer).
pub fn home(lang: Lang, session: &Session, status: Option<&KioskStatus>) -> Markup {
    let visual = status.is_some_and(|s| s.visual_check);
    let alerts = status.map_or(&[][..], |s| &s.alerts[..]);
    frame(
        lang,
        t(lang, "職員画面", "Staff console"),
        Some(session),
        Some(t(lang, "/?auto=1", "/?auto=1&lang=en")),
        html! {
            @if status.is_none() {
                section { p.error { (t(lang, "受付機（kiosk）が応答しません", "The kiosk does not answer")) } }
            }
            section {
                h2 { (t(lang, "状態", "Status")) }
                table {
                    tr { th { (t(lang, "読み取り機の画面", "Reader screen")) } td id="screen" { (status.map_or("?", |s| s.screen)) } }
                    tr { th { (t(lang, "受付", "Reception")) } td { (if status.is_some_and(|s| s.in_reception) { t(lang, "受付中", "under way") } else { t(lang, "なし", "none") }) } }
                    tr { th { (t(lang, "目視モード", "Visual check")) } td id="visual" {
                        @if visual {
                            span.on { (t(lang, "オン（次の1回の受付のみ）", "ON (next reception only)")) }
                            @if let Some(left) = status.and_then(|s| s.visual_check_left_secs) {
                                " " span id="visual-left" { (t(lang, "カードが置かれないまま ", "withdrawn in ")) (left / 60) ":" (format!("{:02}", left % 60)) (t(lang, " で取り消されます", " unless a card is placed")) }
                            }
                        } @else { span.off { (t(lang, "オフ", "off")) } }
                    } }
                    tr { th { (t(lang, "読み取り機", "Reader")) } td { (if status.is_some_and(|s| s.reader_up) { t(lang, "接続中", "connected") } else { t(lang, "応答なし", "NOT ANSWERING") }) } }
                    tr { th { (t(lang, "未送信メッセージ", "Outbox")) } td { (status.map_or_else(|| "?".to_string(), |s| s.outbox_pending.to_string())) } }
                }
            }
            section {
                h2 { (t(lang, "読み取り機の画面", "The reader's screen")) }
                img id="mirror" src=(t(lang, "/screen.png", "/screen.png?lang=en")) width="400" height="240"
                    alt=(t(lang, "読み取り機に表示中の画面", "What the reader shows now"));
            }
            section {
                h2 { (t(lang, "目視による本人確認", "Visual identity check (目視)")) }
                p { (t(lang, "顔と券面の写真を見比べて本人と確認したときに、次の1回の受付を目視モードにします。暗証番号・照合番号Bの回数は変わりません。", "After comparing the face with the card photo yourself, switch the next reception to visual check. No PIN or 照合番号B counter changes.")) }
                form method="post" action="/visual-check" {
                    (form_fields(session, lang))
                    @if visual {
                        input type="hidden" name="state" value="off";
                        button.secondary type="submit" id="visual-off" { (t(lang, "目視モードを取り消す", "Switch visual check off")) }
                    } @else {
                        input type="hidden" name="state" value="on";
                        label for="reason" { (t(lang, "理由", "Reason")) }
                        select id="reason" name="reason" {
                            @for reason in VisualReason::ALL { @let (ja, en) = reason_words(reason); option value=(reason.code()) { (t(lang, ja, en)) } }
                        }
                        label for="visual-password" { (t(lang, "あなたのパスワード（確認のため）", "Your password (to confirm)")) }
                        input id="visual-password" name="password" type="password" autocomplete="current-password" required;
                        " "
                        button type="submit" id="visual-on" { (t(lang, "目視モードにする", "Switch visual check on")) }
                    }
                }
            }
            section {
                h2 { (t(lang, "文字の大きさ", "Text size")) }
                p { (t(lang, "読みにくそうな患者さんのために、この受付のあいだ読み取り機の文字を大きくします。カードを取ると元に戻ります。", "For a patient who finds the reader hard to read: larger text on the reader for this reception. It goes back when the card is taken.")) }
                form method="post" action="/large-text" {
                    (form_fields(session, lang))
                    button type="submit" name="state" value="on" id="large-on" { (t(lang, "文字を大きくする", "Larger text")) }
                    " "
                    button.secondary type="submit" name="state" value="off" id="large-off" { (t(lang, "元に戻す", "Normal text")) }
                }
            }
            @if let Some(topics) = status.and_then(|s| s.consent_topics.as_ref()) {
                section {
                    h2 { (t(lang, "同意の代理入力", "Relay consent")) }
                    p { (t(lang, "読み取り機を操作できない患者さんが口頭で答えたときに、その答えを入力します。記録には入力した職員が残ります。", "When a patient who cannot reach the reader answers aloud, enter the answers here; the record names you.")) }
                    form method="post" action="/consent" {
                        (form_fields(session, lang))
                        @for code in topics {
                            label for=(format!("topic-{code}")) { (topic_words(lang, code)) }
                            select id=(format!("topic-{code}")) name=(format!("topic-{code}")) {
                                option value="decline" { (t(lang, "同意しない", "Decline")) }
                                option value="agree" { (t(lang, "同意する", "Agree")) }
                            }
                        }
                        p { button type="submit" id="relay" { (t(lang, "この答えで記録する", "Record these answers")) } }
                    }
                }
            }
            section {
                h2 { (t(lang, "お知らせ", "Alerts")) }
                @if alerts.is_empty() { p { (t(lang, "ありません", "None")) } }
                @for alert in alerts.iter().rev() {
                    div.alert {
                        strong { (alert.code) } " — " (alert.words)
                    }
                }
            }
            p { a href=(t(lang, "/audit", "/audit?lang=en")) id="audit-link" { (t(lang, "監査ログを見る", "Audit trail")) } }
        },
    )
}

/// The audit trail, newest first, with the chain's verdict.
pub fn audit(
    lang: Lang,
    session: &Session,
    entries: &[AuditEntry],
    verdict: Option<Result<i64, ChainBreak>>,
) -> Markup {
    frame(
        lang,
        t(lang, "監査ログ", "Audit trail"),
        Some(session),
        None,
        html! {
            section {
                h2 { (t(lang, "監査ログ", "Audit trail")) }
                @match &verdict {
                    Some(Ok(n)) => p id="chain" { (t(lang, "改ざんは検出されませんでした：", "Chain sound: ")) (n) }
                    Some(Err(broken)) => p.error id="chain" { (broken.to_string()) }
                    None => p.error id="chain" { (t(lang, "確認できませんでした", "Could not be checked")) }
                }
                table id="trail" {
                    tr { th { "#" } th { (t(lang, "時刻(UTC)", "Time (UTC)")) } th { (t(lang, "職員", "Staff")) } th { (t(lang, "出来事", "Event")) } th { (t(lang, "結果", "Outcome")) } th { (t(lang, "詳細", "Detail")) } }
                    @for e in entries.iter().rev() {
                        tr {
                            td { (e.seq) }
                            td { (time::OffsetDateTime::from_unix_timestamp(e.at).map(|t| format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", t.year(), t.month() as u8, t.day(), t.hour(), t.minute(), t.second())).unwrap_or_default()) }
                            td { (e.staff) } td { (e.event) } td { (e.outcome) } td { (e.detail) }
                        }
                    }
                }
                p { a href=(t(lang, "/", "/?lang=en")) { (t(lang, "戻る", "Back")) } }
            }
        },
    )
}
