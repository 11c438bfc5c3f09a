//! Firmware update and boot: owns the two image slots and the boot-state
//! record on flash. An image arrives over the link into the slot not
//! running, is checked there (length, hash, signature with the baked-in
//! key, hardware id, security counter), and is marked for one trial boot.
//! The firmware that then starts confirms itself ([`confirm`]); one that
//! does not is rolled back at the next start. The security counter rises
//! only at confirmation, and images below it are refused.
//!
//! Power may fail at any write. The boot state is a small record kept in
//! two sectors, each with a sequence number and a CRC-32: a new record
//! goes to the sector holding the older one, so a torn write leaves the
//! newer intact copy in charge. An image is only ever written into the
//! slot that is not running, and the state points at it only after it was
//! verified in place, so at every moment one verified image is bootable.
//!
//! Sans-IO and heap-free like the rest of the core: the flash is passed in
//! (`embedded-storage`'s `NorFlash`), so `SimFlash` tests it.

use embedded_storage::nor_flash::NorFlash;
use myna_image::{Header, Verifier, HEADER_LEN, PUBLIC_KEY_LEN, SIGNATURE_LEN};
use myna_link::{DeviceError, DeviceToHost, FirmwareRefusal, HostToDevice};

pub use myna_image::{self, ImageError};

/// The hardware id of this reader model, checked against each image's.
pub const HW_ID: u32 = 0x4d59_0001;

/// The development build's public key (the matching secret is
/// `myna_image::DEV_SECRET_KEY`, public on purpose): production builds
/// bake in the release key here instead.
pub const DEV_PUBLIC_KEY: [u8; PUBLIC_KEY_LEN] = myna_image::DEV_PUBLIC_KEY;

/// Bytes of one boot-state record.
const RECORD_LEN: usize = 32;
const RECORD_MAGIC: [u8; 4] = *b"MYBS";
/// Flash is read in pieces this big while verifying (stack, not heap).
const READ_CHUNK: usize = 256;
/// The largest write unit this module can stage.
const MAX_WRITE: usize = 16;

const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// Why an update or a boot failed. Each refusal has its own value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateError {
    /// The image itself (truncated, bad magic, hash, signature, key …).
    Image(ImageError),
    /// Built for another board.
    WrongHardware,
    /// Its security counter is below the reader's.
    Downgrade,
    /// Does not fit a slot.
    TooLarge,
    /// `FirmwareBegin`'s size or version disagrees with the header.
    Mismatch,
    /// A chunk or commit without a begun update.
    NotStarted,
    /// A chunk at an offset other than the next byte expected.
    OutOfOrder,
    /// The running image is still on trial: updating now would overwrite
    /// the only confirmed image.
    Unconfirmed,
    /// The flash failed (or its geometry does not suit this module).
    Flash,
    /// No slot holds a valid image.
    NoValidImage,
}

impl UpdateError {
    /// The reason as the link carries it.
    pub fn refusal(self) -> FirmwareRefusal {
        match self {
            UpdateError::Image(e) => match e {
                ImageError::Truncated | ImageError::TrailingBytes => FirmwareRefusal::Truncated,
                ImageError::BadMagic | ImageError::HeaderVersion | ImageError::BadHeader => {
                    FirmwareRefusal::Malformed
                }
                ImageError::UnknownKey => FirmwareRefusal::UnknownKey,
                ImageError::TooLarge => FirmwareRefusal::TooLarge,
                ImageError::BodyHash => FirmwareRefusal::BodyHash,
                // The baked-in key is not a point: nothing verifies with it.
                ImageError::Signature | ImageError::BadKey => FirmwareRefusal::Signature,
            },
            UpdateError::WrongHardware => FirmwareRefusal::WrongHardware,
            UpdateError::Downgrade => FirmwareRefusal::Downgrade,
            UpdateError::TooLarge => FirmwareRefusal::TooLarge,
            UpdateError::Mismatch => FirmwareRefusal::Mismatch,
            UpdateError::NotStarted => FirmwareRefusal::NotStarted,
            UpdateError::OutOfOrder => FirmwareRefusal::OutOfOrder,
            UpdateError::Unconfirmed => FirmwareRefusal::Unconfirmed,
            UpdateError::Flash | UpdateError::NoValidImage => FirmwareRefusal::Flash,
        }
    }
}

