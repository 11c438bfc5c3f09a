//! `reader-sim`: the firmware core (`reader-fw`) on the simulated HAL.
//! [`SimBoard`] is the board; [`card_front`] draws the card the card camera
//! sees; [`Control`] is the script/host-side command language (touches by
//! position or by button, screenshots, state) used by the binary's control
//! socket, by `--script` files and by tests.

use std::path::Path;

use anyhow::{bail, Context, Result};
use embedded_graphics::pixelcolor::Rgb565;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{PrimitiveStyle, Rectangle, RoundedRectangle};
use myna_hal::embedded_storage::nor_flash::ReadNorFlash;
use myna_hal::sim::{
    ManualClock, SeededRng, SimCamera, SimClock, SimDisplay, SimFlash, SimIndicator, SimSpeaker,
    SimTouch,
};
use myna_hal::Clock;
use myna_link::Button;
use reader_fw::device::{Board, Reader};
use reader_fw::font::{self, draw_line, TextStyle};
use reader_fw::ui::{self, Key, Label};
use reader_fw::update;
use reader_fw::view::View;

/// The RNG: the OS's (like the device's TRNG) or seeded for reproducible
/// screenshots.
pub enum SimRng {
    /// `getrandom`.
    Os(rand_core::OsRng),
    /// SplitMix64 from a seed.
    Seeded(SeededRng),
}

impl rand_core::RngCore for SimRng {
    fn next_u32(&mut self) -> u32 {
        match self {
            SimRng::Os(r) => r.next_u32(),
            SimRng::Seeded(r) => r.next_u32(),
        }
    }
    fn next_u64(&mut self) -> u64 {
        match self {
            SimRng::Os(r) => r.next_u64(),
            SimRng::Seeded(r) => r.next_u64(),
        }
    }
    fn fill_bytes(&mut self, d: &mut [u8]) {
        match self {
            SimRng::Os(r) => r.fill_bytes(d),
            SimRng::Seeded(r) => r.fill_bytes(d),
        }
    }
    fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), rand_core::Error> {
        match self {
            SimRng::Os(r) => r.try_fill_bytes(d),
            SimRng::Seeded(r) => r.try_fill_bytes(d),
        }
    }
}

/// Wall-clock time, or a clock the test moves.
pub enum SimTime {
    /// Real time.
    Real(SimClock),
    /// Moved by hand.
    Manual(ManualClock),
}

impl Clock for SimTime {
    fn now_ms(&self) -> u64 {
        match self {
            SimTime::Real(c) => c.now_ms(),
            SimTime::Manual(c) => c.now_ms(),
        }
    }
}

/// The simulated board.
pub struct SimBoard {
    /// 800×480.
    pub display: SimDisplay,
    /// Queued presses.
    pub touch: SimTouch,
    /// Frames from files.
    pub patient_camera: SimCamera,
    /// The generated card front.
    pub card_camera: SimCamera,
    /// Recorded tones and light.
    pub indicator: SimIndicator,
    /// Recorded prompts (and their WAV files, when asked).
    pub speaker: SimSpeaker,
    /// RNG.
    pub rng: SimRng,
    /// Clock.
    pub clock: SimTime,
    /// Firmware slots and boot state ([`SIM_FLASH_SIZE`]).
    pub flash: SimFlash,
}

/// The simulated flash: two 4 KiB boot-state sectors and two 1 MiB slots.
pub const SIM_FLASH_SIZE: usize = 2 * 4096 + 2 * 1024 * 1024;

/// The version a blank simulator reports: the factory image, not on the
/// flash (the simulator has no image to verify until one is flashed).
pub const FACTORY_FIRMWARE: u32 = 1;

/// What the boot code decided: the version and slot running, and the
/// updater that takes the next image.
#[derive(Debug)]
pub struct Started {
    /// Running version.
    pub firmware: u32,
    /// Running slot.
    pub slot: u8,
    /// Takes firmware updates from the link; `None` on a flash too small
    /// for two slots (firmware messages are then answered `Unsupported`).
    pub updater: Option<update::Updater>,
}

