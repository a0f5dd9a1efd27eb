//! The 86 panel, reached from the all-day counts on the kitchen and expo screens: marks a menu
//! item or option sold out (or back on) at the hub, which tells every kiosk and screen. What it
//! shows is the hub's word: the menu as loaded, then each `menu.updated` heard on the feed.

use leptos::prelude::*;
use restaurant_protocol::{ApiError, AvailabilityChange, AvailabilityTarget, Menu, MenuAvailability};

use crate::hooks::load::use_load;
use crate::hooks::order_feed::UseOrderFeedReturn;
use crate::web::http;

/// Stations whose screens may mark things sold out (the hub checks it too).
pub use restaurant_protocol::ALL_ORDERS_STATIONS as SOLD_OUT_STATIONS;

/// Every option id on the menu once, with its name, in menu order.
fn options_of(menu: &Menu) -> Vec<(String, String)> {
    let mut options: Vec<(String, String)> = Vec::new();
    for option in menu.items.iter().flat_map(|i| i.modifier_groups.iter()).flat_map(|g| g.options.iter()) {
        if !options.iter().any(|(id, _)| id == &option.id) {
            options.push((option.id.clone(), option.name.clone()));
        }
    }
    options
}

async fn set_availability(
    api_base: String,
    token: Option<String>,
    change: AvailabilityChange,
) -> Result<MenuAvailability, String> {
    let body = serde_json::to_string(&change).map_err(|e| e.to_string())?;
    let url = format!("{api_base}/api/v1/menu/availability");
    let json = [("Content-Type", "application/json")];
    let response =
        http::send_as("POST", &url, token.as_deref(), &json, Some(&body)).await.map_err(|e| e.to_string())?;
    if response.is_success() {
        serde_json::from_str::<MenuAvailability>(&response.body)
            .map_err(|e| format!("unreadable answer from the hub: {e}"))
    } else {
        Err(serde_json::from_str::<ApiError>(&response.body)
            .map(|e| e.error.message)
            .unwrap_or_else(|_| format!("the hub answered HTTP {}", response.status)))
    }
}

#[component]
pub fn SoldOutPanel(feed: UseOrderFeedReturn, api_base: String) -> impl IntoView {
    let menu_url = format!("{api_base}/api/v1/menu");
    let loaded = use_load(move || {
        let url = menu_url.clone();
        async move {
            let loaded = async {
                let r = http::send("GET", &url, &[], None).await.map_err(|e| e.to_string())?;
                if !r.is_success() {
                    return Err(format!("HTTP {}", r.status));
                }
                serde_json::from_str::<Menu>(&r.body).map_err(|e| format!("unreadable menu: {e}"))
            };
            loaded.await.inspect_err(|e| log::error!("[KDS] the menu for the sold-out panel could not be loaded: {e}"))
        }
    });
    let load_error = move || loaded.get().and_then(Result::err);
    let board = feed.board();
    let answered = RwSignal::new(None::<MenuAvailability>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    // The hub's latest word, by seq: a `menu.updated` heard on the feed or this panel's last
    // answer (the feed may lag behind it), else the menu as loaded.
    let menu = Memo::new(move |_| {
        let mut menu = loaded.get().and_then(Result::ok)?;
        let heard = board.with(|b| b.sold_out_as_of().map(|(seq, s)| (seq, s.clone())));
        let answer = answered.get().map(|a| (a.seq, a.sold_out));
        let newest = match (heard, answer) {
            (Some(h), Some(a)) => Some(if a.0 > h.0 { a } else { h }),
            (h, a) => h.or(a),
        };
        if let Some((_, sold_out)) = newest {
            menu.apply_sold_out(&sold_out);
        }
        Some(menu)
    });
    let change = move |target: AvailabilityTarget, id: String, available: bool| {
        busy.set(true);
        error.set(None);
        let (api_base, token) = (api_base.clone(), feed.token());
        leptos::task::spawn_local(async move {
            let result =
                set_availability(api_base, token, AvailabilityChange { target, id: id.clone(), available }).await;
            let _ = busy.try_set(false);
            match result {
                Ok(availability) => {
                    let _ = answered.try_set(Some(availability));
                }
                Err(e) => {
                    log::error!("[KDS] could not mark {id} {}: {e}", if available { "available" } else { "sold out" });
                    let _ = error.try_set(Some(e));
                }
            }
        });
    };
    let row = move |target: AvailabilityTarget, id: String, name: String, available: bool| {
        let testid = match target {
            AvailabilityTarget::Item => "sold-out-item",
            AvailabilityTarget::Option => "sold-out-option",
        };
        let change = change.clone();
        let toggled = id.clone();
        view! {
            <li class="sold-out-row" class:unavailable=!available data-testid=testid data-id=id data-available=available.to_string()>
                <span class="sold-out-name">{name.clone()}</span>
                <button
                    class="btn"
                    class:btn-primary=!available
                    data-testid="sold-out-toggle"
                    disabled=move || busy.get()
                    aria-label=format!("{} {name}", if available { "Mark sold out:" } else { "Back on:" })
                    on:click=move |_| change(target, toggled.clone(), !available)
                >
                    {if available { "86 it" } else { "Back on" }}
                </button>
            </li>
        }
    };
    view! {
        <section class="kds-sold-out" data-testid="sold-out-panel" aria-labelledby="sold-out-heading">
            <h2 id="sold-out-heading">"Sold out (86)"</h2>
            <Show when=move || error.with(Option::is_some)>
                <p class="kds-sold-out-error" role="alert" data-testid="sold-out-error">{move || error.get()}</p>
            </Show>
            {move || match menu.get() {
                None => match load_error() {
                    None => view! { <p data-testid="sold-out-loading">"Loading the menu…"</p> }.into_any(),
                    Some(e) => view! {
                        <p class="kds-sold-out-error" role="alert" data-testid="sold-out-load-error">
                            "The menu could not be loaded: "{e}
                        </p>
                        <button class="btn" data-testid="sold-out-retry" on:click=move |_| loaded.reload()>"Retry"</button>
                    }
                    .into_any(),
                },
                Some(menu) => {
                    let row = row.clone();
                    let items = menu
                        .items
                        .iter()
                        .map(|i| row(AvailabilityTarget::Item, i.id.clone(), i.name.clone(), i.available))
                        .collect_view();
                    let options = options_of(&menu)
                        .into_iter()
                        .map(|(id, name)| {
                            let available = menu.items.iter().flat_map(|i| i.option(&id)).all(|(_, o)| o.available);
                            row(AvailabilityTarget::Option, id, name, available)
                        })
                        .collect_view();
                    view! {
                        <h3>"Items"</h3>
                        <ul class="sold-out-list">{items}</ul>
                        <h3>"Options"</h3>
                        <ul class="sold-out-list">{options}</ul>
                    }
                    .into_any()
                }
            }}
        </section>
    }
}
