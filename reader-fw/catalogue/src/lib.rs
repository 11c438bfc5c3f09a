//! `myna-catalogue`: every string a patient can see on the reader, in one
//! place, per language, and the words of each face hint. The firmware's
//! layout code names a [`Text`] and never holds words, so a language is
//! added here alone; the host quotes the same words in its logs and the
//! font generator rasterises exactly the characters used here
//! ([`all_texts`], [`extra_chars`]). `no_std`, no allocator.
//!
//! A `\n` marks where a line should break if it breaks at all (at a
//! phrase boundary, as Japanese is read); the layout wraps further only
//! when a line is still too wide.
//!
//! [`speech`] holds what the reader says: the spoken clips, made of these
//! strings and of spoken-only words (the parts numbers are joined from).
#![no_std]

use myna_link::FaceHint;

pub mod speech;

/// A display language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// 日本語 (the default).
    Ja,
    /// English.
    En,
}

impl Lang {
    /// Every language in the catalogue.
    pub const ALL: [Lang; 2] = [Lang::Ja, Lang::En];
}

macro_rules! catalogue {
    ($( $(#[$doc:meta])* $id:ident => $ja:literal, $en:literal; )*) => {
        /// A string of the catalogue.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Text { $( $(#[$doc])* $id, )* }

        impl Text {
            /// Every string, for the glyph-coverage and fit checks.
            pub const ALL: &'static [Text] = &[ $( Text::$id, )* ];

            /// The words in `lang`.
            pub fn get(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $( (Text::$id, Lang::Ja) => $ja, (Text::$id, Lang::En) => $en, )*
                }
            }
        }
    };
}

catalogue! {
    /// Header when no mode is on.
    Header => "マイナ保険証 受付", "My Number Card check-in";
    /// The 目視 banner.
    VisualBanner => "目視確認モード", "Visual check by staff";
    IdleTitle => "マイナンバーカードを\nケースから出して、\nここに置いてください",
        "Take your My Number Card\nout of its case\nand place it here";
    IdleOrientation => "顔写真の面を上に", "Photo side up";
    IdlePrivacy => "お顔の画像は照合だけに使い、この機械には保存しません",
        "Your face image is only used for matching, never stored";
    Reading => "読み取っています。\nカードを動かさないでください",
        "Reading your card.\nPlease do not move it";
    ReadError => "カードを読み取れませんでした。", "The card could not be read.";
    /// After [`Text::ReadError`] while misreads are below 3 only.
    PlaceAgain => "置き直してください", "Please place it again";
    AskStaff => "受付の職員にお声がけください", "Please ask the reception staff";
    /// On every screen that ends a session: the clinic never keeps the card.
    TakeCard => "カードをお取りください", "Please take your card";
    NotMyNumberCard => "このカードは\nマイナンバーカードではありません",
        "This card is not\na My Number Card.";
    HandToStaff => "資格確認書などは\n受付の職員にお渡しください",
        "Please hand it\nto the reception staff";
    /// Followed by the date and [`Text::ExpiryAfter`].
    ExpiryBefore => "電子証明書の有効期限は", "Your certificate expires on";
    ExpiryAfter => "です。\nお住まいの市区町村で\n更新してください",
        ".\nPlease renew it at\nyour city office";
    /// In the grace period: followed by the date and [`Text::ExpiredAfter`].
    ExpiredBefore => "電子証明書の有効期限が", "Your certificate expired on";
    ExpiredAfter => "に切れました。\nお住まいの市区町村で\n無料で更新できます",
        ".\nYou can renew it free of charge\nat your city office";
    ExpiryGrace => "期限後3か月間は保険証として使えます",
        "Works for insurance 3 months past expiry";
    ExpiredRefused => "電子証明書の有効期限が\n過ぎているため、\nこのカードでは受付できません。",
        "The card's certificate has expired,\nso this card cannot be used.";
    ChooseMethod => "本人確認の方法を\n選んでください", "How would you like\nto confirm it is you?";
    FaceOnlyMethod => "顔認証で\n本人確認をします", "We will confirm it is you\nby your face";
    Face => "顔認証", "Face";
    Pin => "暗証番号", "PIN";
    FaceCaptureTitle => "枠の中に\nお顔を合わせてください", "Fit your face\nin the frame";
    HintFaceTheFrame => "枠の中に\nお顔を合わせてください", "Fit your face in the frame";
    HintOneFaceOnly => "お一人でカメラの前に\nお立ちください", "Only one person at the camera, please";
    HintMoveCloser => "もう少し近づいてください", "Come a little closer";
    HintMoveBack => "もう少し離れてください", "Move back a little";
    HintFaceForward => "まっすぐカメラの方を\n向いてください", "Look straight at the camera";
    HintFaceTheLight => "明るい方を向いてください", "Face towards the light";
    HintAvoidGlare => "まぶしい光を\n避けてください", "Avoid bright glare";
    HintHoldStill => "少しの間、\n動かないでください", "Hold still for a moment";
    HintRemoveMask => "マスクを外すか、\n少し下げてください", "Take off or lower your mask";
    HintRemoveHat => "帽子を取ってください", "Take off your hat";
    HintRemoveGlasses => "メガネを外してください", "Take off your glasses";
    StopButton => "やめる", "Stop";
    FaceFailed => "顔認証できませんでした", "Face check did not succeed";
    PinInstead => "暗証番号で確認", "Use PIN";
    CallStaff => "職員を呼ぶ", "Call staff";
    /// Above the pad after a wrong try.
    PinWrong => "暗証番号が違います", "Wrong PIN";
    PinTitle => "暗証番号(数字4桁)を\n入力してください", "Enter your\n4-digit PIN";
    PinWho => "ご本人または法定代理人が\n入力してください",
        "For the cardholder or\ntheir legal representative";
    /// Followed by the count and [`Text::TriesAfter`].
    TriesBefore => "あと", "";
    TriesAfter => "回", "tries left";
    TryAfterOne => "回", "try left";
    PinShuffled => "番号の位置は毎回変わります", "The keys move every time";
    PinCancel => "取消", "Cancel";
    PinCorrect => "訂正", "Delete";
    PinLastTry => "次に間違えるとロックされ、\n市区町村の窓口で\n手続きが必要になります",
        "One more wrong PIN will lock\nthe card. You would then need\nto go to your city office";
    EnterPin => "入力する", "Enter PIN";
    StopAndCallStaff => "やめて職員を呼ぶ", "Stop, call staff";
    PinLocked => "暗証番号がロックされています。\nお住まいの市区町村の窓口で\n再設定できます",
        "Your PIN is locked.\nYou can have it reset\nat your city office";
    VisualCheck => "職員がお顔とカードの写真を\n確認しました", "The staff have checked\nyour face against the card";
    Next => "次へ", "Next";
    Confirm => "確認", "OK";
    Processing => "確認しています。\nしばらくお待ちください", "Checking.\nPlease wait a moment";
    StaffComing => "職員が参ります。\nそのままお待ちください", "A staff member is coming.\nPlease wait here";
    RegistrationDone => "申込みを受け付けました。\n本日の受付を続けます", "Your registration was accepted.\nCheck-in continues today";
    Registration => "マイナンバーカードを\n健康保険証として使う\n申込みをしますか",
        "Would you like to register\nyour card for use as\na health insurance card?";
    Apply => "申込む", "Register";
    DontApply => "申込まずに終了", "Finish without";
    ConsentOverview => "過去の医療情報等を当機関に\n提供することに同意しますか",
        "Share your past medical\ninformation with this clinic?";
    /// What 「全て同意する」 covers.
    ConsentCovers => "【手術／診療・お薬／健診】", "Surgery / Treatment, medicine / Check-ups";
    ConsentPurpose => "この情報はあなたの診察や\n健康管理のために使用します",
        "It is used for your treatment\nand your health care";
    AgreeAll => "全て同意する", "Agree to all";
    OneByOne => "個別に同意する", "Choose one by one";
    ConsentFooter => "同意しなくても保険診療は受けられます",
        "Insurance treatment is not affected if you decline";
    ConsentOperation => "手術の情報", "Surgery";
    ConsentOperationQuestion => "過去の手術の情報を\n当機関に提供することに同意しますか",
        "Share your past surgery\ninformation with this clinic?";
    ConsentDiagnosis => "手術以外の診療・お薬の情報", "Treatment and medicine";
    ConsentDiagnosisQuestion => "過去の手術以外の診療・お薬の情報を\n当機関に提供することに同意しますか",
        "Share past treatment and medicine\ninformation with this clinic?";
    ConsentCheckup => "特定健診等の情報", "Specific health check-ups";
    ConsentCheckupQuestion => "過去の特定健診等の情報を\n当機関に提供することに同意しますか",
        "Share your past health check-up\ninformation with this clinic?";
    Agree => "同意する", "Agree";
    Disagree => "同意しない", "Do not agree";
    Done => "受付が完了しました。\nカードをお取りください", "Check-in complete.\nPlease take your card";
    WaitToBeCalled => "お呼びするまでお待ちください", "Please wait until you are called";
    /// After the name in kana.
    Honorific => "様", "";
    /// On `SeeStaff`: fallbacks exist, so no fear of paying in full.
    InsuredCare => "保険診療は受けられます", "You can still be treated\nunder your health insurance";
    OutOfService => "ただいまこの機械は使えません。", "This machine is out of service.";
    // Issue 12, protocol 4 (appended; the order above is unchanged).
    /// The `Idle` button that switches large-text mode on.
    LargeTextOn => "文字を大きく", "Larger text";
    /// The same button while large-text mode is on.
    LargeTextOff => "文字を元に戻す", "Normal text";
    /// What 「全て同意する」 covers when the 特定健診 item does not apply.
    ConsentCoversNoCheckup => "【手術／診療・お薬】", "Surgery / Treatment, medicine";
    /// Heading of the registration's terms of use (followed by the page).
    TermsTitle => "利用規約", "Terms of use";
    /// The terms of use, page 1 of [`TERMS_PAGES`]. A summary drawn only
    /// from what the design documents state (SCREENS.md, UPSTREAM.md);
    /// the official text replaces it here, nowhere else.
    TermsPage1 => "この申込みをすると、\nマイナンバーカードを\n健康保険証として使えます。\n医療機関や薬局では、カードの\n電子証明書で資格を確認します。",
        "With this registration, your\nMy Number Card can be used as\nyour health insurance card.\nClinics and pharmacies check your\ninsurance with the card's certificate.";
    /// Page 2.
    TermsPage2 => "過去の医療情報等を\n当機関に提供するかどうかは、\nその都度ご本人が選びます。\n同意しなくても\n保険診療は受けられます。",
        "Each time, you choose whether\nto share your past medical\ninformation with the clinic.\nInsurance treatment is not\naffected if you decline.";
    /// Page 3.
    TermsPage3 => "お顔の画像は照合だけに使い、\nこの機械には保存しません。\n申込まない場合は、\n資格確認書などで受診できます。\n詳しくは受付の職員にお尋ねください。",
        "Your face image is only used for\nmatching, never stored here.\nWithout registering, you can be\nseen with an eligibility certificate.\nAsk the reception staff for details.";
    /// Back one page.
    Previous => "前へ", "Back";
    // Large-text mode: fewer words for the main line of a screen
    // ([`large`]), drawn in the largest type.
    LargeIdle => "カードを\nここに置いて\nください", "Place your\ncard here";
    LargeReading => "読み取り中です。\n動かさないでください", "Reading.\nDo not move the card";
    LargeChooseMethod => "確認の方法を\n選んでください", "How to\ncheck it is you?";
    LargeFaceCapture => "枠に\nお顔を", "Face in\nthe frame";
    LargeProcessing => "確認中です。\nお待ちください", "Checking.\nPlease wait";
    LargeDone => "受付完了です。\nカードをお取りください", "Done.\nPlease take your card";
    LargeStaffComing => "職員が参ります。\nお待ちください", "Staff are coming.\nPlease wait";
    LargeConsentOverview => "医療情報の提供に\n同意しますか", "Share your\nmedical records?";
    LargeRegistration => "保険証として使う\n申込みをしますか", "Use this card as\ninsurance card?";
    LargeAskStaff => "職員にお声がけください", "Please ask the staff";
}

/// Pages of the registration's terms of use.
pub const TERMS_PAGES: u8 = 3;

/// The text of terms page `page` (1-based); `None` outside 1..=[`TERMS_PAGES`].
pub fn terms_page(page: u8) -> Option<Text> {
    match page {
        1 => Some(Text::TermsPage1),
        2 => Some(Text::TermsPage2),
        3 => Some(Text::TermsPage3),
        _ => None,
    }
}

/// Large-text mode's shorter words for `text`, where it has them (the
/// main line of a screen); otherwise `text` itself.
pub fn large(text: Text) -> Text {
    match text {
        Text::IdleTitle => Text::LargeIdle,
        Text::Reading => Text::LargeReading,
        Text::ChooseMethod => Text::LargeChooseMethod,
        Text::FaceCaptureTitle => Text::LargeFaceCapture,
        Text::Processing => Text::LargeProcessing,
        Text::Done => Text::LargeDone,
        Text::StaffComing => Text::LargeStaffComing,
        Text::ConsentOverview => Text::LargeConsentOverview,
        Text::Registration => Text::LargeRegistration,
        Text::AskStaff => Text::LargeAskStaff,
        other => other,
    }
}

/// The strings large-text mode draws in its largest type: every shorter
/// variant of [`large`] and the button labels, in every language. The font
/// generator's largest font carries exactly these characters (and ASCII),
/// so it stays small in flash.
pub fn large_texts() -> impl Iterator<Item = &'static str> {
    const LARGE: &[Text] = &[
        Text::LargeIdle,
        Text::LargeReading,
        Text::LargeChooseMethod,
        Text::LargeFaceCapture,
        Text::LargeProcessing,
        Text::LargeDone,
        Text::LargeStaffComing,
        Text::LargeConsentOverview,
        Text::LargeRegistration,
        Text::LargeAskStaff,
    ];
    LARGE
        .iter()
        .flat_map(|text| Lang::ALL.into_iter().map(move |lang| text.get(lang)))
}