/// The simulated reader's boot code, trusting the development key: runs
/// `update::boot` on the flash and, the simulator having started, confirms
/// a trial image at once. A blank flash runs the factory firmware from
/// slot A.
pub fn boot_firmware(flash: &mut SimFlash) -> Started {
    let trust = update::Trust::DEV;
    let factory = Started {
        firmware: FACTORY_FIRMWARE,
        slot: 0,
        updater: None,
    };
    let Some(layout) = update::FlashLayout::whole::<SimFlash>(flash.capacity()) else {
        return factory;
    };
    match update::boot(flash, &layout, &trust) {
        Ok(mut booted) => {
            // The simulator started: this is the "successful start" a trial
            // image confirms itself after. If the write fails the trial is
            // rolled back at the next start, as on the device.
            let confirmed = update::confirm(flash, &layout, &mut booted).is_ok();
            Started {
                firmware: booted.header.version,
                slot: booted.slot,
                updater: Some(update::Updater::new(layout, trust, booted.slot, !confirmed)),
            }
        }
        Err(_) => Started {
            updater: Some(update::Updater::new(layout, trust, 0, false)),
            ..factory
        },
    }
}

/// A reader started by [`boot_firmware`] on `board`'s flash.
pub fn start_reader(
    mut board: SimBoard,
    lang: reader_fw::catalogue::Lang,
    boot_id: u32,
) -> (Reader<SimBoard>, u32, u8) {
    let started = boot_firmware(&mut board.flash);
    let identity = reader_fw::device::Identity {
        firmware: started.firmware,
        slot: started.slot,
        boot_id,
    };
    let mut reader = Reader::new(board, identity, lang);
    if let Some(updater) = started.updater {
        reader = reader.with_updater(updater);
    }
    if let Some(prompts) = voice_prompts() {
        reader = reader.with_voice(prompts);
    }
    (reader, started.firmware, started.slot)
}

/// The committed voice asset, checked as the device's boot code checks its
/// voice partition; `None` (a silent reader, and a message) if it does not
/// parse.
pub fn voice_prompts() -> Option<myna_voice::Prompts<'static>> {
    match myna_voice::Prompts::parse(myna_voice::ASSET) {
        Ok(prompts) => Some(prompts),
        Err(e) => {
            eprintln!("voice asset: {e}; the reader stays silent");
            None
        }
    }
}

impl SimBoard {
    /// A board with no camera pictures, seeded RNG and a manual clock
    /// (what tests want); the binary replaces the parts it configures.
    pub fn for_tests(seed: u64) -> (SimBoard, ManualClock) {
        let clock = ManualClock::default();
        (
            SimBoard {
                display: SimDisplay::new(ui::WIDTH, ui::HEIGHT),
                touch: SimTouch::default(),
                patient_camera: SimCamera::empty(),
                card_camera: SimCamera::empty(),
                indicator: SimIndicator::default(),
                speaker: SimSpeaker::default(),
                rng: SimRng::Seeded(SeededRng::new(seed)),
                clock: SimTime::Manual(clock.clone()),
                flash: SimFlash::new(SIM_FLASH_SIZE),
            },
            clock,
        )
    }
}

impl Board for SimBoard {
    type Display = SimDisplay;
    type Touch = SimTouch;
    type PatientCamera = SimCamera;
    type CardCamera = SimCamera;
    type Indicator = SimIndicator;
    type Speaker = SimSpeaker;
    type Rng = SimRng;
    type Clock = SimTime;
    type Flash = SimFlash;

