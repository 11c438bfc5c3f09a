//! The device end of the link: frames in, screens drawn, touches out.
//! Sans-IO like the rest of the core: bytes from the host go in through
//! [`Reader::receive`], frames for the host come out through a callback,
//! and the HAL is the board passed in. A USB adapter or the simulator's
//! socket move the bytes. Framing, sessions and sequence numbers are the
//! link's [`DeviceEndpoint`]; this file decides what each message does.

use embedded_graphics_core::geometry::OriginDimensions;
use myna_hal::{Camera, Clock, Display, Indicator, Speaker, Tone, Touch};
use myna_link::{
    Button, Camera as CameraId, DeviceEndpoint, DeviceError, DeviceInput, DeviceToHost,
    HostToDevice, Language, Signal, MAX_FRAME,
};
use rand_core::RngCore;

use crate::catalogue::Lang;
use crate::pinpad::{Entry, Layout};
use crate::ui::{self, Key};
use crate::update::Updater;
use crate::view::View;
use crate::voice::{self, Player, VoiceSettings};

/// A screen waiting for the patient returns to `Idle` after this long.
pub const IDLE_TIMEOUT_MS: u64 = 60_000;

/// Camera bytes per `FramePart` (fits a frame with room for the header).
pub const FRAME_CHUNK: usize = 3072;

/// The hardware the firmware runs on.
pub trait Board {
    /// Patient display.
    type Display: Display;
    /// Touch panel.
    type Touch: Touch;
    /// Camera facing the patient.
    type PatientCamera: Camera;
    /// Camera over the card tray.
    type CardCamera: Camera;
    /// Speaker and light.
    type Indicator: Indicator;
    /// The speaker spoken prompts play on.
    type Speaker: Speaker;
    /// True random numbers.
    type Rng: RngCore;
    /// Monotonic clock.
    type Clock: Clock;
    /// The flash holding the firmware slots and the boot state.
    type Flash: embedded_storage::nor_flash::NorFlash;

    /// The display.
    fn display(&mut self) -> &mut Self::Display;
    /// The touch panel.
    fn touch(&mut self) -> &mut Self::Touch;
    /// The patient camera.
    fn patient_camera(&mut self) -> &mut Self::PatientCamera;
    /// The display and the patient camera together: the live preview
    /// streams from one into the other.
    fn display_and_patient_camera(&mut self) -> (&mut Self::Display, &mut Self::PatientCamera);
    /// The card camera.
    fn card_camera(&mut self) -> &mut Self::CardCamera;
    /// Speaker and light.
    fn indicator(&mut self) -> &mut Self::Indicator;
    /// The prompts' speaker.
    fn speaker(&mut self) -> &mut Self::Speaker;
    /// RNG.
    fn rng(&mut self) -> &mut Self::Rng;
    /// Clock.
    fn clock(&self) -> &Self::Clock;
    /// Flash.
    fn flash(&mut self) -> &mut Self::Flash;
}

/// What the device says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// Running firmware version.
    pub firmware: u32,
    /// Active slot (0 = A, 1 = B).
    pub slot: u8,
    /// Drawn from the TRNG by the boot code at every start (never 0): a host
    /// that sees it change knows the reader restarted. Passed in rather than
    /// drawn here, so the PIN pad's shuffles stay the board RNG's own.
    pub boot_id: u32,
}

/// The firmware: current screen, PIN pad, link state.
pub struct Reader<B: Board> {
    board: B,
    identity: Identity,
    lang: Lang,
    view: View,
    view_seq: u16,
    visual_check: bool,
    layout: Layout,
    entry: Entry,
    last_input_ms: u64,
    /// Large-text mode: for one reception (see [`Reader::large_text`]).
    large: bool,
    /// When the live preview was last painted on `FaceCapture`.
    last_preview_ms: u64,
    link: DeviceEndpoint,
    /// Firmware updates, once the boot code handed one over.
    updater: Option<Updater>,
    /// Spoken prompts, once the boot code found the voice asset.
    player: Option<Player>,
    voice: VoiceSettings,
}

