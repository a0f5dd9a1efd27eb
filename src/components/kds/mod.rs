//! `/kds`: the kitchen display for one station — sign-in, the connection banner and the board.

mod board;
mod sign_in;
mod sold_out;
mod stats;
mod ticket;

use leptos::prelude::*;

use std::rc::Rc;

use super::call::{CallPanel, IncomingCall};
use super::shell::{ConnectionBanner, InsecureContextNotice, PageShell};
use crate::hooks::config::use_runtime_config;
use crate::hooks::media_access::use_media_access;
use crate::hooks::order_feed::use_order_feed;
use crate::hooks::staff_call::{UseStaffCallOptions, use_staff_call};
use crate::web::random::random_id;
use board::KdsBoard;
use sign_in::PinForm;

/// The kitchen display bundle's page: [`KdsPage`] in this browser's own secure context.
pub fn kds() -> impl IntoView {
    view! { <KdsPage/> }
}

/// `secure_context` replaces `window.isSecureContext` when given (tests cannot make their page
/// insecure).
#[component]
pub fn KdsPage(#[prop(optional)] secure_context: Option<bool>) -> impl IntoView {
    let config = use_runtime_config();
    let media = use_media_access(secure_context);
    let feed = use_order_feed(&config);
    // Staff calls travel on the order feed's socket: the page opens no other connection.
    let call = use_staff_call(UseStaffCallOptions {
        local_id: random_id(&format!("kds-{}", config.station)),
        send: Rc::new(move |message| {
            feed.send_call(&message);
        }),
        on_idle: None,
        ring: true,
        debug_name: "__kdsCall",
        media: media.clone(),
    });
    feed.subscribe_calls(move |signal| call.receive(signal));
    let title = format!("Kitchen · {}", config.station);
    // The status changes with every event (its last update); what the page shows of it changes
    // far less often, and only that wakes the views.
    let status = feed.status();
    let banner_state = Memo::new(move |_| status.with(|s| s.banner));
    let saved_at = Memo::new(move |_| status.with(|s| s.board_saved_at));
    // The last update to the second, as the banner shows it.
    let last_update = feed.last_update();
    let last_update_s = Memo::new(move |_| last_update.get().map(|ms| (ms / 1000.0).floor()));
    let signed_in = move || banner_state.get().is_signed_in();

    let banner = ViewFn::from(move || {
        view! {
            <ConnectionBanner
                state=Signal::derive(move || banner_state.get().as_str())
                text=Signal::derive(move || banner_state.get().text())
                detail=Signal::derive(move || match saved_at.get() {
                    // A board kept from before a reload: not live, and as of when.
                    Some(at) => format!("Not live: showing the board as of {}", clock_time(at as f64)),
                    None => last_update_s.get().map(|s| format!("Last update {}", clock_time(s * 1000.0))).unwrap_or_default(),
                })
            />
        }
    });
    let station = config.station.clone();
    let header_extra = ViewFn::from(move || {
        let station = station.clone();
        view! {
            <CallPanel call/>
            <Show when=signed_in>
                <span class="kds-station" data-testid="signed-in-station">{station.clone()}</span>
                <button class="btn kds-logout" data-testid="logout" on:click=move |_| feed.logout()>
                    "Sign out"
                </button>
            </Show>
        }
    });
    let home = config.station.clone();
    let form_station = config.station.clone();
    view! {
        <PageShell page="kds" title=title banner=banner header_extra=header_extra>
            <InsecureContextNotice access=media.clone()/>
            <IncomingCall call=call access=media/>
            <Show
                when=signed_in
                fallback=move || view! { <PinForm feed station=form_station.clone()/> }
            >
                <KdsBoard feed home_station=home.clone()/>
            </Show>
        </PageShell>
    }
}

/// `hh:mm:ss` of a Unix-ms time in the screen's local time zone.
fn clock_time(unix_ms: f64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(unix_ms));
    format!("{:02}:{:02}:{:02}", date.get_hours(), date.get_minutes(), date.get_seconds())
}