    fn display(&mut self) -> &mut SimDisplay {
        &mut self.display
    }
    fn touch(&mut self) -> &mut SimTouch {
        &mut self.touch
    }
    fn patient_camera(&mut self) -> &mut SimCamera {
        &mut self.patient_camera
    }
    fn display_and_patient_camera(&mut self) -> (&mut SimDisplay, &mut SimCamera) {
        (&mut self.display, &mut self.patient_camera)
    }
    fn card_camera(&mut self) -> &mut SimCamera {
        &mut self.card_camera
    }
    fn indicator(&mut self) -> &mut SimIndicator {
        &mut self.indicator
    }
    fn speaker(&mut self) -> &mut SimSpeaker {
        &mut self.speaker
    }
    fn rng(&mut self) -> &mut SimRng {
        &mut self.rng
    }
    fn clock(&self) -> &SimTime {
        &self.clock
    }
    fn flash(&mut self) -> &mut SimFlash {
        &mut self.flash
    }
}

/// What is printed on the simulated card front (the fields 照合番号B is
/// made of: birth date YYMMDD, expiry year, security code).
#[derive(Debug, Clone)]
pub struct CardFace {
    /// Name in kana (the real card prints kanji; the simulator's font has kana).
    pub name: String,
    /// Birth date.
    pub birth: (u16, u8, u8),
    /// Expiry date.
    pub expiry: (u16, u8, u8),
    /// セキュリティコード, 4 digits.
    pub security_code: String,
    /// How the card camera sees the card: `None` draws the flat card in
    /// the screens' bitmap font (the default); `Some` draws it with a real
    /// Japanese font and places it in a 1280×720 frame.
    pub camera: Option<CardCamera>,
}

/// The card camera's view of a card drawn with a real font: which font,
/// where and how the card lies, and the light (see
/// `card_front_synth::Conditions`).
#[derive(Clone)]
pub struct CardCamera {
    /// TrueType/OpenType bytes of the card's typeface.
    pub font: std::sync::Arc<Vec<u8>>,
    /// Position, angle, upside down, perspective, blur, glare, exposure,
    /// noise, JPEG.
    pub conditions: card_front_synth::Conditions,
}

impl std::fmt::Debug for CardCamera {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardCamera")
            .field("font_bytes", &self.font.len())
            .field("conditions", &self.conditions)
            .finish()
    }
}

impl Default for CardFace {
    fn default() -> Self {
        CardFace {
            name: "マイナ ハナコ".into(),
            birth: (1958, 4, 1),
            expiry: (2033, 4, 1),
            security_code: "4321".into(),
            camera: None,
        }
    }
}

/// Draws the card camera's picture: the flat card in the screens' typeface,
/// or, with [`CardFace::camera`], a camera frame of the card in a real font.
pub fn card_front(face: &CardFace) -> image::RgbImage {
    match &face.camera {
        Some(camera) => card_camera_frame(face, camera).unwrap_or_else(|| flat_card_front(face)),
        None => flat_card_front(face),
    }
}

/// A 1280×720 frame from the shared generator; `None` when the font does
/// not parse or a field is not a number.
fn card_camera_frame(face: &CardFace, camera: &CardCamera) -> Option<image::RgbImage> {
    use card_front_synth::{self as synth, CardSpec};
    use rand_core::SeedableRng as _;
    let font = fontdue_font(&camera.font)?;
    let (by, bm, bd) = face.birth;
    let digits: Vec<u8> = face
        .security_code
        .bytes()
        .map(|b| b.wrapping_sub(b'0'))
        .collect();
    let code: [u8; 4] = digits.try_into().ok()?;
    if code.iter().any(|d| *d > 9) {
        return None;
    }
    let spec = CardSpec {
        birth: synth::to_era(by, bm, bd),
        expiry: face.expiry,
        code,
        fullwidth: false,
        padded: true,
        with_fields: true,
        tinted_expiry: false,
        note_date: false,
        layout: synth::CardLayout::default(),
    };
    let mut rng = synth::Rng::seed_from_u64(camera.conditions.seed);
    let card = synth::render_card(&spec, &font, &mut rng);
    Some(synth::compose(
        &[(&card, &camera.conditions)],
        &camera.conditions,
    ))
}