impl From<ImageError> for UpdateError {
    fn from(e: ImageError) -> Self {
        UpdateError::Image(e)
    }
}

/// What the reader trusts: the key images must be signed with and the
/// hardware id they must name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trust {
    /// Ed25519 public key.
    pub public_key: [u8; PUBLIC_KEY_LEN],
    /// This board.
    pub hw_id: u32,
}

impl Trust {
    /// The development build's trust.
    pub const DEV: Trust = Trust {
        public_key: DEV_PUBLIC_KEY,
        hw_id: HW_ID,
    };
}

/// Where things are on the flash: two state sectors, then two slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlashLayout {
    /// Offsets of the two boot-state copies (one erase sector each).
    pub state: [u32; 2],
    /// Offsets of slot A and slot B.
    pub slots: [u32; 2],
    /// Bytes per slot (a multiple of the erase size).
    pub slot_size: u32,
}

impl FlashLayout {
    /// The whole part of `capacity` bytes, for flash `F`: the state in the
    /// first two sectors, the rest split evenly between the slots.
    pub fn whole<F: NorFlash>(capacity: usize) -> Option<FlashLayout> {
        let sector = u32::try_from(F::ERASE_SIZE).ok()?;
        if F::WRITE_SIZE > MAX_WRITE || !RECORD_LEN.is_multiple_of(F::WRITE_SIZE) || sector == 0 {
            return None;
        }
        let capacity = u32::try_from(capacity).ok()?;
        let slot_size = (capacity.checked_sub(2 * sector)? / 2) / sector * sector;
        if slot_size == 0 {
            return None;
        }
        Some(FlashLayout {
            state: [0, sector],
            slots: [2 * sector, 2 * sector + slot_size],
            slot_size,
        })
    }

    fn slot(&self, slot: u8) -> u32 {
        self.slots[usize::from(slot & 1)]
    }
}

/// The boot state as recorded on flash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootState {
    /// Sequence number of the record (the newer copy wins).
    pub seq: u32,
    /// The confirmed slot.
    pub active: u8,
    /// A slot to try once at the next start.
    pub trial: Option<u8>,
    /// The trial was started (and has not confirmed yet).
    pub tried: bool,
    /// Images below this counter are refused.
    pub security_counter: u32,
}

impl BootState {
    /// A reader that never recorded anything: slot A, counter 0.
    pub const FACTORY: BootState = BootState {
        seq: 0,
        active: 0,
        trial: None,
        tried: false,
        security_counter: 0,
    };

    fn encode(&self) -> [u8; RECORD_LEN] {
        let mut r = [0u8; RECORD_LEN];
        r[0..4].copy_from_slice(&RECORD_MAGIC);
        r[4..8].copy_from_slice(&self.seq.to_le_bytes());
        r[8] = self.active & 1;
        r[9] = self.trial.map_or(0xFF, |s| s & 1);
        r[10] = u8::from(self.tried);
        r[12..16].copy_from_slice(&self.security_counter.to_le_bytes());
        let crc = CRC.checksum(&r[..RECORD_LEN - 4]);
        r[RECORD_LEN - 4..].copy_from_slice(&crc.to_le_bytes());
        r
    }

    fn decode(r: &[u8; RECORD_LEN]) -> Option<BootState> {
        let crc = u32::from_le_bytes([r[28], r[29], r[30], r[31]]);
        if r[0..4] != RECORD_MAGIC || CRC.checksum(&r[..RECORD_LEN - 4]) != crc {
            return None;
        }
        let word = |at: usize| u32::from_le_bytes([r[at], r[at + 1], r[at + 2], r[at + 3]]);
        Some(BootState {
            seq: word(4),
            active: r[8] & 1,
            trial: match r[9] {
                0xFF => None,
                s => Some(s & 1),
            },
            tried: r[10] != 0,
            security_counter: word(12),
        })
    }
}

