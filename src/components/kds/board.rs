//! The signed-in board: toolbar (station filter, recall), command errors, the ticket grid and the
//! all-day panel. One 1 Hz clock drives every ticket's elapsed time.

use std::collections::{BTreeSet, HashSet};

use gloo_timers::callback::Interval;
use leptos::prelude::*;

use super::ticket::TicketCard;
use crate::core::board::{Command, Station};
use crate::hooks::order_feed::OrderFeedHandle;
use crate::web::chime::Chime;
use crate::web::clock::unix_ms;
use crate::web::events::WindowListener;

/// The stations a screen can always switch to.
const FIXED_STATIONS: [&str; 2] = ["kitchen", "expo"];
/// Order ids remembered for new-ticket alerts before the set is pruned.
const SEEN_LIMIT: usize = 2_000;

#[component]
pub fn KdsBoard(feed: OrderFeedHandle, home_station: String) -> impl IntoView {
    let board = feed.board();
    let now = RwSignal::new(unix_ms());
    // The one clock of the page; dropped (and stopped) with the board.
    StoredValue::new_local(Interval::new(1_000, move || {
        let _ = now.try_set(unix_ms());
    }));

    let filter = RwSignal::new(home_station.clone());
    let station = Memo::new(move |_| Station::parse(&filter.get()));
    let tickets = Memo::new(move |_| board.with(|b| b.tickets(&station.get(), now.get() as i64)));
    let action_error = RwSignal::new(None::<String>);
    let send = move |order_id: String, command: Command| {
        action_error.set(
            feed.command(&order_id, command)
                .err()
                .map(|e| e.to_string()),
        );
    };

    let flashing = new_ticket_alerts(feed, station);

    let stations = Memo::new(move |_| {
        let mut names: BTreeSet<String> = FIXED_STATIONS.iter().map(|s| s.to_string()).collect();
        names.insert(home_station.clone());
        board.with(|b| {
            for order in b.confirmed_orders().values() {
                names.extend(order.items.iter().map(|i| i.station.clone()));
            }
        });
        names.into_iter().collect::<Vec<_>>()
    });

    let recall_open = RwSignal::new(false);
    let recallable = Memo::new(move |_| board.with(|b| b.recallable()));
    let all_day = Memo::new(move |_| board.with(|b| b.all_day(&station.get())));
    let failures = Memo::new(move |_| {
        board.with(|b| b.failures().map(|f| f.message.clone()).collect::<Vec<_>>())
    });

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
                    <p class="empty" data-testid="orders-empty">"No active orders"</p>
                </Show>
                <For
                    each=move || tickets.get()
                    key=move |t| {
                        (
                            t.order.id.clone(),
                            t.order.status,
                            t.order.rush,
                            t.pending,
                            t.age,
                            t.order.updated_at.clone(),
                            filter.get_untracked(),
                        )
                    }
                    let:ticket
                >
                    <TicketCard ticket station=station.get_untracked() now flashing send/>
                </For>
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
            </aside>
        </div>
    }
}

/// Watches the board for orders it has not seen before: they flash, and the tone plays once the
/// screen has been touched (browsers keep a page silent until a user gesture). Orders on the
/// board when it first loads do not count as new. Returns the ids currently flashing.
fn new_ticket_alerts(feed: OrderFeedHandle, station: Memo<Station>) -> RwSignal<HashSet<String>> {
    let board = feed.board();
    let flashing = RwSignal::new(HashSet::<String>::new());
    let chime = StoredValue::new_local(Chime::new());
    let unlock = move |_: web_sys::Event| chime.update_value(Chime::unlock);
    StoredValue::new_local(
        ["pointerdown", "keydown"]
            .into_iter()
            .filter_map(|event| WindowListener::new(event, unlock))
            .collect::<Vec<_>>(),
    );
    let seen = StoredValue::new(None::<HashSet<String>>);
    Effect::new(move |_| {
        let (ids, fresh) = board.with(|b| {
            let ids: HashSet<String> = b.confirmed_orders().keys().cloned().collect();
            let loaded = b.last_seq().is_some();
            let fresh: Vec<String> = seen.with_value(|seen| match seen {
                Some(seen) => ids.difference(seen).cloned().collect(),
                None => Vec::new(),
            });
            (loaded.then_some(ids), fresh)
        });
        let Some(ids) = ids else { return };
        // Orders stay remembered once seen (a recalled order is not new); past a bound the set
        // is cut back to the active and recallable ones, so a screen running for days stays small.
        seen.update_value(|seen| {
            let seen = seen.get_or_insert_with(HashSet::new);
            seen.extend(ids.iter().cloned());
            if seen.len() > SEEN_LIMIT {
                let recallable: HashSet<String> =
                    board.with(|b| b.recallable().into_iter().map(|o| o.id).collect());
                seen.retain(|id| ids.contains(id) || recallable.contains(id));
            }
        });
        let visible = board.with(|b| {
            b.tickets(&station.get_untracked(), 0)
                .into_iter()
                .any(|t| fresh.contains(&t.order.id))
        });
        flashing.update(|f| {
            f.retain(|id| ids.contains(id));
            f.extend(fresh);
        });
        if visible {
            chime.with_value(Chime::play);
        }
    });
    flashing
}