impl<B: Board> Reader<B> {
    /// Starts on `Idle` and draws it.
    pub fn new(board: B, identity: Identity, lang: Lang) -> Self {
        let boot_id = identity.boot_id.max(1);
        let mut reader = Reader {
            board,
            identity,
            lang,
            view: View::Idle,
            view_seq: 0,
            visual_check: false,
            layout: Layout::ORDERED,
            entry: Entry::default(),
            last_input_ms: 0,
            large: false,
            last_preview_ms: 0,
            link: DeviceEndpoint::new(boot_id),
            updater: None,
            player: None,
            voice: VoiceSettings::default(),
        };
        reader.redraw();
        reader
    }

    /// Speaks each screen's prompt from this voice asset (checked by the
    /// boot code with `myna_voice::Prompts::parse`); without one the
    /// reader is silent. Says the current screen's prompt at once.
    pub fn with_voice(mut self, prompts: myna_voice::Prompts<'static>) -> Self {
        self.player = Some(Player::new(prompts));
        self.speak();
        self
    }

    /// The voice settings in force.
    pub fn voice(&self) -> VoiceSettings {
        self.voice
    }

    /// Says the current screen's prompt (cutting off the one playing),
    /// when voice is on and there is an asset.
    fn speak(&mut self) {
        let Some(player) = self.player.as_mut() else {
            return;
        };
        if !self.voice.on {
            player.stop(self.board.speaker());
            return;
        }
        let prompt = voice::prompt(&self.view, self.lang);
        player.say(self.board.speaker(), prompt, self.lang, self.voice.volume);
    }

    fn silence(&mut self) {
        if let Some(player) = self.player.as_mut() {
            player.stop(self.board.speaker());
        }
    }

    /// Takes firmware updates from the link (without one they are answered
    /// `Unsupported`); see [`crate::update`].
    pub fn with_updater(mut self, updater: Updater) -> Self {
        self.updater = Some(updater);
        self
    }

    /// The update state (why the last image was refused).
    pub fn updater(&self) -> Option<&Updater> {
        self.updater.as_ref()
    }

    /// The board (for the simulator's screenshots and tests).
    pub fn board(&mut self) -> &mut B {
        &mut self.board
    }

    /// Stops the firmware and gives the board back (a restart is
    /// `Reader::new` on it again: a new boot id, no session, `Idle`).
    pub fn into_board(mut self) -> B {
        self.entry.wipe();
        self.link.wipe();
        self.board
    }

    /// This start's boot id.
    pub fn boot_id(&self) -> u32 {
        self.link.boot_id()
    }

    /// The host's session, once one said `Hello`.
    pub fn session(&self) -> Option<u32> {
        self.link.session()
    }

    /// The language the screens are drawn in.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// What is on screen.
    pub fn view(&self) -> &View {
        &self.view
    }

    /// Whether large-text mode is on. The patient switches it on `Idle`,
    /// staff with [`HostToDevice::SetLargeText`]; it lasts one reception:
    /// it goes off when the host shows `Idle` after another screen (the
    /// card was taken, the session ended) and at the idle timeout.
    pub fn large_text(&self) -> bool {
        self.large
    }

    /// Whether the 目視 banner is up.
    pub fn visual_check(&self) -> bool {
        self.visual_check
    }

    /// The PIN pad's current digit positions.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Digits entered on the pad.
    pub fn entered(&self) -> usize {
        self.entry.count()
    }

    /// Sends one message to the host.
    fn send(&mut self, message: &DeviceToHost<'_>, tx: &mut impl FnMut(&[u8])) {
        // Every message of ours fits MAX_PAYLOAD by construction (chunks are
        // sized for it), so an encode error is a bug, not a runtime state.
        if let Ok(frame) = self.link.send(message) {
            tx(frame);
        }
    }

