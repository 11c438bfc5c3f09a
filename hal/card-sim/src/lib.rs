//! A My Number Card emulator (`myna-card-sim`).
//!
//! It plugs into a real pcscd through vsmartcard's vpcd reader driver and
//! answers as the chip does: the JPKI application with its certificates, keys
//! and PIN counters, the 券面事項確認AP with the face photo behind 照合番号B, and
//! the 券面事項入力補助AP (so that tests can prove the driver never reads the
//! 個人番号). The card core ([`card`]) is a pure state machine; [`vpcd`] is the
//! socket adapter. None of this shares code with the host driver.

pub mod apdu;
pub mod card;
pub mod personality;
pub mod photo;
pub mod pki;
pub mod vpcd;
