//! `use_kiosk_call`: the kiosk's staff call over its own call-only connection ([`CallLink`]).
//!
//! The kiosk opens its call line only while a call is being made or is live, and closes it as
//! soon as the call is over (its live menu has a connection of its own, see
//! [`super::live_menu`]): a call's frames never wait behind menu traffic, and a call ends with its
//! own line. The extra connect (one round trip) is paid once per call, while the microphone prompt
//! and the staff's answer take far longer.

use std::rc::Rc;

use super::device_pairing::UseDevicePairingReturn;
use super::driver::{After, Driver, DriverOwner, DriverRef, socket_command};
use super::staff_call::{CallSignal, UseStaffCallOptions, UseStaffCallReturn, use_staff_call};
use crate::core::call_link::{CallLink, CallLinkCommand};
use crate::core::link::LinkConfig;
use crate::core::secure::MediaAccess;
use crate::web::random::{random_bytes, random_id};
use crate::web::socket::AttemptSocket;
use crate::web::timer::DeadlineTimer;

/// The kiosk's [`CallLink`] over a real socket. Owned by the kiosk's call (through its `send`),
/// so the hang-up on unmount still goes out on it; it knows the call only through its `Copy`
/// handle.
struct LineDriver {
    link: CallLink,
    socket: AttemptSocket,
    timer: DeadlineTimer,
    ws_url: String,
    call: Option<UseStaffCallReturn>,
    me: DriverRef<LineDriver>,
}

impl Driver for LineDriver {
    const NAME: &'static str = "KioskCall";

    fn drive(&mut self, after: &mut After) {
        let mut signals = Vec::new();
        while let Some(command) = self.link.poll_command() {
            match command {
                CallLinkCommand::Socket(command) => {
                    let me = self.me.clone();
                    socket_command(&me, self, command, |line| (&mut line.socket, &mut line.link, &line.ws_url));
                }
                CallLinkCommand::Call(message) => signals.push(CallSignal::Message(message)),
                CallLinkCommand::Lost => signals.push(CallSignal::Lost),
            }
        }
        self.timer.set_deadline(self.link.poll_timeout());
        // Released first: the call may answer on this line at once.
        if let Some(call) = self.call
            && !signals.is_empty()
        {
            after.push(move || signals.into_iter().for_each(|signal| call.receive(signal)));
        }
    }
}

impl LineDriver {}

/// The kiosk's staff call, signalling on its own connection to `ws_url`, greeting the hub with
/// `device`'s token. Where `media` forbids the microphone, no call is placed.
pub fn use_kiosk_call(ws_url: &str, media: MediaAccess, device: UseDevicePairingReturn) -> UseStaffCallReturn {
    let line = DriverOwner::new(|me: DriverRef<LineDriver>| {
        let fire = me.clone();
        LineDriver {
            link: CallLink::new(LinkConfig::default(), u64::from_le_bytes(random_bytes::<8>())),
            socket: AttemptSocket::new("KioskCall"),
            timer: DeadlineTimer::new(move || {
                fire.run(|l, now| l.link.handle_timeout(now));
            }),
            ws_url: ws_url.to_string(),
            call: None,
            me,
        }
    });
    let (line_ref, closer) = (line.get_ref(), line.get_ref());
    let sender = Rc::new(line);
    let call = use_staff_call(UseStaffCallOptions {
        local_id: random_id("kiosk"),
        send: Rc::new(move |message| {
            let token = device.current_token();
            sender.get_ref().run(move |l, now| {
                l.link.set_token(token);
                l.link.send(now, message);
            });
        }),
        on_idle: Some(Rc::new(move || {
            if closer.with(|l| l.link.is_connected()).unwrap_or(false) {
                closer.run(|l, _| l.link.close());
            }
        })),
        ring: false,
        debug_name: "__kioskCall",
        media,
    });
    line_ref.run(move |l, _| l.call = Some(call));
    call
}
