//! `use_live_menu`: the kiosk's menu, kept live. A [`MenuLink`] connection to the hub delivers
//! each new sold-out list; the menu signal follows it within the hub's broadcast (the item shows
//! "Sold out" at once), and `on_change` hears the new menu (the voice session re-describes it).

use leptos::prelude::*;
use restaurant_protocol::{Menu, SoldOut};

use super::device_pairing::UseDevicePairingReturn;
use super::driver::{After, Driver, DriverRef, socket_command, use_driver};
use crate::core::link::{LinkConfig, LinkState};
use crate::core::menu_link::{MenuLink, MenuLinkCommand};
use crate::web::random::random_bytes;
use crate::web::socket::AttemptSocket;
use crate::web::timer::DeadlineTimer;

struct MenuDriver {
    link: MenuLink,
    socket: AttemptSocket,
    timer: DeadlineTimer,
    ws_url: String,
    menu: RwSignal<Menu>,
    state: RwSignal<LinkState>,
    on_change: Callback<Menu>,
    me: DriverRef<MenuDriver>,
}

impl Driver for MenuDriver {
    const NAME: &'static str = "LiveMenu";

    fn drive(&mut self, after: &mut After) {
        let mut newest: Option<SoldOut> = None;
        while let Some(command) = self.link.poll_command() {
            match command {
                MenuLinkCommand::Socket(command) => {
                    let me = self.me.clone();
                    socket_command(&me, self, command, |d| (&mut d.socket, &mut d.link, &d.ws_url));
                }
                MenuLinkCommand::SoldOut(sold_out) => newest = Some(sold_out),
            }
        }
        self.timer.set_deadline(self.link.poll_timeout());
        let state = self.link.state();
        let (menu, state_signal, on_change) = (self.menu, self.state, self.on_change);
        after.push(move || {
            if state_signal.try_get_untracked().is_some_and(|s| s != state) {
                let _ = state_signal.try_set(state);
            }
            if let Some(sold_out) = newest {
                let Some(()) = menu.try_update(|m| m.apply_sold_out(&sold_out)) else { return };
                if let Some(menu) = menu.try_get_untracked() {
                    on_change.run(menu);
                }
            }
        });
    }
}

/// The live menu. `Copy`.
#[derive(Clone, Copy)]
pub struct UseLiveMenuReturn {
    menu: RwSignal<Menu>,
    state: RwSignal<LinkState>,
}

impl UseLiveMenuReturn {
    /// The menu with what is sold out right now.
    pub fn menu(&self) -> Signal<Menu> {
        self.menu.into()
    }

    /// The connection that keeps it live (`open`: updates arrive).
    pub fn state(&self) -> Signal<LinkState> {
        self.state.into()
    }
}

/// Keeps `menu` (as loaded) live over `ws_url`, greeting the hub with `device`'s token; connects
/// again whenever the token changes (a kiosk paired or unpaired).
pub fn use_live_menu(
    ws_url: &str,
    menu: Menu,
    device: UseDevicePairingReturn,
    on_change: Callback<Menu>,
) -> UseLiveMenuReturn {
    let menu = RwSignal::new(menu);
    let state = RwSignal::new(LinkState::Idle);
    let driver = use_driver(|me: DriverRef<MenuDriver>| {
        let fire = me.clone();
        MenuDriver {
            link: MenuLink::new(LinkConfig::default(), u64::from_le_bytes(random_bytes::<8>())),
            socket: AttemptSocket::new("LiveMenu"),
            timer: DeadlineTimer::new(move || {
                fire.run(|d, now| d.link.handle_timeout(now));
            }),
            ws_url: ws_url.to_string(),
            menu,
            state,
            on_change,
            me,
        }
    });
    let token = device.token();
    Effect::new(move |_| {
        let token = token.get();
        driver.run(move |d, now| d.link.set_token(now, token));
    });
    UseLiveMenuReturn { menu, state }
}
