//! Update and boot against the simulated NOR flash: the power-cut matrix
//! (a cut at every flash operation of a whole update, and a failed
//! operation at every one), rollback of a trial
//! that never confirms, anti-rollback, and each refusal with its own error
//! leaving the running image untouched.
#![allow(clippy::unwrap_used)]

use myna_hal::embedded_storage::nor_flash::{NorFlash, ReadNorFlash};
use myna_hal::sim::SimFlash;
use myna_image::{public_key, sign, ImageError, Release};
use myna_link::FirmwareRefusal;
use reader_fw::update::{
    self, read_state, verify_slot, Booted, FlashLayout, Trust, UpdateError, Updater, HW_ID,
};

const SECRET: [u8; 32] = [0x42; 32];
const OTHER: [u8; 32] = [0x43; 32];
/// Two state sectors and two 16 KiB slots.
const SIZE: usize = 2 * 4096 + 2 * 16 * 1024;
/// Not a multiple of the write size, so staging and padding are exercised.
const CHUNK: usize = 1001;

fn trust() -> Trust {
    Trust {
        public_key: public_key(&SECRET),
        hw_id: HW_ID,
    }
}

fn layout() -> FlashLayout {
    FlashLayout::whole::<SimFlash>(SIZE).unwrap()
}

fn image_with(secret: &[u8; 32], hw_id: u32, version: u32, counter: u32, len: usize) -> Vec<u8> {
    let body: Vec<u8> = (0..len).map(|i| (i as u32 * 7 + version) as u8).collect();
    let release = Release {
        hw_id,
        version,
        security_counter: counter,
    };
    let (header, signature) = sign(secret, release, &body).unwrap();
    [&header[..], &body[..], &signature[..]].concat()
}

fn image(version: u32, counter: u32) -> Vec<u8> {
    image_with(&SECRET, HW_ID, version, counter, 6000 + version as usize)
}

/// A reader from the factory: version 1 in slot A, no state record.
fn factory() -> SimFlash {
    let mut flash = SimFlash::new(SIZE);
    let mut bytes = image(1, 1);
    while !bytes.len().is_multiple_of(4) {
        bytes.push(0xFF);
    }
    flash.write(layout().slots[0], &bytes).unwrap();
    flash
}

/// Sends `bytes` (a whole signed image) the way the link does.
fn send(updater: &mut Updater, flash: &mut SimFlash, bytes: &[u8]) -> Result<(), UpdateError> {
    send_in(updater, flash, bytes, CHUNK)
}

fn send_in(
    updater: &mut Updater,
    flash: &mut SimFlash,
    bytes: &[u8],
    chunk: usize,
) -> Result<(), UpdateError> {
    let (signed, signature) = bytes.split_at(bytes.len() - 64);
    let version = u32::from_le_bytes(signed[12..16].try_into().unwrap());
    updater.begin(flash, signed.len() as u32, version)?;
    for (i, piece) in signed.chunks(chunk).enumerate() {
        updater.chunk(flash, (i * chunk) as u32, piece)?;
    }
    updater.commit(flash, signature)?;
    Ok(())
}

fn start(flash: &mut SimFlash) -> Result<(Booted, Updater), UpdateError> {
    let booted = update::boot(flash, &layout(), &trust())?;
    Ok((
        booted,
        Updater::new(layout(), trust(), booted.slot, booted.trial),
    ))
}

/// The whole procedure: boot, receive v2, restart into the trial, confirm.
fn full_update(flash: &mut SimFlash, new: &[u8]) -> Result<(), UpdateError> {
    let (_, mut updater) = start(flash)?;
    // Small odd chunks: many writes, each one a place to cut.
    send_in(&mut updater, flash, new, 251)?;
    let (mut booted, _) = start(flash)?;
    update::confirm(flash, &layout(), &mut booted)?;
    Ok(())
}

fn slot_bytes(flash: &mut SimFlash, slot: usize) -> Vec<u8> {
    let mut bytes = vec![0; layout().slot_size as usize];
    flash.read(layout().slots[slot], &mut bytes).unwrap();
    bytes
}