    fn redraw(&mut self) {
        let frame = ui::Frame {
            lang: self.lang,
            visual_check: self.visual_check,
            layout: &self.layout,
            entered: self.entry.count(),
            large: self.large,
        };
        let view = self.view;
        let display = self.board.display();
        // A display error leaves the previous picture; nothing to report
        // the host could act on beyond what the next redraw does.
        let _ = ui::draw(display, &view, &frame);
        let _ = display.flush();
    }

    fn show(&mut self, view: View, seq: u16, visual_check: bool) {
        // Leaving (or re-entering) the pad forgets the digits; a new pad is
        // a new entry with a new layout.
        self.entry.wipe();
        if let View::PinEntry { .. } = view {
            self.layout = Layout::shuffled(self.board.rng(), &self.layout);
        }
        // The reception is over when the host goes back to `Idle`: large
        // text was for that patient.
        if view == View::Idle && self.view != View::Idle {
            self.large = false;
        }
        self.view = view;
        self.view_seq = seq;
        self.visual_check = visual_check;
        self.last_input_ms = self.board.clock().now_ms();
        self.redraw();
        // The picture at once, not a dark box for the first interval.
        self.preview();
        self.speak();
    }

    /// Paints the patient camera's picture into the face guide while
    /// `FaceCapture` is up; the screenshot-worthy redraw came before, so a
    /// recorder of screens never holds the face.
    fn preview(&mut self) {
        let View::FaceCapture { placed, .. } = self.view else {
            return;
        };
        self.last_preview_ms = self.board.clock().now_ms();
        let (display, camera) = self.board.display_and_patient_camera();
        // No picture (no camera frame, an odd size) leaves the dark box and
        // its guide: the patient can still follow the words, and the host
        // learns of a camera fault from its own capture.
        let _ = ui::preview::paint(display, camera, placed);
        let _ = display.flush_area(ui::preview::PREVIEW_AREA);
    }

    /// Bytes from the host; answers go to `tx` as whole frames.
    pub fn receive(&mut self, bytes: &[u8], tx: &mut impl FnMut(&[u8])) {
        // One frame buffer per call: the decoded message borrows from it
        // while the reader state is updated.
        let mut frame = [0u8; MAX_FRAME];
        let mut rest = bytes;
        while !rest.is_empty() {
            let (used, input) = self.link.read(rest, &mut frame);
            rest = rest.get(used..).unwrap_or_default();
            match input {
                None => {}
                Some(DeviceInput::Hello) => self.on_hello(tx),
                Some(DeviceInput::Message { seq, lost, message }) => {
                    if lost > 0 {
                        self.send(&DeviceToHost::Error(DeviceError::Sequence), tx);
                    }
                    self.handle(seq, &message, tx);
                }
                Some(DeviceInput::BadFrame(_)) => {
                    self.send(&DeviceToHost::Error(DeviceError::Frame), tx)
                }
                Some(DeviceInput::Stale { session }) => {
                    if let Ok(frame) = self.link.refuse_stale(session) {
                        tx(frame);
                    }
                }
            }
        }
        // A frame may have carried a name; the next one overwrites most of
        // it, but do not keep it past this call.
        zeroize::Zeroize::zeroize(&mut frame);
    }

    /// A host opened a session. Whatever was being typed belonged to the
    /// previous host run: it is wiped; the screen stays until redrawn.
    fn on_hello(&mut self, tx: &mut impl FnMut(&[u8])) {
        if self.entry.count() > 0 {
            self.entry.wipe();
            self.redraw();
        }
        let size = self.board.display().size();
        let welcome = DeviceToHost::Welcome {
            boot_id: self.link.boot_id(),
            firmware: self.identity.firmware,
            slot: self.identity.slot,
            width: size.width as u16,
            height: size.height as u16,
        };
        self.send(&welcome, tx);
    }

