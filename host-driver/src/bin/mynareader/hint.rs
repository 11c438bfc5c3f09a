//! Failures for a person: one line saying what happened (with its context),
//! a hint they can act on, and the exit code.
//!
//! This module owns the words of every hint ([`Hint::text`]) and the one table
//! that says which error kind gets which hint ([`Advice`] for each library
//! error the commands meet). A new command group whose errors want hints adds
//! its `Hint` rows and one `Advice` impl here.

use std::fmt::Display;
use std::process::ExitCode;

use myna_card::{CardError, TransportError};
use myna_card_front::{PatientHint, Refusal};
use myna_face::eval::PairsError;
use myna_face::models::ModelError;
use myna_face::FaceError;
use myna_kiosk::fw::{FwError, ImageError};
use myna_upstream::signer::DeviceKeyError;

/// Exit code of a failure (clap exits with 2 on a usage error by itself).
pub const EXIT_FAILURE: u8 = 1;

/// Exit code when the card front was imaged but the reader refused to
/// release a 照合番号B (no card, back side, unsure read).
pub const EXIT_REFUSED: u8 = 3;

/// Something a person can do about a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    /// pcscd is not running.
    StartPcscd,
    /// No reader is connected.
    ConnectReader,
    /// `--reader` matched nothing.
    CheckReaderName,
    /// Another program holds the reader.
    CloseOtherProgram,
    /// No card arrived in time.
    PlaceCard,
    /// The card left during the operation.
    KeepCard,
    /// A card without the JPKI application.
    PlaceMynaCard,
    /// The card answered nonsense.
    CardDamaged,
    /// A file to read cannot be read.
    CheckPath,
    /// A file to write cannot be written.
    WritableFolder,
    /// `mynareader demo` where the demo is not built (the kiosk package).
    DemoFromSource,
    /// `--out` exists and `--force` was not given.
    ChooseAnotherOut,
    /// `device init` over an existing key.
    KeepDeviceKey,
    /// Model weights missing, mismatching or unloadable.
    FetchModels,
    /// No face in an image.
    OneFaceVisible,
    /// Not a decodable image.
    ImageFormat,
    /// A malformed pair list.
    PairListFormat,
    /// An attack list is not `card,frame,species`.
    AttackListFormat,
    /// Nothing listens at a `tcp:` reader address.
    StartReaderSim,
    /// No USB reader could be opened.
    ConnectUsbReader,
    /// The reader was reached but did not answer as it should.
    ReaderAnswers,
    /// An unknown screen name.
    ReaderShowList,
    /// A secret key readable by others.
    KeyOwnerOnly,
    /// `fw keygen` over an existing key.
    KeepReleaseKey,
    /// A firmware image that does not verify.
    ImageNotTrusted,
    /// A firmware image cut short.
    ImageTruncated,
    /// `flash` of an older version.
    AllowDowngrade,
    /// The reader refused an image below its security counter.
    NewerRelease,
    /// An image built for another reader model.
    ImageForThisBoard,
    /// The running firmware is still on trial.
    LetReaderConfirm,
    /// The reader forgot the update half way (it restarted).
    FlashAgain,
    /// The reader's flash failed.
    RepairReader,
    /// The image's commit answer was lost and the reader did not come back.
    ReaderCheckVersion,
    /// The card front was not read: place it again.
    PlaceCardAgain,
    /// The photo side is not up.
    TurnCardOver,
    /// More than one card in view.
    OneCardOnly,
    /// The kiosk's control socket does not answer.
    StartKiosk,
}