/// The words for a face hint; `None` for [`FaceHint::Other`] (a hint from
/// a newer peer that this catalogue has no words for).
pub fn hint_text(hint: FaceHint) -> Option<Text> {
    Some(match hint {
        FaceHint::FaceTheFrame => Text::HintFaceTheFrame,
        FaceHint::OneFaceOnly => Text::HintOneFaceOnly,
        FaceHint::MoveCloser => Text::HintMoveCloser,
        FaceHint::MoveBack => Text::HintMoveBack,
        FaceHint::FaceForward => Text::HintFaceForward,
        FaceHint::FaceTheLight => Text::HintFaceTheLight,
        FaceHint::AvoidGlare => Text::HintAvoidGlare,
        FaceHint::HoldStill => Text::HintHoldStill,
        FaceHint::RemoveMask => Text::HintRemoveMask,
        FaceHint::RemoveHat => Text::HintRemoveHat,
        FaceHint::RemoveGlasses => Text::HintRemoveGlasses,
        FaceHint::Other(_) => return None,
    })
}

/// Every catalogue string the firmware may draw: each [`Text`] in each
/// language, and the date words. With [`extra_chars`] (and, for the
/// simulator's card picture, [`CARD_FACE_WORDS`]) this is what the font
/// generator rasterises.
pub fn all_texts() -> impl Iterator<Item = &'static str> {
    let texts = Text::ALL
        .iter()
        .flat_map(|text| Lang::ALL.into_iter().map(move |lang| text.get(lang)));
    let dates = Lang::ALL.into_iter().flat_map(|lang| {
        let (y, m, d) = date_words(lang);
        [y, m, d]
    });
    texts.chain(dates)
}

