//! The card generation's application layer: AIDs, file and credential IDs.
//!
//! The next-generation card (FY2026 on) regroups applications and moves to
//! ECDSA P-384; its identifiers are not published yet. Everything the
//! operations use goes through a [`CardProfile`] so a second generation is one
//! more constant, not a rewrite.

/// Identifiers of one card generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CardProfile {
    /// 公的個人認証AP.
    pub jpki_aid: &'static [u8],
    /// 券面事項確認AP (card face and photo).
    pub card_face_aid: &'static [u8],
    /// User-authentication certificate EF.
    pub auth_cert: u16,
    /// CA certificate of the user-authentication certificate.
    pub auth_ca_cert: u16,
    /// Token information EF.
    pub token_info: u16,
    /// EF saying which certificates exist.
    pub cert_presence: u16,
    /// User-authentication private key.
    pub auth_key: u16,
    /// User-authentication PIN reference.
    pub auth_pin: u16,
    /// 照合番号B reference in the card-face application.
    pub collation_b: u16,
    /// Card-face EF (holds the photo).
    pub card_face: u16,
    /// Outer template tag of the card-face EF.
    pub card_face_template: u32,
    /// Tag of the photo inside the card-face template.
    pub photo_tag: u32,
}

/// The My Number Card as issued since 2016 (RSA-2048).
///
/// The 券面事項入力補助AP, which holds the 個人番号, is deliberately absent:
/// this driver has no way to name it.
pub const MYNA_2016: CardProfile = CardProfile {
    jpki_aid: &[0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01],
    card_face_aid: &[0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x02],
    auth_cert: 0x000A,
    auth_ca_cert: 0x000B,
    token_info: 0x0006,
    cert_presence: 0x0008,
    auth_key: 0x0017,
    auth_pin: 0x0018,
    collation_b: 0x0012,
    card_face: 0x0002,
    card_face_template: 0xFF20,
    photo_tag: 0xDF27,
};