impl Hint {
    /// What the person reads after `hint:`.
    pub const fn text(self) -> &'static str {
        match self {
            Hint::StartPcscd => {
                "start the smart-card service: `systemctl start pcscd` (or `pcscd -f` by hand)"
            }
            Hint::ConnectReader => "connect the card reader; `pcsc_scan` lists what pcscd sees",
            Hint::CheckReaderName => "check --reader against the names `pcsc_scan` shows",
            Hint::CloseOtherProgram => {
                "close the other program using the reader (`fuser /run/pcscd/pcscd.comm` may tell which)"
            }
            Hint::PlaceCard => "place the card on the reader, or wait longer with --wait SECONDS",
            Hint::KeepCard => "keep the card on the reader until reading is done",
            Hint::PlaceMynaCard => "place a My Number Card (マイナンバーカード)",
            Hint::CardDamaged => "place the card again; if it keeps failing the card may be damaged",
            Hint::CheckPath => "check the path and its permissions",
            Hint::WritableFolder => "check that the folder exists and is writable",
            Hint::DemoFromSource => {
                "the demo is not part of the kiosk package: run `bash scripts/demo` in a source tree (it builds mynareader-demo)"
            }
            Hint::ChooseAnotherOut => "choose another --out, or pass --force to replace it",
            Hint::KeepDeviceKey => {
                "a device keeps its key: register the existing public key, or remove the file on purpose"
            }
            Hint::FetchModels => {
                "run models/fetch, or point --models at the folder with the weights"
            }
            Hint::OneFaceVisible => "use an image where one face is clearly visible",
            Hint::ImageFormat => "check that the file is an image (JPEG 2000, JPEG, PNG)",
            Hint::PairListFormat => "each row is img_a,img_b,same with same 0 or 1",
            Hint::AttackListFormat => {
                "attacks.csv rows are card,frame,species (genuine, print, replay, screen); make one with face-attack-synth"
            }
            Hint::StartReaderSim => {
                "start the simulator (`reader-sim --listen 127.0.0.1:PORT`) or check the address"
            }
            Hint::ConnectUsbReader => {
                "connect the reader; check its USB permissions (udev/README.md) and the serial in usb:SERIAL"
            }
            Hint::ReaderAnswers => {
                "replug the reader or restart reader-sim; `mynareader reader info` shows its firmware"
            }
            Hint::StartKiosk => {
                "start the kiosk (`mynareader kiosk`), or pass --control with its socket path"
            }
            Hint::ReaderShowList => "`mynareader reader show --list` lists the screens",
            Hint::KeyOwnerOnly => {
                "make the key owner-only (`chmod 600 KEY`) and check who else could have read it"
            }
            Hint::KeepReleaseKey => {
                "a release key is kept: choose another --out, or remove the old one on purpose"
            }
            Hint::ImageNotTrusted => {
                "check --pubkey is the release key's K.pub; never flash an image that does not verify"
            }
            Hint::ImageTruncated => "copy the image again; the file is incomplete",
            Hint::AllowDowngrade => {
                "pass --allow-downgrade to go back on purpose (the reader still refuses images below its security counter)"
            }
            Hint::NewerRelease => {
                "the reader never runs an image below its security counter: flash the current release"
            }
            Hint::ImageForThisBoard => {
                "this image is for another reader model: `mynareader fw info` shows its hardware id"
            }
            Hint::LetReaderConfirm => {
                "the running firmware is still on trial: let the reader start fully once, then flash again"
            }
            Hint::FlashAgain => "the reader restarted during the update: run the same flash command again",
            Hint::RepairReader => {
                "the reader's flash memory failed: replace the reader and send it for repair"
            }
            Hint::ReaderCheckVersion => {
                "wait for the reader to come back, then `mynareader reader info` shows which firmware runs"
            }
            Hint::PlaceCardAgain => PatientHint::PlaceAgain.text_ja(),
            Hint::TurnCardOver => PatientHint::TurnOver.text_ja(),
            Hint::OneCardOnly => PatientHint::OneCard.text_ja(),
        }
    }
}

/// The table: which hint an error kind gets, if any.
pub trait Advice: Display {
    /// The hint for this error, `None` when there is nothing to advise.
    fn hint(&self) -> Option<Hint>;
}

impl Advice for CardError {
    fn hint(&self) -> Option<Hint> {
        match self {
            CardError::Transport(TransportError::NoService) => Some(Hint::StartPcscd),
            CardError::Transport(TransportError::NoReaders) => Some(Hint::ConnectReader),
            CardError::Transport(TransportError::ReaderNotFound(_)) => Some(Hint::CheckReaderName),
            CardError::Transport(TransportError::ReaderBusy) => Some(Hint::CloseOtherProgram),
            CardError::Transport(TransportError::NoCard) => Some(Hint::PlaceCard),
            CardError::CardRemoved => Some(Hint::KeepCard),
            CardError::NotAMyNumberCard => Some(Hint::PlaceMynaCard),
            CardError::TruncatedFile { .. }
            | CardError::BadFileContent { .. }
            | CardError::Response { .. }
            | CardError::Certificate(_) => Some(Hint::CardDamaged),
            _ => None,
        }
    }
}

impl Advice for FaceError {
    fn hint(&self) -> Option<Hint> {
        match self {
            // A model that loaded but failed to run is not fixed by fetching.
            FaceError::Model(ModelError::Run { .. }) => None,
            FaceError::Model(_) => Some(Hint::FetchModels),
            FaceError::NoFace => Some(Hint::OneFaceVisible),
            FaceError::Image(_) => Some(Hint::ImageFormat),
            _ => None,
        }
    }
}

impl Advice for DeviceKeyError {
    fn hint(&self) -> Option<Hint> {
        match self {
            DeviceKeyError::Exists(_) => Some(Hint::KeepDeviceKey),
            _ => Some(Hint::WritableFolder),
        }
    }
}

impl Advice for FwError {
    fn hint(&self) -> Option<Hint> {
        match self {
            FwError::Io { .. } => Some(Hint::CheckPath),
            FwError::Exists(_) => Some(Hint::KeepReleaseKey),
            FwError::KeyReadable { .. } => Some(Hint::KeyOwnerOnly),
            FwError::BadKey(_) => Some(Hint::CheckPath),
            FwError::Image(ImageError::Truncated) => Some(Hint::ImageTruncated),
            FwError::Image(_) => Some(Hint::ImageNotTrusted),
        }
    }
}