/// The newest intact boot-state record, or [`BootState::FACTORY`].
pub fn read_state<F: NorFlash>(
    flash: &mut F,
    layout: &FlashLayout,
) -> Result<BootState, UpdateError> {
    let mut newest: Option<BootState> = None;
    for at in layout.state {
        let mut r = [0u8; RECORD_LEN];
        flash.read(at, &mut r).map_err(|_| UpdateError::Flash)?;
        if let Some(s) = BootState::decode(&r) {
            if newest.is_none_or(|n| s.seq > n.seq) {
                newest = Some(s);
            }
        }
    }
    Ok(newest.unwrap_or(BootState::FACTORY))
}

/// Records `next` as the newest state, in the copy holding the older one.
fn write_state<F: NorFlash>(
    flash: &mut F,
    layout: &FlashLayout,
    current: &BootState,
    next: BootState,
) -> Result<BootState, UpdateError> {
    let next = BootState {
        seq: current.seq.wrapping_add(1),
        ..next
    };
    // Alternating by sequence number: the copy written is never the one
    // holding `current`, so a torn write leaves `current` readable.
    let at = layout.state[(next.seq & 1) as usize];
    let sector = F::ERASE_SIZE as u32;
    flash
        .erase(at, at + sector)
        .map_err(|_| UpdateError::Flash)?;
    flash
        .write(at, &next.encode())
        .map_err(|_| UpdateError::Flash)?;
    Ok(next)
}

/// Verifies the image in `slot` in place: header, hardware id, size,
/// key id, hash and signature (read back from flash, so a bad write is
/// caught too).
pub fn verify_slot<F: NorFlash>(
    flash: &mut F,
    layout: &FlashLayout,
    trust: &Trust,
    slot: u8,
) -> Result<Header, UpdateError> {
    let base = layout.slot(slot);
    let mut header = [0u8; HEADER_LEN];
    flash
        .read(base, &mut header)
        .map_err(|_| UpdateError::Flash)?;
    let mut verifier = Verifier::new(&header)?;
    let h = *verifier.header();
    check_header(&h, trust, layout)?;
    let mut buf = [0u8; READ_CHUNK];
    let mut at = base + HEADER_LEN as u32;
    let end = at + h.body_len;
    while at < end {
        let n = (end - at).min(READ_CHUNK as u32);
        let piece = &mut buf[..n as usize];
        flash.read(at, piece).map_err(|_| UpdateError::Flash)?;
        verifier.update(piece);
        at += n;
    }
    let mut signature = [0u8; SIGNATURE_LEN];
    flash
        .read(end, &mut signature)
        .map_err(|_| UpdateError::Flash)?;
    Ok(verifier.finish(&trust.public_key, &signature)?)
}

fn check_header(h: &Header, trust: &Trust, layout: &FlashLayout) -> Result<(), UpdateError> {
    if h.hw_id != trust.hw_id {
        return Err(UpdateError::WrongHardware);
    }
    match h.image_len() {
        Some(len) if len <= layout.slot_size as usize => Ok(()),
        _ => Err(UpdateError::TooLarge),
    }
}

/// The image a start chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Booted {
    /// Its slot.
    pub slot: u8,
    /// Its header (version, counter).
    pub header: Header,
    /// On trial: it must [`confirm`] or the next start rolls it back.
    pub trial: bool,
}