    /// Carries out one message (already past the sequence check).
    pub fn handle(&mut self, seq: u16, message: &HostToDevice<'_>, tx: &mut impl FnMut(&[u8])) {
        match message {
            HostToDevice::GetInfo => {
                let size = self.board.display().size();
                let info = DeviceToHost::Info {
                    firmware: self.identity.firmware,
                    slot: self.identity.slot,
                    width: size.width as u16,
                    height: size.height as u16,
                };
                self.send(&info, tx);
            }
            HostToDevice::ShowScreen {
                screen,
                visual_check,
            } => match View::from_screen(screen) {
                // No PIN pad with the 目視 banner: staff checked the face,
                // so a PIN asked for now is the host's mistake.
                Ok(view) if *visual_check && view.asks_for_pin() => {
                    self.show(View::OutOfService, seq, *visual_check);
                    self.send(&DeviceToHost::Error(DeviceError::PinInVisualCheck), tx);
                }
                Ok(view) => self.show(view, seq, *visual_check),
                Err(_) => {
                    self.show(View::OutOfService, seq, *visual_check);
                    self.send(&DeviceToHost::Error(DeviceError::BadParameter), tx);
                }
            },
            HostToDevice::Capture { camera } => self.capture(*camera, tx),
            HostToDevice::Signal(signal) => {
                let indicator = self.board.indicator();
                match signal {
                    Signal::Beep => indicator.tone(Tone::Beep),
                    Signal::Error => indicator.tone(Tone::Error),
                    Signal::Light(on) => indicator.light(*on),
                    Signal::TakeCard => {
                        indicator.tone(Tone::TakeCard);
                        if let View::Done { reminder, .. } = &mut self.view {
                            *reminder = true;
                            self.redraw();
                            // The reminder has its own prompt.
                            self.speak();
                        }
                    }
                }
            }
            HostToDevice::TakePin => {
                let ready = matches!(self.view, View::PinEntry { .. });
                match self.entry.complete() {
                    Some(digits) if ready => {
                        let digits = *digits;
                        self.send(&DeviceToHost::Pin { digits: &digits }, tx);
                        let mut digits = digits;
                        zeroize::Zeroize::zeroize(&mut digits);
                        // The encoded frame held the digits too.
                        self.link.wipe();
                        self.entry.wipe();
                        self.redraw();
                    }
                    _ => self.send(&DeviceToHost::Error(DeviceError::PinNotReady), tx),
                }
            }
            HostToDevice::SetLargeText(on) => {
                self.large = *on;
                self.redraw();
                self.preview();
            }
            HostToDevice::SetLanguage(language) => {
                let lang = match language {
                    Language::Japanese => Some(Lang::Ja),
                    Language::English => Some(Lang::En),
                    Language::Other(_) => None,
                };
                match lang {
                    Some(lang) => {
                        self.lang = lang;
                        self.redraw();
                        self.preview();
                        // Said again in the language now on screen.
                        self.speak();
                    }
                    None => self.send(&DeviceToHost::Error(DeviceError::Unsupported), tx),
                }
            }
            HostToDevice::SetVoice { on, volume } => {
                self.voice = VoiceSettings {
                    on: *on,
                    volume: (*volume).min(100),
                };
                if !on {
                    self.silence();
                }
            }
            // Only a session's first frame; the endpoint answered it.
            HostToDevice::Hello => {}
            HostToDevice::FirmwareBegin { .. }
            | HostToDevice::FirmwareChunk { .. }
            | HostToDevice::FirmwareCommit { .. } => {
                let answer = match self.updater.as_mut() {
                    Some(updater) => updater.handle(self.board.flash(), message),
                    None => DeviceToHost::Error(DeviceError::Unsupported),
                };
                self.send(&answer, tx)
            }
        }
    }