fn fontdue_font(bytes: &[u8]) -> Option<card_front_synth::Font> {
    card_front_synth::font_from_bytes(bytes)
}

/// Draws a card front (856×540, the ID-1 card at 10 px/mm) with the same
/// typeface as the screens.
pub fn flat_card_front(face: &CardFace) -> image::RgbImage {
    let mut d = SimDisplay::new(856, 540);
    let paper = Rgb565::new(0x1E, 0x3A, 0x1D);
    let ink = Rgb565::new(2, 4, 2);
    let _ = d.clear(Rgb565::new(0x10, 0x20, 0x10));
    let _ = RoundedRectangle::with_equal_corners(
        Rectangle::new(Point::new(8, 8), Size::new(840, 524)),
        Size::new(30, 30),
    )
    .into_styled(PrimitiveStyle::with_fill(paper))
    .draw(&mut d);
    let label = TextStyle {
        font: &font::NOTE,
        fg: ink,
        bg: paper,
    };
    let value = TextStyle {
        font: &font::BODY,
        fg: ink,
        bg: paper,
    };
    let big = TextStyle {
        font: &font::TITLE,
        fg: ink,
        bg: paper,
    };
    let _ = draw_line(&mut d, &big, "個人番号カード", 40, 70);
    let (by, bm, bd) = face.birth;
    let (ey, em, ed) = face.expiry;
    let rows = [
        ("氏名", face.name.clone()),
        ("住所", "東京都千代田区霞が関一丁目1番地".to_string()),
        ("生年月日", format!("{by}年{bm}月{bd}日生")),
        ("性別", "女".to_string()),
        ("有効期限", format!("{ey}年{em}月{ed}日まで")),
    ];
    for (i, (k, v)) in rows.iter().enumerate() {
        let y = 140 + i as i32 * 62;
        let _ = draw_line(&mut d, &label, k, 40, y);
        let _ = draw_line(&mut d, &value, v, 170, y);
    }
    let _ = draw_line(&mut d, &label, "セキュリティコード", 40, 470);
    let _ = draw_line(&mut d, &big, &face.security_code, 300, 474);
    // The photo box.
    let _ = d.fill_solid(
        &Rectangle::new(Point::new(620, 120), Size::new(190, 240)),
        Rgb565::new(0x12, 0x26, 0x14),
    );
    d.to_rgb8()
}

/// A command from a script or the host side of a test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// Press at a position.
    Touch(u16, u16),
    /// Press the centre of a named button on the current screen
    /// (`face`, `pin`, `yes`, `no`, `confirm`, `one-by-one`, `call-staff`,
    /// `cancel`, `correct`, or `digit N`).
    Tap(String),
    /// Save the current picture as a PNG.
    Screenshot(String),
    /// Print the state.
    State,
    /// Wait (scripts).
    Sleep(u64),
    /// Restart the firmware (a power cycle): a new boot id, `Idle`, the
    /// host's connection dropped as a USB replug would.
    Reboot,
}

impl Control {
    /// Parses one line (`touch 400 300`, `tap digit 7`, `screenshot a.png`,
    /// `state`, `sleep 200`).
    pub fn parse(line: &str) -> Result<Control> {
        let mut words = line.split_whitespace();
        let verb = words.next().context("empty command")?;
        let rest: Vec<&str> = words.collect();
        Ok(match (verb, rest.as_slice()) {
            ("touch", [x, y]) => Control::Touch(x.parse()?, y.parse()?),
            ("tap", names) if !names.is_empty() => Control::Tap(names.join(" ")),
            ("screenshot", [path]) => Control::Screenshot((*path).to_string()),
            ("state", []) => Control::State,
            ("sleep", [ms]) => Control::Sleep(ms.parse()?),
            ("reboot", []) => Control::Reboot,
            _ => bail!("unknown command {line:?} (touch X Y | tap NAME | screenshot FILE | state | sleep MS | reboot)"),
        })
    }
}