impl Advice for PairsError {
    fn hint(&self) -> Option<Hint> {
        Some(Hint::PairListFormat)
    }
}

impl Advice for myna_face::attacks::AttacksError {
    fn hint(&self) -> Option<Hint> {
        Some(Hint::AttackListFormat)
    }
}

impl Advice for Refusal {
    fn hint(&self) -> Option<Hint> {
        Some(match Refusal::hint(self) {
            PatientHint::PlaceAgain => Hint::PlaceCardAgain,
            PatientHint::TurnOver => Hint::TurnCardOver,
            PatientHint::OneCard => Hint::OneCardOnly,
        })
    }
}

/// An error for a person: what happened, and what to do about it.
#[derive(Debug)]
pub struct Failure {
    message: String,
    hint: Option<Hint>,
    exit: u8,
    quiet: bool,
}

impl Failure {
    /// A failure without a hint.
    pub fn new(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            hint: None,
            exit: EXIT_FAILURE,
            quiet: false,
        }
    }

    /// `context: error`, with the error's own hint: e.g. the file a parser
    /// refused, then why.
    pub fn context(context: impl Display, error: impl Advice) -> Self {
        Failure {
            message: format!("{context}: {error}"),
            hint: error.hint(),
            exit: EXIT_FAILURE,
            quiet: false,
        }
    }

    /// The same failure with this hint.
    pub fn hint(self, hint: Hint) -> Self {
        Failure {
            hint: Some(hint),
            ..self
        }
    }

    /// The same failure with another exit code.
    pub fn exit(self, code: u8) -> Self {
        Failure { exit: code, ..self }
    }

    /// The same failure, already reported by the command (e.g. as JSON on
    /// stdout): only the exit code remains.
    pub fn quiet(self) -> Self {
        Failure {
            quiet: true,
            ..self
        }
    }

    /// The message (what happened).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The hint's words, if any.
    pub fn hint_text(&self) -> Option<&'static str> {
        self.hint.map(Hint::text)
    }

    /// Prints the failure on stderr (`mynareader: …`, then `  hint: …`) and
    /// gives the exit code.
    pub fn report(&self) -> ExitCode {
        if !self.quiet {
            eprintln!("mynareader: {}", self.message);
            if let Some(hint) = self.hint {
                eprintln!("  hint: {}", hint.text());
            }
        }
        ExitCode::from(self.exit)
    }
}

impl<E: Advice> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure {
            message: error.to_string(),
            hint: error.hint(),
            exit: EXIT_FAILURE,
            quiet: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_error_carries_its_hint() {
        let failure = Failure::from(CardError::from(TransportError::NoService));
        assert_eq!(failure.message, "the smart-card service is not running");
        assert_eq!(failure.hint, Some(Hint::StartPcscd));
        // A removed card is its own kind, whichever layer noticed.
        let failure = Failure::from(CardError::from(TransportError::CardRemoved));
        assert_eq!(failure.hint, Some(Hint::KeepCard));
    }

    #[test]
    fn errors_without_advice_have_no_hint() {
        assert_eq!(CardError::PinLocked.hint(), None);
        assert_eq!(FaceError::NoEmbedding.hint(), None);
    }

    #[test]
    fn context_comes_first() {
        let failure = Failure::context("pairs.csv", PairsError::Empty);
        assert!(failure.message.starts_with("pairs.csv: "), "{failure:?}");
        assert_eq!(failure.hint, Some(Hint::PairListFormat));
    }

    #[test]
    fn every_hint_is_one_line() {
        for hint in [
            Hint::StartPcscd,
            Hint::ConnectReader,
            Hint::CheckReaderName,
            Hint::CloseOtherProgram,
            Hint::PlaceCard,
            Hint::KeepCard,
            Hint::PlaceMynaCard,
            Hint::CardDamaged,
            Hint::CheckPath,
            Hint::WritableFolder,
            Hint::ChooseAnotherOut,
            Hint::KeepDeviceKey,
            Hint::FetchModels,
            Hint::OneFaceVisible,
            Hint::ImageFormat,
            Hint::PairListFormat,
            Hint::KeyOwnerOnly,
            Hint::KeepReleaseKey,
            Hint::ImageNotTrusted,
            Hint::ImageTruncated,
            Hint::AllowDowngrade,
            Hint::NewerRelease,
            Hint::ImageForThisBoard,
            Hint::LetReaderConfirm,
            Hint::FlashAgain,
            Hint::RepairReader,
            Hint::ReaderCheckVersion,
            Hint::PlaceCardAgain,
            Hint::TurnCardOver,
            Hint::OneCardOnly,
        ] {
            assert!(!hint.text().is_empty() && !hint.text().contains('\n'));
        }
    }
}