    fn capture(&mut self, camera: CameraId, tx: &mut impl FnMut(&[u8])) {
        let started = match camera {
            CameraId::Patient => self.board.patient_camera().start().map_err(|_| ()),
            CameraId::CardFront => self.board.card_camera().start().map_err(|_| ()),
        };
        let Ok(info) = started else {
            self.send(&DeviceToHost::Error(DeviceError::Camera), tx);
            return;
        };
        let mut offset = 0u32;
        let mut chunk = [0u8; FRAME_CHUNK];
        loop {
            let read = match camera {
                CameraId::Patient => self.board.patient_camera().read(&mut chunk).map_err(|_| ()),
                CameraId::CardFront => self.board.card_camera().read(&mut chunk).map_err(|_| ()),
            };
            let n = match read {
                Ok(0) => break,
                Ok(n) => n,
                Err(()) => {
                    zeroize::Zeroize::zeroize(&mut chunk);
                    self.send(&DeviceToHost::Error(DeviceError::Camera), tx);
                    return;
                }
            };
            let part = DeviceToHost::FramePart {
                camera,
                width: info.width,
                height: info.height,
                channels: info.format.channels(),
                offset,
                data: &chunk[..n],
            };
            self.send(&part, tx);
            offset = offset.saturating_add(n as u32);
        }
        // Camera frames are face images: do not leave them in our buffers.
        zeroize::Zeroize::zeroize(&mut chunk);
        self.link.wipe();
    }

    /// Polls the touch panel and the clock; call it from the main loop.
    pub fn poll(&mut self, tx: &mut impl FnMut(&[u8])) {
        if let Some(player) = self.player.as_mut() {
            player.pump(self.board.speaker());
        }
        while let Ok(Some(point)) = self.board.touch().poll() {
            self.last_input_ms = self.board.clock().now_ms();
            self.on_touch(point.x, point.y, tx);
        }
        let now = self.board.clock().now_ms();
        if matches!(self.view, View::FaceCapture { .. })
            && now.saturating_sub(self.last_preview_ms) >= ui::preview::PREVIEW_INTERVAL_MS
        {
            self.preview();
        }
        if self.view.waits_for_input() && now.saturating_sub(self.last_input_ms) >= IDLE_TIMEOUT_MS
        {
            let timed_out = self.view_seq;
            self.entry.wipe();
            self.view = View::Idle;
            self.visual_check = false;
            self.large = false;
            self.redraw();
            // Nobody is at the reader: no prompt for the waiting room.
            self.silence();
            self.send(
                &DeviceToHost::IdleTimeout {
                    screen_seq: timed_out,
                },
                tx,
            );
        }
    }

    fn on_touch(&mut self, x: u16, y: u16, tx: &mut impl FnMut(&[u8])) {
        let Some(key) = ui::hit(&self.view, &self.layout, x, y) else {
            return;
        };
        let screen_seq = self.view_seq;
        let button = match key {
            Key::Digit(d) => {
                if !self.entry.push(d) {
                    return;
                }
                self.redraw();
                Button::PinDigitEntered {
                    count: self.entry.count() as u8,
                }
            }
            Key::Link(Button::PinCorrect) => {
                if !self.entry.pop() {
                    return;
                }
                self.redraw();
                Button::PinCorrect
            }
            Key::Link(Button::Cancel) => {
                self.entry.wipe();
                Button::Cancel
            }
            // Device-local keys: nothing goes to the host.
            Key::LargeText => {
                self.large = !self.large;
                self.redraw();
                return;
            }
            Key::PagePrevious | Key::PageNext => {
                if let View::RegistrationTerms { page } = &mut self.view {
                    *page = if key == Key::PageNext {
                        page.saturating_add(1).min(crate::catalogue::TERMS_PAGES)
                    } else {
                        page.saturating_sub(1).max(1)
                    };
                }
                self.redraw();
                // The new page is read out, as a new screen would be.
                self.speak();
                return;
            }
            Key::Link(b) => b,
        };
        self.send(&DeviceToHost::Touch { screen_seq, button }, tx);
    }
}
