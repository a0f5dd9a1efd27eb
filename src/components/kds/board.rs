//! The signed-in board: toolbar (station filter, recall), command errors, the ticket grid and the
//! all-day panel. One 1 Hz clock drives every ticket's elapsed time.

use std::collections::HashMap;

use gloo_timers::callback::Interval;
use leptos::prelude::*;

use super::sold_out::{SOLD_OUT_STATIONS, SoldOutPanel};
use super::ticket::{TicketCard, TicketState};
use crate::core::alerts::NewTicketAlerts;
use crate::core::board::{Board, Command, Station};
use crate::core::time::Millis;
use crate::hooks::config::use_runtime_config;
use crate::hooks::order_feed::UseOrderFeedReturn;
use crate::web::chime::Chime;
use crate::web::clock::unix_ms;
use crate::web::events::WindowListener;

/// The wall clock as the board's cores take it: ticket ages are measured from the hub's timestamps.
pub(super) fn wall_clock() -> Millis {
    Millis(unix_ms().max(0.0) as u64)
}

#[component]
pub fn KdsBoard(feed: UseOrderFeedReturn, home_station: String) -> impl IntoView {
    let board = feed.board();
    let now = RwSignal::new(wall_clock());
    // The one clock of the page; dropped (and stopped) with the board.
    StoredValue::new_local(Interval::new(1_000, move || {
        let _ = now.try_set(wall_clock());
    }));

    let filter = RwSignal::new(home_station.clone());
    let station = Memo::new(move |_| Station::parse(&filter.get()));
    // The grid in display order. The clock only changes it when a ticket's age level changes:
    // cards derive their elapsed time themselves.
    let tickets = Memo::new(move |_| {
        board.with(|b| b.tickets(&station.get(), now.get()).iter().map(TicketState::from).collect::<Vec<_>>())
    });
    // Each card's own signal, by order id; a card registers it when built and removes it when
    // dropped. A board change is pushed to the cards it changed only, so an update costs one
    // card's worth of reactive work, not one per card on screen.
    let cards = StoredValue::new(HashMap::<String, RwSignal<TicketState>>::new());
    Effect::new(move |_| {
        tickets.with(|tickets| {
            cards.with_value(|cards| {
                for ticket in tickets {
                    if let Some(card) = cards.get(&ticket.order.id)
                        && card.try_with_untracked(|shown| shown != ticket) == Some(true)
                    {
                        card.set(ticket.clone());
                    }
                }
            })
        })
    });
    let action_error = RwSignal::new(None::<String>);
    let send = move |order_id: String, command: Command| {
        action_error.set(feed.command(&order_id, command).err().map(|e| e.to_string()));
    };

    let flashing = new_ticket_alerts(feed, station, now);
    let refocus = StoredValue::new(None::<String>);

    let can_86 = SOLD_OUT_STATIONS.contains(&home_station.as_str());
    let sold_out_open = RwSignal::new(false);
    let api_base = use_runtime_config().api_base;
    let stations = Memo::new(move |_| board.with(|b| b.stations(&home_station)));

    let recall_open = RwSignal::new(false);
    let recallable = Memo::new(move |_| board.with(|b| b.recallable()));
    let all_day = Memo::new(move |_| board.with(|b| b.all_day(&station.get())));
    let failures = Memo::new(move |_| board.with(|b| b.failures().map(|f| f.message.clone()).collect::<Vec<_>>()));

    view! {
        <div class="kds-layout">
            <div class="kds-toolbar" data-testid="kds-toolbar">
                <label class="kds-filter">
                    "Station"
                    <select
                        class="btn"
                        data-testid="station-filter"
                        prop:value=move || filter.get()
                        on:change=move |ev| filter.set(event_target_value(&ev))
                    >
                        <For
                            each=move || stations.get()
                            key=|s| s.clone()
                            children=move |name: String| {
                                let (current, value) = (name.clone(), name.clone());
                                view! {
                                    <option value=value selected=move || filter.get() == current>
                                        {name}
                                    </option>
                                }
                            }
                        />
                    </select>
                </label>
                <button
                    class="btn"
                    data-testid="recall"
                    aria-expanded=move || recall_open.get().to_string()
                    on:click=move |_| recall_open.update(|open| *open = !*open)
                >
                    "Recall"
                </button>
            </div>
            <Show when=move || recall_open.get()>
                <div class="kds-recall" data-testid="recall-panel" role="dialog" aria-label="Recall a bumped order">
                    {move || {
                        let orders = recallable.get();
                        if orders.is_empty() {
                            return view! { <p class="empty">"Nothing to recall"</p> }.into_any();
                        }
                        orders
                            .into_iter()
                            .map(|order| {
                                let id = order.id.clone();
                                view! {
                                    <button
                                        class="btn"
                                        data-testid="recall-order"
                                        data-order-id=order.id.clone()
                                        on:click=move |_| {
                                            send(id.clone(), Command::Recall);
                                            recall_open.set(false);
                                        }
                                    >
                                        {format!("#{}", order.number)}
                                    </button>
                                }
                            })
                            .collect_view()
                            .into_any()
                    }}
                </div>
            </Show>
            <Show when=move || action_error.get().is_some() || !failures.get().is_empty()>
                <div class="kds-errors" role="alert" data-testid="command-error">
                    {move || action_error.get().map(|e| view! { <p>{e}</p> })}
                    {move || failures.get().into_iter().map(|m| view! { <p>{m}</p> }).collect_view()}
                    <button
                        class="btn"
                        data-testid="dismiss-errors"
                        on:click=move |_| {
                            action_error.set(None);
                            feed.dismiss_failures();
                        }
                    >
                        "Dismiss"
                    </button>
                </div>
            </Show>
            <section class="orders-grid" aria-label="Active orders" data-testid="orders-grid">
                <Show when=move || tickets.with(Vec::is_empty)>
                    <p class="empty" data-testid="orders-empty">
                        {move || if board.with(Board::is_live) { "No active orders" } else { "Loading orders…" }}
                    </p>
                </Show>
                // Keyed by order id and rush. A card is updated in place (see `TicketCard`)
                // except when rush moves it to or from the front: then it is rebuilt at its new
                // place, which the keyed list does with one removal and one insertion, where a
                // pure move would shift every card in between.
                <For
                    each=move || tickets.get()
                    key=|t| (t.order.id.clone(), t.order.rush)
                    children=move |first: TicketState| {
                        let id = first.order.id.clone();
                        let ticket = RwSignal::new(first);
                        cards.update_value(|cards| {
                            cards.insert(id.clone(), ticket);
                        });
                        on_cleanup(move || {
                            // Only its own entry: the card that replaces it (rush toggled) may
                            // already be registered.
                            let _ = cards.try_update_value(|cards| {
                                if cards.get(&id) == Some(&ticket) {
                                    cards.remove(&id);
                                }
                            });
                        });
                        view! { <TicketCard ticket=ticket.read_only() station now flashing refocus send/> }
                    }
                />
            </section>
            <aside class="kds-all-day" data-testid="all-day" aria-label="All day">
                <h2>"All day"</h2>
                <ul>
                    {move || {
                        all_day
                            .get()
                            .into_iter()
                            .map(|c| {
                                view! {
                                    <li data-testid="all-day-item">
                                        <span class="all-day-qty">{c.quantity}</span>
                                        " "
                                        <span class="all-day-name">{c.name}</span>
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
                {can_86.then(|| view! {
                    <button
                        class="btn kds-open-sold-out"
                        data-testid="open-sold-out"
                        aria-expanded=move || sold_out_open.get().to_string()
                        on:click=move |_| sold_out_open.update(|o| *o = !*o)
                    >
                        {move || if sold_out_open.get() { "Close sold out" } else { "Sold out (86)…" }}
                    </button>
                    <Show when=move || sold_out_open.get()>
                        <SoldOutPanel feed api_base=api_base.clone()/>
                    </Show>
                })}
            </aside>
        </div>
    }
}

/// Feeds the board and the page clock to the new-ticket alerts ([`NewTicketAlerts`]): new orders
/// flash (the class goes on the clock's next tick after the flash is over), and the tone plays once
/// the screen has been touched (browsers keep a page silent until a user gesture). Returns the
/// orders flashing, with when their flash started on the wall clock, as the cards compare it with
/// their own build time.
fn new_ticket_alerts(
    feed: UseOrderFeedReturn,
    station: Memo<Station>,
    now: RwSignal<Millis>,
) -> RwSignal<HashMap<String, Millis>> {
    let board = feed.board();
    let flashing = RwSignal::new(HashMap::<String, Millis>::new());
    let chime = StoredValue::new_local(Chime::new());
    let unlock = move |_: web_sys::Event| chime.update_value(Chime::unlock);
    StoredValue::new_local(
        ["pointerdown", "keydown"]
            .into_iter()
            .filter_map(|event| WindowListener::new(event, unlock))
            .collect::<Vec<_>>(),
    );
    let alerts = StoredValue::new(NewTicketAlerts::new());
    // Written only when something changed: every card watches this map.
    let publish = move || {
        if let Some(shown) = alerts.try_with_value(|a| a.flashing().clone()) {
            flashing.set(shown);
        }
    };
    Effect::new(move |_| {
        let update =
            board.with(|b| alerts.try_update_value(|a| a.handle_board(wall_clock(), b, &station.get_untracked())));
        let Some(update) = update else { return };
        if update.changed {
            publish();
        }
        if update.chime {
            chime.with_value(Chime::play);
        }
    });
    Effect::new(move |_| {
        let now = now.get();
        if alerts.try_update_value(|a| a.handle_tick(now)) == Some(true) {
            publish();
        }
    });
    flashing
}