#[test]
fn an_update_trial_boots_confirms_and_raises_the_counter() {
    let mut flash = factory();
    let (booted, mut updater) = start(&mut flash).unwrap();
    assert_eq!(
        (booted.slot, booted.header.version, booted.trial),
        (0, 1, false)
    );
    send(&mut updater, &mut flash, &image(2, 3)).unwrap();
    // Not confirmed yet: the counter has not moved.
    assert_eq!(
        read_state(&mut flash, &layout()).unwrap().security_counter,
        0
    );
    let (mut booted, mut updater) = start(&mut flash).unwrap();
    assert_eq!(
        (booted.slot, booted.header.version, booted.trial),
        (1, 2, true)
    );
    // While on trial the confirmed image may not be overwritten.
    assert_eq!(
        send(&mut updater, &mut flash, &image(3, 3)),
        Err(UpdateError::Unconfirmed)
    );
    update::confirm(&mut flash, &layout(), &mut booted).unwrap();
    let state = read_state(&mut flash, &layout()).unwrap();
    assert_eq!(
        (state.active, state.trial, state.security_counter),
        (1, None, 3)
    );
    let (booted, _) = start(&mut flash).unwrap();
    assert_eq!(
        (booted.slot, booted.header.version, booted.trial),
        (1, 2, false)
    );
}

#[test]
fn a_trial_that_never_confirms_is_rolled_back() {
    let mut flash = factory();
    let (_, mut updater) = start(&mut flash).unwrap();
    send(&mut updater, &mut flash, &image(2, 2)).unwrap();
    let (booted, _) = start(&mut flash).unwrap();
    assert!(booted.trial);
    // It crashed before confirming: the next start runs the old image.
    let (booted, _) = start(&mut flash).unwrap();
    assert_eq!(
        (booted.slot, booted.header.version, booted.trial),
        (0, 1, false)
    );
    let state = read_state(&mut flash, &layout()).unwrap();
    assert_eq!(
        (state.active, state.trial, state.security_counter),
        (0, None, 0)
    );
    // And again: it stays rolled back.
    let (booted, _) = start(&mut flash).unwrap();
    assert_eq!((booted.slot, booted.trial), (0, false));
}

#[test]
fn each_bad_image_is_refused_with_its_own_error_and_the_running_image_untouched() {
    let mut flash = factory();
    full_update(&mut flash, &image(2, 5)).unwrap(); // counter now 5, slot B
    let good = image(3, 5);
    let mut tampered_body = good.clone();
    tampered_body[64 + 100] ^= 0x01;
    let mut tampered_header = good.clone();
    tampered_header[16] ^= 0x02; // the security counter, 5 -> 7
    let cases: Vec<(&str, Vec<u8>, UpdateError, FirmwareRefusal)> = vec![
        (
            "tampered body",
            tampered_body,
            UpdateError::Image(ImageError::BodyHash),
            FirmwareRefusal::BodyHash,
        ),
        (
            "tampered header",
            tampered_header,
            UpdateError::Image(ImageError::Signature),
            FirmwareRefusal::Signature,
        ),
        (
            "wrong key",
            image_with(&OTHER, HW_ID, 3, 5, 5000),
            UpdateError::Image(ImageError::UnknownKey),
            FirmwareRefusal::UnknownKey,
        ),
        (
            "wrong hardware",
            image_with(&SECRET, HW_ID + 1, 3, 5, 5000),
            UpdateError::WrongHardware,
            FirmwareRefusal::WrongHardware,
        ),
        (
            "truncated",
            Vec::new(),
            UpdateError::Image(ImageError::Truncated),
            FirmwareRefusal::Truncated,
        ),
        (
            "downgrade",
            image(3, 4),
            UpdateError::Downgrade,
            FirmwareRefusal::Downgrade,
        ),
        (
            "too large",
            image_with(&SECRET, HW_ID, 3, 5, 17 * 1024),
            UpdateError::TooLarge,
            FirmwareRefusal::TooLarge,
        ),
    ];
    let running = slot_bytes(&mut flash, 1);
    let state = read_state(&mut flash, &layout()).unwrap();
    for (name, bytes, expected, reason) in cases {
        let (_, mut updater) = start(&mut flash).unwrap();
        let got = if name == "truncated" {
            // The host ran out of image and committed what it had sent.
            let (signed, signature) = good.split_at(good.len() - 64);
            updater.begin(&mut flash, signed.len() as u32, 3).unwrap();
            updater
                .chunk(&mut flash, 0, &signed[..signed.len() - 10])
                .unwrap();
            updater.commit(&mut flash, signature)
        } else {
            send(&mut updater, &mut flash, &bytes).map(|()| unreachable!("{name} accepted"))
        };
        assert_eq!(got.unwrap_err(), expected, "{name}");
        assert_eq!(updater.last_error(), Some(expected), "{name}");
        // The reason the link carries to the technician's tool.
        assert_eq!(expected.refusal(), reason, "{name}");
        assert_eq!(
            slot_bytes(&mut flash, 1),
            running,
            "{name}: running image changed"
        );
        assert_eq!(
            read_state(&mut flash, &layout()).unwrap(),
            state,
            "{name}: state changed"
        );
        let (booted, _) = start(&mut flash).unwrap();
        assert_eq!(
            (booted.slot, booted.header.version, booted.trial),
            (1, 2, false),
            "{name}"
        );
    }
    // A good one still goes through afterwards.
    full_update(&mut flash, &good).unwrap();
    let (booted, _) = start(&mut flash).unwrap();
    assert_eq!((booted.slot, booted.header.version), (0, 3));
}