/// Where the centre of a named button of the current screen is.
pub fn button_centre(reader: &Reader<SimBoard>, name: &str) -> Option<(u16, u16)> {
    let wanted = |key: Key| -> bool {
        match (name, key) {
            ("face", Key::Link(Button::Face))
            | ("pin", Key::Link(Button::Pin))
            | ("yes", Key::Link(Button::Yes))
            | ("no", Key::Link(Button::No))
            | ("confirm", Key::Link(Button::Confirm))
            | ("one-by-one", Key::Link(Button::OneByOne))
            | ("call-staff", Key::Link(Button::CallStaff))
            | ("cancel", Key::Link(Button::Cancel))
            | ("correct", Key::Link(Button::PinCorrect))
            | ("large-text", Key::LargeText)
            | ("previous", Key::PagePrevious)
            | ("next", Key::PageNext) => true,
            (n, Key::Digit(d)) => {
                n.strip_prefix("digit ").and_then(|v| v.parse::<u8>().ok()) == Some(d)
            }
            _ => false,
        }
    };
    ui::buttons(reader.view(), reader.layout())
        .iter()
        .find(|b| wanted(b.key))
        .map(|b| {
            let c = b.area.center();
            (c.x as u16, c.y as u16)
        })
}

/// One line describing the state (no PIN digits, no name).
pub fn describe(reader: &Reader<SimBoard>) -> String {
    let view = reader.view();
    let name = match view {
        View::Done { .. } => "Done".to_string(),
        other => format!("{other:?}"),
    };
    let digits: Vec<String> = ui::buttons(view, reader.layout())
        .iter()
        .filter_map(|b| match b.label {
            Label::Digit(d) => Some(d.to_string()),
            _ => None,
        })
        .collect();
    let voice = reader.voice();
    format!(
        "screen={name} visual_check={} entered={} pad={} lang={} voice={}:{} boot={} session={} large={}",
        reader.visual_check(),
        reader.entered(),
        if digits.is_empty() {
            "-".into()
        } else {
            digits.join("")
        },
        match reader.lang() {
            reader_fw::catalogue::Lang::Ja => "ja",
            reader_fw::catalogue::Lang::En => "en",
        },
        if voice.on { "on" } else { "off" },
        voice.volume,
        reader.boot_id(),
        reader.session().map_or("-".into(), |s| s.to_string()),
        reader.large_text(),
    )
}

/// Saves the display as a PNG.
pub fn screenshot(reader: &mut Reader<SimBoard>, path: &Path) -> Result<()> {
    reader
        .board()
        .display
        .save_png(path)
        .with_context(|| format!("writing {}", path.display()))
}

/// The firmware on the simulated board as the host link's transport, in
/// this process: for tests and benches that drive a whole kiosk without a
/// socket. Sending hands the bytes to the firmware; receiving polls it.
pub struct InProcessReader {
    /// The firmware (tests press its panel through `reader.board()`).
    pub reader: Reader<SimBoard>,
    to_host: std::collections::VecDeque<u8>,
}

impl InProcessReader {
    /// Around a started firmware.
    pub fn new(reader: Reader<SimBoard>) -> InProcessReader {
        InProcessReader {
            reader,
            to_host: std::collections::VecDeque::new(),
        }
    }
}

impl myna_link::FrameTransport for InProcessReader {
    fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let out = &mut self.to_host;
        self.reader.receive(bytes, &mut |f: &[u8]| out.extend(f));
        Ok(())
    }

    fn recv(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.to_host.is_empty() {
            let out = &mut self.to_host;
            self.reader.poll(&mut |f: &[u8]| out.extend(f));
        }
        if self.to_host.is_empty() {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        let n = buf.len().min(self.to_host.len());
        for (slot, byte) in buf.iter_mut().zip(self.to_host.drain(..n)) {
            *slot = byte;
        }
        Ok(n)
    }

    fn reconnect(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