/// What the boot code runs at every start: picks the image to run. A
/// pending trial is tried once (recorded before it runs, so a trial that
/// hangs or resets is rolled back at the next start); otherwise the
/// confirmed slot, or the other one if the confirmed one is damaged.
pub fn boot<F: NorFlash>(
    flash: &mut F,
    layout: &FlashLayout,
    trust: &Trust,
) -> Result<Booted, UpdateError> {
    let state = read_state(flash, layout)?;
    let counter_ok = |h: &Header| h.security_counter >= state.security_counter;
    let mut settled = state;
    if let Some(trial) = state.trial {
        let candidate = verify_slot(flash, layout, trust, trial);
        let cleared = BootState {
            trial: None,
            tried: false,
            ..state
        };
        match candidate {
            Ok(header) if !state.tried && counter_ok(&header) => {
                let tried = BootState {
                    tried: true,
                    ..state
                };
                // Only run the trial once that it ran is on flash: else a
                // trial that never confirms would be tried for ever.
                if write_state(flash, layout, &state, tried).is_ok() {
                    return Ok(Booted {
                        slot: trial,
                        header,
                        trial: true,
                    });
                }
            }
            // Tried and not confirmed, or not valid: roll back. If this
            // write fails the next start decides the same again.
            _ => {
                if let Ok(s) = write_state(flash, layout, &state, cleared) {
                    settled = s;
                }
            }
        }
    }
    for slot in [settled.active, settled.active ^ 1] {
        if let Ok(header) = verify_slot(flash, layout, trust, slot) {
            if counter_ok(&header) {
                return Ok(Booted {
                    slot,
                    header,
                    trial: false,
                });
            }
        }
    }
    Err(UpdateError::NoValidImage)
}

/// Called by a trial image once it started well: it becomes the confirmed
/// slot and the security counter rises to its own. Nothing for a
/// confirmed image.
pub fn confirm<F: NorFlash>(
    flash: &mut F,
    layout: &FlashLayout,
    booted: &mut Booted,
) -> Result<(), UpdateError> {
    if !booted.trial {
        return Ok(());
    }
    let state = read_state(flash, layout)?;
    let next = BootState {
        active: booted.slot,
        trial: None,
        tried: false,
        security_counter: state.security_counter.max(booted.header.security_counter),
        ..state
    };
    write_state(flash, layout, &state, next)?;
    booted.trial = false;
    Ok(())
}

/// An image being received.
#[derive(Debug, Clone, Copy)]
struct Receiving {
    slot: u8,
    /// Header and body: what the chunks carry (the signature comes with
    /// the commit).
    size: u32,
    version: u32,
    received: u32,
    header: [u8; HEADER_LEN],
    /// Bytes not yet written because they do not fill a write unit.
    pending: [u8; MAX_WRITE],
    pending_len: usize,
    /// Bytes written to the slot so far.
    written: u32,
}

impl Receiving {
    /// Appends to the slot, staging what does not fill a write unit.
    fn push<F: NorFlash>(
        &mut self,
        flash: &mut F,
        base: u32,
        mut data: &[u8],
    ) -> Result<(), UpdateError> {
        let unit = F::WRITE_SIZE;
        while !data.is_empty() {
            if self.pending_len > 0 || data.len() < unit {
                let n = (unit - self.pending_len).min(data.len());
                self.pending[self.pending_len..self.pending_len + n].copy_from_slice(&data[..n]);
                self.pending_len += n;
                data = &data[n..];
                if self.pending_len == unit {
                    self.flush_pending(flash, base)?;
                }
            } else {
                let n = data.len() / unit * unit;
                flash
                    .write(base + self.written, &data[..n])
                    .map_err(|_| UpdateError::Flash)?;
                self.written += n as u32;
                data = &data[n..];
            }
        }
        Ok(())
    }

    /// Writes the staged bytes, padded with erased bytes to a full unit.
    fn flush_pending<F: NorFlash>(&mut self, flash: &mut F, base: u32) -> Result<(), UpdateError> {
        if self.pending_len == 0 {
            return Ok(());
        }
        let unit = F::WRITE_SIZE;
        self.pending[self.pending_len..unit].fill(0xFF);
        flash
            .write(base + self.written, &self.pending[..unit])
            .map_err(|_| UpdateError::Flash)?;
        self.written += unit as u32;
        self.pending_len = 0;
        Ok(())
    }
}

/// The update side of the device: the link's firmware messages land here.
#[derive(Debug, Clone)]
pub struct Updater {
    layout: FlashLayout,
    trust: Trust,
    running_slot: u8,
    on_trial: bool,
    receiving: Option<Receiving>,
    last_error: Option<UpdateError>,
    committed: bool,
}