#[test]
fn chunks_out_of_order_are_refused_and_repeats_accepted() {
    let mut flash = factory();
    let (_, mut updater) = start(&mut flash).unwrap();
    let bytes = image(2, 1);
    let signed = &bytes[..bytes.len() - 64];
    updater.begin(&mut flash, signed.len() as u32, 2).unwrap();
    assert_eq!(updater.chunk(&mut flash, 0, &signed[..100]), Ok(100));
    assert_eq!(updater.chunk(&mut flash, 0, &signed[..100]), Ok(100));
    assert_eq!(
        updater.chunk(&mut flash, 200, &signed[200..300]),
        Err(UpdateError::OutOfOrder)
    );
    assert_eq!(
        updater.chunk(&mut flash, 100, &signed[100..200]),
        Err(UpdateError::NotStarted)
    );
    assert_eq!(
        updater
            .begin(&mut flash, signed.len() as u32, 9)
            .and_then(|()| updater.chunk(&mut flash, 0, &signed[..100])),
        Err(UpdateError::Mismatch)
    );
}

/// A reader that was updated once already: v2 confirmed in slot B with
/// security counter 2, so the state record holds something to lose.
fn updated_once() -> SimFlash {
    let mut flash = factory();
    full_update(&mut flash, &image(2, 2)).unwrap();
    flash
}

/// The reader after a cut: it must start a valid signed image, the old or
/// the new, and keep its security counter.
fn check_bootable(flash: &mut SimFlash, cut: usize) -> u32 {
    let (mut booted, _) =
        start(flash).unwrap_or_else(|e| panic!("cut at {cut}: no image boots: {e:?}"));
    let header = verify_slot(flash, &layout(), &trust(), booted.slot).unwrap();
    assert!(
        matches!(header.version, 2 | 3),
        "cut at {cut}: version {}",
        header.version
    );
    let state = read_state(flash, &layout()).unwrap();
    // Never lost (a torn record must not reset it) and only raised by a
    // confirmed image that carries it.
    match state.security_counter {
        2 => {}
        3 => assert_eq!((state.active, header.version), (0, 3), "cut at {cut}"),
        n => panic!("cut at {cut}: security counter {n}"),
    }
    update::confirm(flash, &layout(), &mut booted).unwrap();
    header.version
}

#[test]
fn a_power_cut_at_every_flash_operation_always_leaves_a_bootable_image() {
    let new = image(3, 3);
    let mut dry = updated_once();
    let before = dry.operations();
    full_update(&mut dry, &new).unwrap();
    let operations = dry.operations() - before;
    assert!(operations > 20, "{operations}");

    let mut outcomes = [0usize; 4];
    for cut in 0..=operations {
        let mut flash = updated_once();
        flash.lose_power_after(cut);
        // Where the cut lands decides what fails (a failed trial marker
        // just boots the old image), so only the outcome is checked.
        let _ = full_update(&mut flash, &new);
        flash.restore_power();
        let version = check_bootable(&mut flash, cut);
        outcomes[version as usize] += 1;
        // Twice: a rollback or a confirmation must be stable too.
        assert_eq!(check_bootable(&mut flash, cut), version, "cut at {cut}");
        // And the reader can still be updated.
        full_update(&mut flash, &image(4, 4)).unwrap();
        let (booted, _) = start(&mut flash).unwrap();
        assert_eq!(booted.header.version, 4, "cut at {cut}");
    }
    // Both outcomes happen: early cuts keep v2, late ones (after the
    // confirmation record) run v3.
    assert!(outcomes[2] > 0 && outcomes[3] > 0, "{outcomes:?}");
    eprintln!(
        "power-cut matrix: {} cuts, outcomes {outcomes:?}",
        operations + 1
    );
}

