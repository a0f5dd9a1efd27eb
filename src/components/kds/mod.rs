//! `/kds`: the kitchen display for one station — sign-in, the connection banner and the board.

mod board;
mod sign_in;
mod ticket;

use leptos::prelude::*;

use std::rc::Rc;

use super::call::{CallPanel, IncomingCall};
use super::shell::{ConnectionBanner, PageShell};
use crate::core::feed::Banner;
use crate::hooks::config::use_runtime_config;
use crate::hooks::order_feed::use_order_feed;
use crate::hooks::staff_call::{UseStaffCallOptions, use_staff_call};
use crate::web::random::random_id;
use board::KdsBoard;
use sign_in::PinForm;

#[component]
pub fn KdsPage() -> impl IntoView {
    let config = use_runtime_config();
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
    });
    feed.subscribe_calls(move |signal| call.receive(signal));
    let title = format!("Kitchen · {}", config.station);
    let status = feed.status();
    let last_update = feed.last_update();
    let signed_in = move || !matches!(status.get().banner, Banner::SignedOut | Banner::SignInFailed);

    let banner = ViewFn::from(move || {
        view! {
            <ConnectionBanner
                state=Signal::derive(move || status.get().banner.as_str())
                text=Signal::derive(move || banner_text(status.get().banner))
                detail=Signal::derive(move || last_update.get().map(|ms| format!("Last update {}", clock_time(ms))).unwrap_or_default())
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
            <IncomingCall call=call/>
            <Show
                when=signed_in
                fallback=move || view! { <PinForm feed station=form_station.clone()/> }
            >
                <KdsBoard feed home_station=home.clone()/>
            </Show>
        </PageShell>
    }
}

/// The banner's words for people.
fn banner_text(banner: Banner) -> String {
    match banner {
        Banner::SignedOut => "Not signed in".into(),
        Banner::Connecting => "Connecting…".into(),
        Banner::Syncing => "Loading orders…".into(),
        Banner::Live => "Live".into(),
        Banner::Reconnecting { attempt } => format!("Reconnecting (attempt {attempt})"),
        Banner::Offline => "Offline".into(),
        Banner::SignInFailed => "Sign-in failed".into(),
    }
}

/// `hh:mm:ss` of a Unix-ms time in the screen's local time zone.
fn clock_time(unix_ms: f64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(unix_ms));
    format!("{:02}:{:02}:{:02}", date.get_hours(), date.get_minutes(), date.get_seconds())
}

/// Elapsed time as `mm:ss` (minutes keep counting past an hour: a cook reads "72:05").
pub(crate) fn elapsed_text(elapsed_ms: u64) -> String {
    let seconds = elapsed_ms / 1000;
    format!("{:02}:{:02}", seconds / 60, seconds % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_is_minutes_and_seconds_past_the_hour() {
        assert_eq!(elapsed_text(0), "00:00");
        assert_eq!(elapsed_text(61_999), "01:01");
        assert_eq!(elapsed_text(72 * 60_000 + 5_000), "72:05");
    }

    #[test]
    fn reconnecting_banner_names_the_attempt() {
        assert_eq!(banner_text(Banner::Reconnecting { attempt: 3 }), "Reconnecting (attempt 3)");
        assert_eq!(banner_text(Banner::Live), "Live");
    }
}
