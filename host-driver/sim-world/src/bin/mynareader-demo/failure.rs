//! The demo's failures for a person: what happened, and what to do about it.

use std::process::ExitCode;

/// Something a person can do about a failed demo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    /// A file to write cannot be written.
    WritableFolder,
    /// The reader (simulator) did not answer as expected.
    ReaderAnswers,
    /// reader-sim or upstream-ref is not built.
    BuildWorkspace,
}

impl Hint {
    fn text(self) -> &'static str {
        match self {
            Hint::WritableFolder => "check that the folder exists and is writable",
            Hint::ReaderAnswers => {
                "replug the reader or restart reader-sim; `mynareader reader info` shows its firmware"
            }
            Hint::BuildWorkspace => {
                "build every binary first: `cargo build --workspace --bins` (or run `bash scripts/demo`)"
            }
        }
    }
}

/// A failed demo: one line, and a hint where there is one.
#[derive(Debug)]
pub struct Failure {
    message: String,
    hint: Option<Hint>,
}

impl Failure {
    /// A failure saying `message`.
    pub fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            hint: None,
        }
    }

    /// With a hint.
    pub fn hint(mut self, hint: Hint) -> Failure {
        self.hint = Some(hint);
        self
    }

    /// Prints it and gives the exit code.
    pub fn report(&self) -> ExitCode {
        eprintln!("mynareader demo: {}", self.message);
        if let Some(hint) = self.hint {
            eprintln!("  hint: {}", hint.text());
        }
        ExitCode::FAILURE
    }
}