#[test]
fn a_failed_flash_operation_anywhere_leaves_a_bootable_image() {
    let new = image(3, 3);
    let mut dry = updated_once();
    let before = dry.operations();
    full_update(&mut dry, &new).unwrap();
    let operations = dry.operations() - before;
    let mut refused = 0;
    for failed in 0..operations {
        let mut flash = updated_once();
        flash.fail_after(failed);
        if full_update(&mut flash, &new).is_err() {
            refused += 1;
        }
        check_bootable(&mut flash, failed);
        full_update(&mut flash, &image(4, 4)).unwrap();
        assert_eq!(
            start(&mut flash).unwrap().0.header.version,
            4,
            "failed at {failed}"
        );
    }
    assert!(refused > 0);
}

#[test]
fn a_damaged_active_slot_falls_back_to_the_other_valid_one() {
    let mut flash = factory();
    full_update(&mut flash, &image(2, 1)).unwrap();
    // Slot B (active) loses a sector; slot A still holds v1 (counter 1).
    let at = layout().slots[1];
    flash.erase(at, at + 4096).unwrap();
    let (booted, _) = start(&mut flash).unwrap();
    assert_eq!((booted.slot, booted.header.version), (0, 1));
}

/// Running from the fallback: v2 (counter 1) confirmed in slot B lost a
/// sector, so v1 in slot A runs while the record still names B.
fn on_fallback() -> SimFlash {
    let mut flash = factory();
    full_update(&mut flash, &image(2, 1)).unwrap();
    let at = layout().slots[1];
    flash.erase(at, at + 4096).unwrap();
    flash
}

#[test]
fn from_the_fallback_slot_a_failed_trial_rolls_back_to_the_image_that_ran() {
    let mut flash = on_fallback();
    let (booted, mut updater) = start(&mut flash).unwrap();
    assert_eq!(
        (booted.slot, booted.header.version, booted.trial),
        (0, 1, false)
    );
    // The new image goes into slot B, the one the record named.
    send(&mut updater, &mut flash, &image(3, 1)).unwrap();
    let (booted, _) = start(&mut flash).unwrap();
    assert_eq!(
        (booted.slot, booted.header.version, booted.trial),
        (1, 3, true)
    );
    // It never confirms: every later start runs v1 from slot A, never v3
    // as if it were confirmed.
    for _ in 0..3 {
        let (booted, _) = start(&mut flash).unwrap();
        assert_eq!(
            (booted.slot, booted.header.version, booted.trial),
            (0, 1, false)
        );
    }
}

#[test]
fn a_power_cut_anywhere_in_an_update_from_the_fallback_slot_keeps_a_confirmed_image() {
    let new = image(3, 1);
    let mut dry = on_fallback();
    let before = dry.operations();
    full_update(&mut dry, &new).unwrap();
    let operations = dry.operations() - before;
    assert!(operations > 20, "{operations}");
    let mut outcomes = [0usize; 4];
    for cut in 0..=operations {
        let mut flash = on_fallback();
        flash.lose_power_after(cut);
        let completed = full_update(&mut flash, &new).is_ok();
        flash.restore_power();
        let (first, _) = start(&mut flash).unwrap_or_else(|e| panic!("cut at {cut}: {e:?}"));
        match (first.header.version, first.trial) {
            (1, false) => assert_eq!(first.slot, 0, "cut at {cut}"),
            // Confirmed only where the update ran to its confirmation: a
            // new image never starts as confirmed untested.
            (3, false) => assert!(completed && first.slot == 1, "cut at {cut}"),
            // On trial and it never confirms: back to v1, which ran.
            (3, true) => {
                let (again, _) = start(&mut flash).unwrap();
                assert_eq!(
                    (again.slot, again.header.version, again.trial),
                    (0, 1, false),
                    "cut at {cut}"
                );
            }
            other => panic!("cut at {cut}: {other:?}"),
        }
        outcomes[first.header.version as usize] += 1;
    }
    assert!(outcomes[1] > 0 && outcomes[3] > 0, "{outcomes:?}");
    eprintln!(
        "power-cut matrix from the fallback: {} cuts, outcomes {outcomes:?}",
        operations + 1
    );
}

#[test]
fn a_blank_reader_has_nothing_to_boot() {
    let mut flash = SimFlash::new(SIZE);
    assert_eq!(start(&mut flash).unwrap_err(), UpdateError::NoValidImage);
}
