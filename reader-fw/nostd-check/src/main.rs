//! A freestanding program around the firmware core: a board whose parts do
//! nothing, one frame from the host, one poll. It is linked, never run.
#![no_std]
#![no_main]

use embedded_graphics_core::pixelcolor::Rgb565;
use myna_hal::{
    Camera, Clock, FrameInfo, Framebuffer, Indicator, Speaker, Tone, Touch, TouchPoint,
};
use myna_link::{HostEndpoint, HostToDevice, Screen};
use reader_fw::catalogue::Lang;
use reader_fw::device::{Board, Identity, Reader};
use reader_fw::update::{self, FlashLayout, Trust, Updater};

struct NoCamera;
impl Camera for NoCamera {
    type Error = ();
    fn start(&mut self) -> Result<FrameInfo, ()> {
        Err(())
    }
    fn read(&mut self, _: &mut [u8]) -> Result<usize, ()> {
        Ok(0)
    }
}
struct NoTouch;
impl Touch for NoTouch {
    type Error = ();
    fn poll(&mut self) -> Result<Option<TouchPoint>, ()> {
        Ok(None)
    }
}
struct Quiet;
impl Indicator for Quiet {
    fn tone(&mut self, _: Tone) {}
    fn light(&mut self, _: bool) {}
}
/// Takes every sample (a DAC with room to spare).
struct Mute(usize);
impl Speaker for Mute {
    type Error = ();
    fn start(&mut self, _: u32, _: &str) -> Result<(), ()> {
        Ok(())
    }
    fn write(&mut self, samples: &[i16]) -> Result<usize, ()> {
        self.0 += samples.len();
        Ok(samples.len())
    }
    fn finish(&mut self) -> Result<(), ()> {
        Ok(())
    }
    fn stop(&mut self) {}
}
struct Counter(u32);
impl rand_core::RngCore for Counter {
    fn next_u32(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        self.0
    }
    fn next_u64(&mut self) -> u64 {
        u64::from(self.next_u32())
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand_core::impls::fill_bytes_via_next(self, dest)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}
struct NoFlash;
impl myna_hal::embedded_storage::nor_flash::ErrorType for NoFlash {
    type Error = myna_hal::embedded_storage::nor_flash::NorFlashErrorKind;
}
impl myna_hal::embedded_storage::nor_flash::ReadNorFlash for NoFlash {
    const READ_SIZE: usize = 1;
    fn read(&mut self, _: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        bytes.fill(0xFF);
        Ok(())
    }
    fn capacity(&self) -> usize {
        64 * 1024
    }
}
impl myna_hal::embedded_storage::nor_flash::NorFlash for NoFlash {
    const WRITE_SIZE: usize = 4;
    const ERASE_SIZE: usize = 4096;
    fn erase(&mut self, _: u32, _: u32) -> Result<(), Self::Error> {
        Ok(())
    }
    fn write(&mut self, _: u32, _: &[u8]) -> Result<(), Self::Error> {
        Ok(())
    }
}
struct Zero;
impl Clock for Zero {
    fn now_ms(&self) -> u64 {
        0
    }
}

struct Tiny<'a> {
    display: Framebuffer<'a>,
    touch: NoTouch,
    camera: NoCamera,
    card: NoCamera,
    indicator: Quiet,
    speaker: Mute,
    rng: Counter,
    clock: Zero,
    flash: NoFlash,
}

impl<'a> Board for Tiny<'a> {
    type Display = Framebuffer<'a>;
    type Touch = NoTouch;
    type PatientCamera = NoCamera;
    type CardCamera = NoCamera;
    type Indicator = Quiet;
    type Speaker = Mute;
    type Rng = Counter;
    type Clock = Zero;
    type Flash = NoFlash;
    fn display(&mut self) -> &mut Framebuffer<'a> {
        &mut self.display
    }
    fn touch(&mut self) -> &mut NoTouch {
        &mut self.touch
    }
    fn patient_camera(&mut self) -> &mut NoCamera {
        &mut self.camera
    }
    fn display_and_patient_camera(&mut self) -> (&mut Framebuffer<'a>, &mut NoCamera) {
        (&mut self.display, &mut self.camera)
    }
    fn card_camera(&mut self) -> &mut NoCamera {
        &mut self.card
    }
    fn indicator(&mut self) -> &mut Quiet {
        &mut self.indicator
    }
    fn speaker(&mut self) -> &mut Mute {
        &mut self.speaker
    }
    fn rng(&mut self) -> &mut Counter {
        &mut self.rng
    }
    fn clock(&self) -> &Zero {
        &self.clock
    }
    fn flash(&mut self) -> &mut NoFlash {
        &mut self.flash
    }
}

#[allow(unsafe_code)]
#[unsafe(no_mangle)]
extern "C" fn _start() -> ! {
    // A small window of the panel: drawing clips, the code paths are the same.
    let mut pixels = [Rgb565::new(0, 0, 0); 80 * 48];
    if let Some(display) = Framebuffer::new(&mut pixels, 80, 48) {
        let board = Tiny {
            display,
            touch: NoTouch,
            camera: NoCamera,
            card: NoCamera,
            indicator: Quiet,
            speaker: Mute(0),
            rng: Counter(1),
            clock: Zero,
            flash: NoFlash,
        };
        let identity = Identity {
            firmware: 1,
            slot: 0,
            boot_id: 1,
        };
        // The boot code's part: pick the image, then hand updates over.
        let mut flash = NoFlash;
        let layout = FlashLayout::whole::<NoFlash>(64 * 1024);
        let slot = layout
            .and_then(|l| update::boot(&mut flash, &l, &Trust::DEV).ok())
            .map_or(0, |b| b.slot);
        let mut reader = Reader::new(board, identity, Lang::Ja);
        if let Some(layout) = layout {
            reader = reader.with_updater(Updater::new(layout, Trust::DEV, slot, false));
        }
        // The voice asset, as the boot code finds it in its partition.
        if let Ok(prompts) = myna_voice::Prompts::parse(myna_voice::ASSET) {
            reader = reader.with_voice(prompts);
        }
        // Both ends of the link, with no allocator.
        let mut host = HostEndpoint::new();
        let mut sent = 0usize;
        if let Ok(hello) = host.hello(7) {
            reader.receive(hello, &mut |f: &[u8]| sent += f.len());
        }
        let show = HostToDevice::ShowScreen {
            screen: Screen::PinEntry {
                tries_left: 3,
                wrong_before: false,
            },
            visual_check: false,
        };
        if let Ok((_, frame)) = host.send(&show) {
            reader.receive(frame, &mut |f: &[u8]| sent += f.len());
        }
        let begin = HostToDevice::FirmwareBegin {
            size: 64,
            version: 2,
        };
        if let Ok((_, frame)) = host.send(&begin) {
            reader.receive(frame, &mut |f: &[u8]| sent += f.len());
        }
        reader.poll(&mut |f: &[u8]| sent += f.len());
        core::hint::black_box(sent);
    }
    loop {
        core::hint::spin_loop();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}

/// The host target's precompiled `core` names an unwinding personality even
/// with `panic = "abort"`; an MCU target's does not. Never called.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}