impl Updater {
    /// For the image running from `slot`; `on_trial` until it confirmed
    /// (no update may then replace the only confirmed image).
    pub fn new(layout: FlashLayout, trust: Trust, slot: u8, on_trial: bool) -> Updater {
        Updater {
            layout,
            trust,
            running_slot: slot & 1,
            on_trial,
            receiving: None,
            last_error: None,
            committed: false,
        }
    }

    /// An image was committed: the boot code should restart the reader so
    /// it runs on trial (the host reconnects and sees the new version).
    pub fn restart_requested(&self) -> bool {
        self.committed
    }

    /// The running image confirmed itself ([`confirm`]).
    pub fn confirmed(&mut self) {
        self.on_trial = false;
    }

    /// Carries out one of the link's firmware messages and gives the
    /// answer: the bytes accepted so far, or `FirmwareRejected` with the
    /// reason (the full one stays in [`Updater::last_error`]).
    pub fn handle<F: NorFlash>(
        &mut self,
        flash: &mut F,
        message: &HostToDevice<'_>,
    ) -> DeviceToHost<'static> {
        let done = match message {
            HostToDevice::FirmwareBegin { size, version } => {
                self.begin(flash, *size, *version).map(|()| 0)
            }
            HostToDevice::FirmwareChunk { offset, data } => self.chunk(flash, *offset, data),
            HostToDevice::FirmwareCommit { signature } => self.commit(flash, signature).map(|h| {
                h.body_len
                    .saturating_add((HEADER_LEN + SIGNATURE_LEN) as u32)
            }),
            _ => return DeviceToHost::Error(DeviceError::Unsupported),
        };
        match done {
            Ok(n) => DeviceToHost::FirmwareProgress(n),
            Err(e) => DeviceToHost::Error(DeviceError::FirmwareRejected(e.refusal())),
        }
    }

    /// Why the last update was refused (for diagnostics and tests).
    pub fn last_error(&self) -> Option<UpdateError> {
        self.last_error
    }

    /// Records a refusal: the update is over, the running image untouched.
    fn refuse(&mut self, e: UpdateError) -> UpdateError {
        self.receiving = None;
        self.last_error = Some(e);
        e
    }

    /// `FirmwareBegin`: erases the slot not running. `size` is header and
    /// body; `version` must match the header's.
    pub fn begin<F: NorFlash>(
        &mut self,
        flash: &mut F,
        size: u32,
        version: u32,
    ) -> Result<(), UpdateError> {
        self.begin_inner(flash, size, version)
            .map_err(|e| self.refuse(e))
    }

    fn begin_inner<F: NorFlash>(
        &mut self,
        flash: &mut F,
        size: u32,
        version: u32,
    ) -> Result<(), UpdateError> {
        self.receiving = None;
        if self.on_trial {
            return Err(UpdateError::Unconfirmed);
        }
        if (size as usize) < HEADER_LEN {
            return Err(UpdateError::Image(ImageError::Truncated));
        }
        let total = size
            .checked_add(SIGNATURE_LEN as u32)
            .ok_or(UpdateError::TooLarge)?;
        if total > self.layout.slot_size {
            return Err(UpdateError::TooLarge);
        }
        let slot = self.running_slot ^ 1;
        // The record must never name the slot about to be erased: not as a
        // trial (a half-written slot would be tried), and not as the
        // confirmed image (running from the fallback, the record still names
        // the damaged slot this update overwrites; a cut before the commit
        // would then boot the new image as confirmed, untested). The image
        // running now is confirmed (no update starts on trial): it is named.
        let state = read_state(flash, &self.layout)?;
        if state.trial == Some(slot) || state.active == slot {
            let cleared = BootState {
                active: self.running_slot,
                trial: None,
                tried: false,
                ..state
            };
            write_state(flash, &self.layout, &state, cleared)?;
        }
        let base = self.layout.slot(slot);
        let sector = F::ERASE_SIZE as u32;
        let end = base + total.div_ceil(sector) * sector;
        flash.erase(base, end).map_err(|_| UpdateError::Flash)?;
        self.receiving = Some(Receiving {
            slot,
            size,
            version,
            received: 0,
            header: [0; HEADER_LEN],
            pending: [0xFF; MAX_WRITE],
            pending_len: 0,
            written: 0,
        });
        Ok(())
    }

    /// `FirmwareChunk`: the next bytes. Returns the bytes accepted so far;
    /// a repeat of bytes already taken (a host resending after a lost
    /// answer) is accepted without writing.
    pub fn chunk<F: NorFlash>(
        &mut self,
        flash: &mut F,
        offset: u32,
        data: &[u8],
    ) -> Result<u32, UpdateError> {
        self.chunk_inner(flash, offset, data)
            .map_err(|e| self.refuse(e))
    }

    fn chunk_inner<F: NorFlash>(
        &mut self,
        flash: &mut F,
        offset: u32,
        data: &[u8],
    ) -> Result<u32, UpdateError> {
        let Some(r) = self.receiving.as_mut() else {
            return Err(UpdateError::NotStarted);
        };
        let end = offset
            .checked_add(data.len() as u32)
            .ok_or(UpdateError::TooLarge)?;
        if offset < r.received && end <= r.received {
            return Ok(r.received);
        }
        if offset != r.received {
            return Err(UpdateError::OutOfOrder);
        }
        if end > r.size {
            return Err(UpdateError::Mismatch);
        }
        // Keep the header as it passes, to refuse a wrong image early.
        let had_header = r.received as usize >= HEADER_LEN;
        if !had_header {
            let from = r.received as usize;
            let n = (HEADER_LEN - from).min(data.len());
            r.header[from..from + n].copy_from_slice(&data[..n]);
        }
        let base = self.layout.slot(r.slot);
        r.push(flash, base, data)?;
        r.received = end;
        if !had_header && r.received as usize >= HEADER_LEN {
            let h = Header::parse(&r.header)?;
            check_header(&h, &self.trust, &self.layout)?;
            let state = read_state(flash, &self.layout)?;
            if h.security_counter < state.security_counter {
                return Err(UpdateError::Downgrade);
            }
            if h.version != r.version || h.image_len() != Some(r.size as usize + SIGNATURE_LEN) {
                return Err(UpdateError::Mismatch);
            }
        }
        Ok(r.received)
    }

    /// `FirmwareCommit`: writes the signature, verifies the slot in place
    /// and marks it for a trial at the next start.
    pub fn commit<F: NorFlash>(
        &mut self,
        flash: &mut F,
        signature: &[u8],
    ) -> Result<Header, UpdateError> {
        self.commit_inner(flash, signature)
            .map_err(|e| self.refuse(e))
    }

    fn commit_inner<F: NorFlash>(
        &mut self,
        flash: &mut F,
        signature: &[u8],
    ) -> Result<Header, UpdateError> {
        let Some(mut r) = self.receiving.take() else {
            return Err(UpdateError::NotStarted);
        };
        if r.received < r.size || signature.len() < SIGNATURE_LEN {
            return Err(UpdateError::Image(ImageError::Truncated));
        }
        if signature.len() > SIGNATURE_LEN {
            return Err(UpdateError::Image(ImageError::TrailingBytes));
        }
        let base = self.layout.slot(r.slot);
        r.push(flash, base, signature)?;
        r.flush_pending(flash, base)?;
        let header = verify_slot(flash, &self.layout, &self.trust, r.slot)?;
        let state = read_state(flash, &self.layout)?;
        if header.security_counter < state.security_counter {
            return Err(UpdateError::Downgrade);
        }
        // The image running now is confirmed (no update starts on trial),
        // and it is what a failed trial must fall back to (`begin` named it
        // already; named again so the commit's record says so by itself).
        let next = BootState {
            active: self.running_slot,
            trial: Some(r.slot),
            tried: false,
            ..state
        };
        write_state(flash, &self.layout, &state, next)?;
        self.last_error = None;
        self.committed = true;
        Ok(header)
    }
}
