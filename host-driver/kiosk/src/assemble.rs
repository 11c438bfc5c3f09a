//! The one place a kiosk is put together from its parts. The clinic's
//! service (`mynareader kiosk`, from its settings), the simulated world of
//! the demo and the end-to-end tests, and the reception bench each build the
//! parts their own way (a USB reader or the simulator's socket or an
//! in-process reader; HTTP or the reference upstream in process) and hand
//! them here, so every one of them runs the same kiosk: the same device
//! identity in the messages, the same face path rule, the same ports.

use std::sync::Arc;
use std::time::Duration;

use myna_card::ApduTransport;
use myna_card_front::CardFrontReader;
use myna_face::FaceEngine;
use myna_link_host::{FrameTransport, ReaderLink};
use myna_reception::ReceptionConfig;
use myna_upstream::clock::{Clock, SystemRng};
use myna_upstream::courier::{Courier, Upstream};
use myna_upstream::messages::DeviceInfo;
use myna_upstream::sender::Sender;
use myna_upstream::signer::DeviceSigner;

use crate::ports::{KioskPorts, Observer};
use crate::service::Kiosk;
use crate::staff::StaffDb;
use crate::worker::Deliver;

/// The face path: both halves or none (照合番号B opens the card photo, so
/// faces cannot be compared without the card-front reader).
pub struct FacePath {
    /// The face models, presentation-attack detection included.
    pub engine: Arc<FaceEngine>,
    /// The card-front reader (照合番号B).
    pub card_front: Arc<CardFrontReader>,
}

/// Where the face work (card photo, comparisons) runs.
pub enum FaceWork {
    /// On a worker thread whose answers go to this queue (the kiosk's own
    /// event queue), so the event loop keeps serving while a face is
    /// compared: the service and the simulated world.
    Worker(Deliver),
    /// In place, on the event loop (a bench stepping the kiosk by hand).
    InPlace,
}

/// What a kiosk is made of.
pub struct Parts<T, U, K> {
    /// The open link to the reader.
    pub link: ReaderLink<T>,
    /// The outbox and its delivery.
    pub courier: Courier<U, K, SystemRng>,
    /// The device key.
    pub signer: Arc<dyn DeviceSigner>,
    /// The reception rules. Whether face is offered is not taken from
    /// here alone: [`assemble`] offers it only with a face path.
    pub reception: ReceptionConfig,
    /// How long the verify request may take before staff are called.
    pub verify_deadline: Duration,
    /// Wait for the reader to confirm each screen (the demo's screenshots).
    pub confirm_screens: bool,
    /// The face path, where its models loaded.
    pub face: Option<FacePath>,
    /// Where the face work runs.
    pub face_work: FaceWork,
    /// Staff accounts, 目視 and the audit trail.
    pub staff: Option<StaffDb>,
    /// Who hears what the kiosk does (the log, the demo's transcript, tests).
    pub observer: Box<dyn Observer>,
}

/// The kiosk over `parts`, on `clock`. The messages name the device by its
/// key and the firmware the reader reported; face is offered only where a
/// face path is given (without models a patient goes to the PIN pad, or to
/// staff with a face-only card). Fails only when the face worker thread
/// cannot start.
pub fn assemble<C, T, U, K>(parts: Parts<T, U, K>, clock: K) -> std::io::Result<Kiosk<C, T, U, K>>
where
    C: ApduTransport,
    T: FrameTransport,
    U: Upstream,
    K: Clock,
{
    let Parts {
        link,
        courier,
        signer,
        mut reception,
        verify_deadline,
        confirm_screens,
        face,
        face_work,
        staff,
        observer,
    } = parts;
    let device = DeviceInfo::new(signer.key_id(), &link.info().firmware.to_string());
    let sender = Sender::new(courier, signer, device, verify_deadline);
    let mut ports = KioskPorts::new(link, sender, confirm_screens).with_observer(observer);
    if let Some(staff) = staff {
        ports = ports.with_staff(staff);
    }
    reception.face_available = face.is_some();
    if let Some(face) = face {
        ports = ports
            .with_face(face.engine)
            .with_card_front(face.card_front);
    }
    if let FaceWork::Worker(deliver) = face_work {
        ports = ports.with_face_worker(deliver)?;
    }
    Ok(Kiosk::new(reception, ports, clock))
}