/// Characters the kana name on `Done` may use: the katakana and hiragana
/// blocks, the long-vowel mark, spaces (ASCII and ideographic) and the
/// middle dot. The font carries all of them at the size the name is drawn.
pub fn is_name_char(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{3096}' | '\u{30A1}'..='\u{30FA}' | 'ー' | '・' | ' ' | '　')
}

/// The year/month/day words around a date.
pub fn date_words(lang: Lang) -> (&'static str, &'static str, &'static str) {
    match lang {
        Lang::Ja => ("年", "月", "日"),
        Lang::En => ("-", "-", ""),
    }
}

/// Every character the firmware may draw, beyond the catalogue: digits and
/// ASCII (dates, counts, English), the progress dots, and what the name may
/// hold. The font generator takes this plus every catalogue string.
pub fn extra_chars() -> impl Iterator<Item = char> {
    (' '..='~')
        .chain("●○年月日様".chars())
        .chain('\u{3041}'..='\u{3096}')
        .chain('\u{30A1}'..='\u{30FA}')
        .chain("ー・　".chars())
}

/// Words printed on the simulated card front (the card camera's picture in
/// `reader-sim`); the firmware never shows them, the font carries them so
/// the simulator can draw a card with the same typeface.
pub const CARD_FACE_WORDS: &[&str] = &[
    "個人番号カード",
    "氏名",
    "住所",
    "生年月日",
    "性別",
    "女",
    "男",
    "有効期限",
    "まで",
    "生",
    "セキュリティコード",
    "東京都千代田区霞が関一丁目",
    "番地",
    "昭和平成令和",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hint_has_words_and_other_has_none() {
        let hints = [
            FaceHint::FaceTheFrame,
            FaceHint::OneFaceOnly,
            FaceHint::MoveCloser,
            FaceHint::MoveBack,
            FaceHint::FaceForward,
            FaceHint::FaceTheLight,
            FaceHint::AvoidGlare,
            FaceHint::HoldStill,
            FaceHint::RemoveMask,
            FaceHint::RemoveHat,
            FaceHint::RemoveGlasses,
        ];
        for (i, hint) in hints.into_iter().enumerate() {
            let text = hint_text(hint);
            assert!(text.is_some(), "{hint:?}");
            // Each hint has its own words.
            for other in &hints[i + 1..] {
                assert_ne!(text, hint_text(*other), "{hint:?} {other:?}");
            }
        }
        assert_eq!(hint_text(FaceHint::Other(42)), None);
    }

    /// Strings that are empty in English on purpose (the word order puts
    /// nothing there).
    const EMPTY_IN_ENGLISH: [Text; 2] = [Text::TriesBefore, Text::Honorific];

    #[test]
    fn every_string_is_translated_into_english() {
        let kana = |c: char| matches!(c, '\u{3041}'..='\u{30FA}');
        for text in Text::ALL {
            let (ja, en) = (text.get(Lang::Ja), text.get(Lang::En));
            assert!(!ja.is_empty(), "{text:?}");
            if !EMPTY_IN_ENGLISH.contains(text) {
                assert!(!en.is_empty(), "{text:?} has no English");
            }
            // An English string is not a copy of the Japanese one (a
            // document's own name, like 資格確認書, may be quoted).
            assert!(!en.chars().any(kana), "{text:?}: kana in English: {en:?}");
        }
    }

    /// 限度額 information is provided without asking since 2024-10-07:
    /// no screen asks about it, and nothing says a patient who declines
    /// pays in full first (that was never true of the national flow).
    #[test]
    fn no_string_asks_about_the_payment_limit() {
        for text in Text::ALL {
            for lang in Lang::ALL {
                let s = text.get(lang);
                for banned in ["限度額", "全額", "pay in full", "Payment limit"] {
                    assert!(!s.contains(banned), "{text:?} {lang:?}: {s:?}");
                }
            }
        }
    }

    #[test]
    fn every_large_variant_is_shorter_and_every_terms_page_exists() {
        let chars = |s: &str| s.chars().filter(|c| *c != '\n').count();
        for text in Text::ALL {
            let short = large(*text);
            if short != *text {
                for lang in Lang::ALL {
                    assert!(
                        chars(short.get(lang)) < chars(text.get(lang)),
                        "{short:?} is not shorter than {text:?} in {lang:?}"
                    );
                    assert!(large_texts().any(|s| s == short.get(lang)));
                }
            }
        }
        for page in 1..=TERMS_PAGES {
            assert!(terms_page(page).is_some(), "page {page}");
        }
        assert_eq!(terms_page(0), None);
        assert_eq!(terms_page(TERMS_PAGES + 1), None);
    }

    #[test]
    fn all_texts_covers_every_string_in_every_language() {
        for text in Text::ALL {
            for lang in Lang::ALL {
                assert!(
                    all_texts().any(|s| s == text.get(lang)),
                    "{text:?} {lang:?}"
                );
            }
        }
        assert!(all_texts().any(|s| s == "年"));
        assert_eq!(
            all_texts().count(),
            Text::ALL.len() * Lang::ALL.len() + 3 * Lang::ALL.len()
        );
    }
}
