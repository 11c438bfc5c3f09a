//! The certificate's expiry rules, as dates: when the patient is told, when
//! the card is refused, and when registration is not offered.
//!
//! The grace period follows the national rule as MHLW words it for マイナ保険証:
//! after the 利用者証明用電子証明書 expires, the qualification can still be
//! confirmed "until the end of the month in which three months have passed
//! since the expiry date" (有効期限の3か月後の月末まで). That wording comes from
//! one source here, so the rule is a setting ([`GraceRule`]) with the month-end
//! reading as the default and plain three calendar months as the other.

use time::{Date, Duration, Month};

/// How the 3-month grace after the certificate's `notAfter` is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GraceRule {
    /// Until the end of the month three months after expiry (default).
    #[default]
    EndOfThirdMonth,
    /// Until the same day three calendar months after expiry.
    ThreeCalendarMonths,
}

/// Where a certificate stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryStatus {
    /// More than 3 months before expiry: nothing to say.
    Valid,
    /// Within 3 months before expiry: tell the patient, carry on.
    ExpiresSoon,
    /// Expired, inside the grace: tell the patient; only the qualification
    /// is confirmed (no consent, no registration).
    InGrace,
    /// Expired beyond the grace: refused.
    Refused,
}

/// The same day `months` calendar months later (clamped to the month's end).
fn add_months(date: Date, months: i32) -> Date {
    let index = date.year() * 12 + (date.month() as i32 - 1) + months;
    let (year, month0) = (index.div_euclid(12), index.rem_euclid(12));
    let month = Month::try_from((month0 + 1) as u8).unwrap_or(Month::December);
    let last = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, date.day().min(last)).unwrap_or(date)
}

/// The last day the qualification may still be confirmed after expiry.
pub fn grace_end(not_after: Date, rule: GraceRule) -> Date {
    let three_months = add_months(not_after, 3);
    match rule {
        GraceRule::ThreeCalendarMonths => three_months,
        GraceRule::EndOfThirdMonth => {
            let last = time::util::days_in_month(three_months.month(), three_months.year());
            three_months.replace_day(last).unwrap_or(three_months)
        }
    }
}

/// Where the certificate expiring on `not_after` stands `today`.
pub fn status(not_after: Date, today: Date, rule: GraceRule) -> ExpiryStatus {
    if today > grace_end(not_after, rule) {
        ExpiryStatus::Refused
    } else if today > not_after {
        ExpiryStatus::InGrace
    } else if today >= add_months(not_after, -3) {
        ExpiryStatus::ExpiresSoon
    } else {
        ExpiryStatus::Valid
    }
}

/// Registration for health-insurance use is not offered in the grace period
/// nor within 5 days of expiry (the card could not be used by the time the
/// application is processed).
pub fn registration_allowed(not_after: Date, today: Date) -> bool {
    today + Duration::days(5) < not_after
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A date in tests.
    pub(crate) fn d(year: i32, month: u8, day: u8) -> Date {
        Date::from_calendar_date(year, Month::try_from(month).unwrap(), day).unwrap()
    }

    #[test]
    fn the_notice_window_and_the_grace_follow_the_calendar() {
        let exp = d(2026, 11, 30);
        let rule = GraceRule::EndOfThirdMonth;
        assert_eq!(status(exp, d(2026, 8, 29), rule), ExpiryStatus::Valid);
        assert_eq!(status(exp, d(2026, 8, 30), rule), ExpiryStatus::ExpiresSoon);
        assert_eq!(status(exp, exp, rule), ExpiryStatus::ExpiresSoon);
        assert_eq!(status(exp, d(2026, 12, 1), rule), ExpiryStatus::InGrace);
        // Three months later is 2027-02-28; its month ends that day.
        assert_eq!(status(exp, d(2027, 2, 28), rule), ExpiryStatus::InGrace);
        assert_eq!(status(exp, d(2027, 3, 1), rule), ExpiryStatus::Refused);
    }

    #[test]
    fn month_end_and_calendar_months_differ_mid_month() {
        let exp = d(2026, 1, 10);
        assert_eq!(
            grace_end(exp, GraceRule::ThreeCalendarMonths),
            d(2026, 4, 10)
        );
        assert_eq!(grace_end(exp, GraceRule::EndOfThirdMonth), d(2026, 4, 30));
        let day = d(2026, 4, 20);
        assert_eq!(
            status(exp, day, GraceRule::EndOfThirdMonth),
            ExpiryStatus::InGrace
        );
        assert_eq!(
            status(exp, day, GraceRule::ThreeCalendarMonths),
            ExpiryStatus::Refused
        );
        // 31st of a month: clamped, never an invalid date.
        assert_eq!(add_months(d(2026, 5, 31), 3), d(2026, 8, 31));
        assert_eq!(add_months(d(2026, 11, 30), 3), d(2027, 2, 28));
        assert_eq!(add_months(d(2027, 5, 31), -3), d(2027, 2, 28));
    }

    #[test]
    fn registration_stops_five_days_before_expiry() {
        let exp = d(2027, 1, 20);
        assert!(registration_allowed(exp, d(2027, 1, 14)));
        assert!(!registration_allowed(exp, d(2027, 1, 15)));
        assert!(!registration_allowed(exp, d(2027, 2, 1)));
    }
}
