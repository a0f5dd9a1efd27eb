//! The signed-in board: toolbar (station filter, recall), command errors, the ticket grid and the
//! all-day panel. A 1 Hz clock drives the grid's age levels and alerts; each card's elapsed time
//! is set as it turns over a second, within [`CARD_CLOCK_MS`].

use std::collections::HashMap;

use gloo_timers::callback::Interval;
use leptos::prelude::*;

use wasm_bindgen::JsCast;

use super::sold_out::{SOLD_OUT_STATIONS, SoldOutPanel};
use super::stats::TicketStatsPanel;
use super::ticket::{AskKind, Asking, CardMarks, TicketCard, TicketFields, TicketState, VOID_REASONS, item_line};
use crate::core::alerts::{AlertsUpdate, NewTicketAlerts, SoundSettings, SoundState};
use crate::core::board::{Board, Command, GridVersion, ShownElapsed, Station, TicketGrid, created_unix_ms};
use crate::core::fast_hash::{FastMap, FastSet};
use crate::core::keymap::{Effect as KeyEffect, Grid, KeyAction, KeyContext, TicketSelection, action_for};
use crate::core::time::Millis;
use crate::hooks::config::use_runtime_config;
use crate::hooks::order_feed::UseOrderFeedReturn;
use crate::hooks::ticket_stats::use_ticket_stats;
use crate::web::arrange::{arrange, arrange_known};
use crate::web::chime::Chime;
use crate::web::clock::unix_ms;
use crate::web::events::WindowListener;
use crate::web::storage;

/// The wall clock as the board's cores take it: ticket ages are measured from the hub's timestamps.
pub(super) fn wall_clock() -> Millis {
    Millis(unix_ms().max(0.0) as u64)
}

/// How often the cards' clocks are looked at: a card's time is at most this late.
const CARD_CLOCK_MS: u32 = 100;

#[component]
pub fn KdsBoard(feed: UseOrderFeedReturn, home_station: String) -> impl IntoView {
    let board = feed.board();
    let now = RwSignal::new(wall_clock());
    // The page's clock for ages and alerts; dropped (and stopped) with the board.
    StoredValue::new_local(Interval::new(1_000, move || {
        let _ = now.try_set(wall_clock());
    }));

    let filter = RwSignal::new(home_station.clone());
    let station = Memo::new(move |_| Station::parse(&filter.get()));
    // The same, for the cards alone (derived from it, so one subscriber there). Every card's
    // buttons watch it (about five subscriptions a card), and a node re-subscribes to what it
    // reads each time it runs, at a cost in proportion to the subscribers already there: the
    // grid's memos, which run on every board change, watch `station`, whose list stays short.
    let card_station = Memo::new(move |_| station.get());
    // When the grid's age levels must be looked at again: it moves only on a tick at which some
    // ticket's level has changed since it last moved (a wall clock set back moves it too). The
    // cards derive their elapsed times from their own copy of `now`, so a tick recomputes no grid.
    let age_clock = Memo::new(move |last: Option<&Millis>| {
        let now = now.get();
        match last {
            Some(&last)
                if now >= last && board.with_untracked(|b| b.next_age_change(last)).is_none_or(|due| now < due) =>
            {
                last
            }
            _ => now,
        }
    });
    // The time the grid's age levels are taken at: the latest tick, for a board change too (an
    // order that arrives already late is shown so at once).
    // The memos below are read, not only tracked: a memo is computed when read, and one never
    // computed has no sources of its own to wake what tracks it.
    let ages_at = move || {
        let _ = age_clock.get();
        now.get_untracked()
    };
    // The grid, kept change by change: only the orders a change touched are built again, and its
    // journal names the tickets that changed (see `TicketGrid`). What follows looks at those, or
    // at the whole grid only when a ticket came, went or was rushed: no change builds or compares
    // every ticket.
    let grid = StoredValue::new(TicketGrid::default());
    let version = Memo::new(move |_| {
        let (station, at) = (station.get(), ages_at());
        board.with(|b| grid.try_update_value(|g| g.update(b, &station, at))).unwrap_or_default()
    });
    let members = Memo::new(move |_| version.get().members);
    let order = Memo::new(move |_| version.get().order);
    // The grid's order ids in age order: the keyed list's order, which rush does not change. It
    // changes only when a ticket comes or goes, so an update to a ticket diffs no list.
    let grid_ids = Memo::new(move |_| {
        let _ = members.get();
        grid.try_with_value(TicketGrid::ids_by_age).unwrap_or_default()
    });
    // Each card's own signals, by order id; a card registers them when built and removes them when
    // dropped. A board change is pushed to the cards it changed only, so an update costs one
    // card's worth of reactive work, not one per card on screen: no card subscribes to anything
    // the whole grid shares and every update touches (the grid, the selection, the bump-bar
    // page, the flashing orders), whose subscriber lists would be walked on every update.
    let cards = StoredValue::new(FastMap::<String, Card>::default());
    // Each card's own clock, set when the time the card shows turns over a second. Each order's
    // time turns at its own phase within the second, so a look every `CARD_CLOCK_MS` changes a
    // few cards each time, spread over the second. Not every card on the page clock's tick: that
    // changed every card on screen in one frame, once a second (a frame laid out again whole,
    // the slowest of the second). Not by every card watching a clock either: a node re-subscribes
    // to what it reads each time it runs, at a cost in proportion to the subscribers already
    // there, so a tick would cost the square of the cards on screen.
    StoredValue::new_local(Interval::new(CARD_CLOCK_MS, move || {
        let now = wall_clock();
        let turned: Vec<RwSignal<Millis>> = cards
            .try_update_value(|cards| {
                cards.values_mut().filter_map(|card| card.elapsed.turn(now).then_some(card.signals.clock)).collect()
            })
            .unwrap_or_default();
        for clock in turned {
            let _ = clock.try_set(now);
        }
    }));
    let action_error = RwSignal::new(None::<String>);
    let send = move |order_id: String, command: Command| {
        action_error.set(feed.command(&order_id, command).err().map(|e| e.to_string()));
    };

    let sound = Sound::new(&home_station);
    let (flashing, voids) = new_ticket_alerts(feed, station, now, sound);

    let can_86 = SOLD_OUT_STATIONS.contains(&home_station.as_str());
    let sold_out_open = RwSignal::new(false);
    let config = use_runtime_config();
    let api_base = config.api_base.clone();
    let ticket_stats = use_ticket_stats(&config.api_base, feed, config.ticket_urgent_min);
    let home = StoredValue::new(home_station.clone());
    let stations = Memo::new(move |_| board.with(|b| b.stations(&home_station)));

    let recall_open = RwSignal::new(false);
    let recallable = Memo::new(move |_| board.with(|b| b.recallable(&station.get())));
    let voided = Memo::new(move |_| {
        voids.with(|ids| {
            board.with(|b| {
                b.voided_tickets(&station.get(), ids, ages_at()).iter().map(TicketState::from).collect::<Vec<_>>()
            })
        })
    });
    let asking = RwSignal::new(None::<Asking>);
    let help_open = RwSignal::new(false);
    let BumpBar { selected, positions, page } =
        bump_bar(feed, station, (grid, version, order), recallable, asking, help_open, action_error);
    // The first screenful of the grid, drawn always (see `FIRST_SCREEN`).
    let first_screen = Memo::new(move |_| {
        let _ = order.get();
        grid.try_with_value(|g| g.display_order().iter().take(FIRST_SCREEN).cloned().collect::<Vec<_>>())
            .unwrap_or_default()
    });
    // What a card shows of the grid around it, as it is now (for a card being built).
    let marks_now = move |id: &str| {
        selected.with_untracked(|s| {
            positions.with_untracked(|p| {
                flashing.with_untracked(|fl| {
                    asking.with_untracked(|a| {
                        first_screen.with_untracked(|first| marks_for(id, s.as_deref(), p, fl, a.as_ref(), first))
                    })
                })
            })
        })
    };
    // A board change: each card whose ticket the grid's journal names gets the fields that
    // changed (every card, when the journal does not go back to the last change pushed).
    // Compared with the card's own plain copy: a card built after its change has it already.
    let pushed = StoredValue::new(None::<u64>);
    Effect::new(move |_| {
        let _ = version.get();
        let changed = grid.try_with_value(|grid| {
            let since = pushed.get_value().and_then(|v| grid.changed_since(v));
            pushed.set_value(Some(grid.version().tickets));
            let push = |id: &str, card: &mut Card| {
                let ticket = TicketState::from(grid.get(id)?);
                (card.shown != ticket).then(|| {
                    let before = std::mem::replace(&mut card.shown, ticket.clone());
                    (card.signals.fields, before, ticket)
                })
            };
            cards.try_update_value(|cards| -> Vec<(TicketFields, TicketState, TicketState)> {
                match since {
                    Some(ids) => ids.into_iter().filter_map(|id| push(id, cards.get_mut(id)?)).collect(),
                    None => cards.iter_mut().filter_map(|(id, card)| push(id, card)).collect(),
                }
            })
        });
        for (fields, before, now) in changed.flatten().unwrap_or_default() {
            fields.show(&before, &now);
        }
    });
    // A change to the marks: only the cards marked before or now can show a different one (a
    // bump-bar page has a few tickets, a handful flash), so this looks at those alone.
    let marked = StoredValue::new(Vec::<String>::new());
    Effect::new(move |_| {
        selected.with(|selected| {
            positions.with(|positions| {
                flashing.with(|flashing| {
                    asking.with(|asking| {
                        first_screen.with(|first_screen| {
                            let now: Vec<String> = selected
                                .iter()
                                .chain(positions.keys())
                                .chain(flashing.keys())
                                .chain(asking.iter().map(|a| &a.order_id))
                                .chain(first_screen)
                                .cloned()
                                .collect();
                            let before = marked.try_update_value(|marked| std::mem::replace(marked, now.clone()));
                            let changed: Vec<(RwSignal<CardMarks>, CardMarks)> = cards
                                .try_with_value(|cards| {
                                    // Each once: the selected card is on the page too, and most
                                    // were marked before as well.
                                    let mut looked: FastSet<&str> = FastSet::default();
                                    before
                                        .iter()
                                        .flatten()
                                        .chain(&now)
                                        .filter(|id| looked.insert(id.as_str()))
                                        .filter_map(|id| {
                                            let card = cards.get(id)?;
                                            let marks = marks_for(
                                                id,
                                                selected.as_deref(),
                                                positions,
                                                flashing,
                                                asking.as_ref(),
                                                first_screen,
                                            );
                                            (card.signals.marks.try_get_untracked()? != marks)
                                                .then_some((card.signals.marks, marks))
                                        })
                                        .collect()
                                })
                                .unwrap_or_default();
                            for (signal, marks) in changed {
                                let _ = signal.try_set(marks);
                            }
                        })
                    })
                })
            })
        })
    });
    // The grid's elements stand in display order (rushed first): after each change the one
    // element whose place changed is moved (`web::arrange`), once the list has added and removed
    // its cards. See the grid's `For` below.
    let grid_node = NodeRef::<leptos::html::Section>::new();
    // The order last put in place: a change that leaves it as it was (a status, an item ready)
    // reads no element. With it, the keyed list's ids then: while they are the same, the list
    // has added and moved nothing since, so the cards stand in that order and it need not be read
    // (they are the grid's last children: the voided tickets' list comes before them).
    let arranged = StoredValue::new_local(Vec::<String>::new());
    let arranged_grid = StoredValue::new_local(Vec::<String>::new());
    // `f` on the display order now (brought up to the board first).
    let with_display_order = move |f: &mut dyn FnMut(&[String]) -> bool| -> Option<bool> {
        version.try_with_untracked(|_| ())?;
        grid.try_with_value(|g| f(g.display_order()))
    };
    Effect::new(move |_| {
        let _ = order.get();
        let mut ids = Vec::new();
        let moved = with_display_order(&mut |now| {
            let moved = arranged.try_with_value(|last| last.as_slice() != now) == Some(true);
            if moved {
                ids = now.to_vec();
            }
            moved
        });
        if moved != Some(true) {
            return;
        }
        queue_microtask(move || {
            let Some(Some(section)) = grid_node.try_get_untracked() else { return };
            // Only the list this run saw, which the keyed list has drawn by now: if the grid has
            // changed since, that change queues its own run.
            if with_display_order(&mut |now| now == ids.as_slice()) != Some(true) {
                return;
            }
            let keys: Vec<&str> = ids.iter().map(String::as_str).collect();
            let (selector, attribute) = ("[data-testid=ticket]", "data-order-id");
            let unchanged = grid_ids.try_with_untracked(|g| arranged_grid.with_value(|a| a == g)) == Some(true);
            let known = unchanged
                .then(|| {
                    arranged.with_value(|last| {
                        let current: Vec<&str> = last.iter().map(String::as_str).collect();
                        arrange_known(&section, attribute, &current, &keys)
                    })
                })
                .flatten();
            let done = known.or_else(|| arrange(&section, selector, attribute, &keys));
            arranged.set_value(ids);
            match done {
                Some(_) if unchanged => {}
                Some(_) => arranged_grid.set_value(grid_ids.get_untracked()),
                // Not put in place (the read or a move failed, and was logged): the next run
                // reads the order again.
                None => arranged_grid.set_value(Vec::new()),
            }
        });
    });
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
                <span class="kds-page" data-testid="page-indicator" aria-live="polite">
                    {move || {
                        let (current, count) = page.get();
                        (count > 1).then(|| format!("Page {} of {count}", current + 1))
                    }}
                </span>
                <SoundControls sound/>
                <button
                    class="btn"
                    data-testid="help-toggle"
                    aria-expanded=move || help_open.get().to_string()
                    on:click=move |_| help_open.update(|open| *open = !*open)
                >
                    "Keys (?)"
                </button>
            </div>
            <Show when=move || help_open.get()>
                <KeyHelp on_close=move || help_open.set(false)/>
            </Show>
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
                                            send(id.clone(), station.with_untracked(Station::recall_command));
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
            <section class="orders-grid" aria-label="Active orders" data-testid="orders-grid" node_ref=grid_node>
                <For
                    each=move || voided.get()
                    key=|t| t.order.id.clone()
                    children=move |t: TicketState| {
                        let reason = t.order.void.as_ref().map(|v| v.reason.clone()).unwrap_or_default();
                        view! {
                            <article class="ticket voided" data-testid="ticket-voided" data-order-id=t.order.id.clone() aria-label=format!("Order {} voided", t.order.number)>
                                <header class="ticket-head">
                                    <span class="ticket-number">{format!("#{}", t.order.number)}</span>
                                    <span class="void-badge">"VOID"</span>
                                </header>
                                <p class="void-reason" data-testid="void-reason-shown">{reason}</p>
                                <ul class="ticket-items">{t.order.items.iter().cloned().map(item_line).collect_view()}</ul>
                            </article>
                        }
                    }
                />
                <Show when=move || {
                    let _ = members.get();
                    grid.try_with_value(TicketGrid::is_empty).unwrap_or(true)
                }>
                    <p class="empty" data-testid="orders-empty">
                        {move || if board.with(Board::is_live) { "No active orders" } else { "Loading orders…" }}
                    </p>
                </Show>
                // Keyed by order id, in age order, which never changes for an order: a card is
                // built once and updated in place (see `TicketCard`), and rushing one does not
                // reorder this list (a keyed list moves every element between a moved card's old
                // and new place). A rushed card is put first by the effect above, which moves that
                // element alone, keeping its focus. Not by the stylesheet's `order`: changing a grid
                // item's `order` makes the browser lay out every ticket on screen again (142
                // objects a layout pass instead of 8 in a trace, docs/benchmarks.md).
                <For
                    each=move || grid_ids.get()
                    key=String::clone
                    children=move |id: String| {
                        // `grid_ids` comes from the grid, so its ticket is there.
                        let Some(first) = grid.try_with_value(|g| g.get(&id).map(TicketState::from)).flatten() else {
                            log::error!("[KDS] no ticket for grid id {id}: card not built");
                            return None;
                        };
                        let built_at = wall_clock();
                        let card = CardSignals {
                            marks: RwSignal::new(marks_now(&id)),
                            fields: TicketFields::new(&first),
                            clock: RwSignal::new(built_at),
                        };
                        let elapsed = ShownElapsed::new(created_unix_ms(&first.order), built_at);
                        let card_order = first.order.clone();
                        cards.update_value(|cards| {
                            cards.insert(id.clone(), Card { signals: card, shown: first, elapsed });
                        });
                        on_cleanup(move || {
                            // Only its own entry: a card for the same order may be built before
                            // this one is cleaned up (the station filter changed back).
                            let _ = cards.try_update_value(|cards| {
                                if cards.get(&id).is_some_and(|c| c.signals == card) {
                                    cards.remove(&id);
                                }
                            });
                        });
                        Some(view! { <TicketCard order=card_order fields=card.fields marks=card.marks.read_only() station=card_station now=card.clock.read_only() home asking=asking.write_only() send/> })
                    }
                />
            </section>
            <aside class="kds-all-day" data-testid="all-day" aria-label="All day">
                <TicketStatsPanel view=ticket_stats.view() station/>
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

/// The screen's sound: its tones, whether the browser lets it play them, and its settings (kept
/// per station in the page's storage).
#[derive(Clone, Copy)]
struct Sound {
    chime: StoredValue<Chime, LocalStorage>,
    unlocked: RwSignal<bool>,
    settings: RwSignal<SoundSettings>,
    /// Where the settings are kept.
    key: StoredValue<String>,
}

impl Sound {
    fn new(station: &str) -> Sound {
        let key = format!("kds.sound.{station}");
        let stored = storage::get(&key).map(|json| SoundSettings::parse(&json)).unwrap_or_default();
        let settings = RwSignal::new(stored);
        let chime = StoredValue::new_local({
            let mut chime = Chime::new();
            chime.open();
            chime
        });
        let sound = Sound { chime, unlocked: RwSignal::new(false), settings, key: StoredValue::new(key) };
        sound.refresh();
        sound
    }

    /// Changes the settings and keeps them at once (a reload right after still has them).
    fn change(self, f: impl FnOnce(&mut SoundSettings)) {
        self.settings.update(f);
        let Some(settings) = self.settings.try_get_untracked() else { return };
        match serde_json::to_string(&settings) {
            Ok(json) => {
                if self.key.with_value(|key| !storage::set(key, &json)) {
                    log::warn!("[Chime] the sound settings could not be kept");
                }
            }
            Err(e) => log::error!("[Chime] sound settings not written: {e}"),
        }
    }

    /// From a user gesture: lets the browser play sound.
    fn unlock(self) {
        self.chime.update_value(Chime::unlock);
        self.refresh();
    }

    fn refresh(self) {
        if let Some(unlocked) = self.chime.try_with_value(Chime::is_unlocked)
            && self.unlocked.try_get_untracked() != Some(unlocked)
        {
            self.unlocked.set(unlocked);
        }
    }

    fn state(self) -> SoundState {
        SoundState::of(self.unlocked.get(), self.settings.get())
    }
}

#[component]
fn SoundControls(sound: Sound) -> impl IntoView {
    let state = move || sound.state();
    view! {
        <div class="kds-sound" data-testid="sound" data-state=move || state().as_str()>
            <Show when=move || state() == SoundState::Locked>
                <button class="btn btn-primary" data-testid="sound-unlock" on:click=move |_| sound.unlock()>
                    "Tap to enable sound"
                </button>
            </Show>
            <button
                class="btn"
                data-testid="sound-mute"
                aria-pressed=move || sound.settings.get().muted.to_string()
                on:click=move |_| sound.change(|s| s.muted = !s.muted)
            >
                {move || if sound.settings.get().muted { "Sound off" } else { "Sound on" }}
            </button>
            <label class="kds-volume">
                "Volume"
                <input
                    type="range"
                    min="0"
                    max="100"
                    step="10"
                    data-testid="sound-volume"
                    prop:value=move || sound.settings.get().volume.to_string()
                    on:input=move |ev| {
                        if let Ok(volume) = event_target_value(&ev).parse::<u8>() {
                            sound.change(|s| s.volume = volume.min(100));
                        }
                    }
                />
            </label>
        </div>
    }
}

/// Tickets per bump-bar page (the `1`–`9` keys bump within the page).
const PAGE_SIZE: usize = 9;

/// The tickets at the front of the grid that are drawn always, not skipped by
/// `content-visibility: auto` when off screen (by the stylesheet's 300 px columns and 16rem
/// placeholder height, a 1920×1080 screen holds about five columns of four). When a
/// ticket leaves the front, those behind it move up: one the browser skipped, coming into view,
/// would be laid out a second time in that frame (its skipped state is decided after the first
/// layout pass). Marked by a class that the board moves with the order, not by `:nth-child`,
/// which would restyle every ticket behind a moved one (docs/benchmarks.md).
const FIRST_SCREEN: usize = 24;

/// The key map (see [`crate::core::keymap`]), as the help overlay and the README list it.
pub const KEY_HELP: [(&str, &str); 12] = [
    ("← ↑ / → ↓", "previous / next ticket"),
    ("Home / End", "first / last ticket"),
    ("PgUp / PgDn", "previous / next page"),
    ("S", "start the selected ticket"),
    ("Enter, B, Space", "bump the selected ticket"),
    ("1 … 9", "bump that ticket of the page"),
    ("O", "bump the oldest ticket"),
    ("R", "recall the last bumped ticket"),
    ("U", "rush / unrush the selected ticket"),
    ("V, Delete", "void the selected ticket (Enter confirms, Esc keeps it)"),
    ("?, H", "show / hide this help"),
    ("Esc", "cancel"),
];

#[component]
fn KeyHelp(on_close: impl Fn() + Send + Sync + 'static) -> impl IntoView {
    view! {
        <div class="kds-help" role="dialog" aria-modal="false" aria-labelledby="kds-help-title" data-testid="help-overlay">
            <h2 id="kds-help-title">"Keys and bump bar"</h2>
            <table>
                <tbody>
                    {KEY_HELP
                        .into_iter()
                        .map(|(keys, what)| view! { <tr><th scope="row"><kbd>{keys}</kbd></th><td>{what}</td></tr> })
                        .collect_view()}
                </tbody>
            </table>
            <button class="btn" data-testid="help-close" on:click=move |_| on_close()>"Close"</button>
        </div>
    }
}

/// Whether keys typed now go to a text field (a key map must not act on them). A slider or a
/// select is not one: a bump bar must still work after a cook touched the volume.
fn typing_in_a_field() -> bool {
    let Some(active) = document().active_element() else { return false };
    match active.tag_name().to_ascii_lowercase().as_str() {
        "textarea" => true,
        "input" => matches!(
            active.get_attribute("type").unwrap_or_default().to_ascii_lowercase().as_str(),
            "" | "text" | "search" | "number" | "password" | "email" | "tel" | "url"
        ),
        _ => active.dyn_ref::<web_sys::HtmlElement>().is_some_and(|e| e.is_content_editable()),
    }
}

/// Whether Enter or Space would press what has the focus (a button or a link): then the key
/// is the button's, not the key map's.
fn pressing_a_focused_control(key: &str) -> bool {
    if !matches!(key, "Enter" | " ") {
        return false;
    }
    let Some(active) = document().active_element() else { return false };
    matches!(active.tag_name().to_ascii_lowercase().as_str(), "button" | "a" | "summary")
        || active.get_attribute("role").is_some_and(|r| r == "button")
}

/// Keyboard and bump-bar operation: one window `keydown` listener (dropped with the board)
/// feeds [`TicketSelection`]; its effects become the same commands the buttons send. Returns the
/// selected ticket's id.
fn bump_bar(
    feed: UseOrderFeedReturn,
    station: Memo<Station>,
    // The grid, its versions, and its display order's version.
    (grid, version, order): (StoredValue<TicketGrid>, Memo<GridVersion>, Memo<u64>),
    recallable: Memo<Vec<restaurant_protocol::Order>>,
    asking: RwSignal<Option<Asking>>,
    help_open: RwSignal<bool>,
    action_error: RwSignal<Option<String>>,
) -> BumpBar {
    let selection = RwSignal::new(TicketSelection::new());
    // The grid brought up to the board (a key may come before the effects have run).
    let current = move |f: &mut dyn FnMut(&TicketGrid)| {
        if version.try_with_untracked(|_| ()).is_some() {
            grid.try_with_value(|g| f(g));
        }
    };
    // The grid as the keys see it: its tickets in display order and the oldest.
    let grid_of = move |f: &mut dyn FnMut(&Grid<'_>)| {
        current(&mut |g| {
            let ids: Vec<&str> = g.display_order().iter().map(String::as_str).collect();
            f(&Grid { ids: &ids, oldest: g.oldest(), page_size: PAGE_SIZE });
        })
    };
    // The selection follows the grid: kept by id, or the ticket now in its place. Only a ticket
    // that came, went or moved can change it.
    Effect::new(move |_| {
        let _ = order.get();
        // Written only when it moved: what reads it (the selected card, the page) is not woken by
        // every change to the grid.
        grid_of(&mut |g| {
            selection.maybe_update(|s| {
                let before = s.clone();
                s.sync(g);
                *s != before
            })
        });
        // A confirmation for a ticket that left (voided elsewhere, completed) closes.
        let gone = asking.with_untracked(|a| {
            a.as_ref().is_some_and(|a| grid.try_with_value(|g| g.get(&a.order_id).is_none()).unwrap_or(false))
        });
        if gone {
            asking.set(None);
        }
    });
    let send = move |order_id: &str, command: Command| {
        action_error.set(feed.command(order_id, command).err().map(|e| e.to_string()));
    };
    let status_of = move |id: &str| {
        let mut found = None;
        current(&mut |g| found = g.get(id).map(|t| (t.status, t.order.rush)));
        found
    };
    let on_key = move |event: web_sys::Event| {
        let Some(key) = event.dyn_ref::<web_sys::KeyboardEvent>() else { return };
        if key.ctrl_key() || key.alt_key() || key.meta_key() || key.default_prevented() {
            return;
        }
        let ctx = KeyContext {
            text_field_focused: typing_in_a_field(),
            confirming: asking.with_untracked(Option::is_some),
            help_open: help_open.get_untracked(),
        };
        if pressing_a_focused_control(&key.key()) {
            return;
        }
        let Some(action) = action_for(&key.key(), ctx) else { return };
        // A held key repeats: only moving the selection may repeat, never a bump or a void.
        let moves =
            matches!(action, KeyAction::Previous | KeyAction::Next | KeyAction::PagePrevious | KeyAction::PageNext);
        if key.repeat() && !moves {
            key.prevent_default();
            return;
        }
        // Arrows would scroll the page; Space would too.
        key.prevent_default();
        // A confirmation is asked on the card (the same for a tap and a key): the selection's own
        // pending confirmation is closed, the answer handled here.
        let close_selection_confirm = move || {
            grid_of(&mut |g| {
                let _ = selection.try_update(|s| s.apply(KeyAction::Cancel, g));
            })
        };
        if ctx.confirming {
            close_selection_confirm();
            let Some(asked) = asking.get_untracked() else { return };
            asking.set(None);
            if action == KeyAction::Confirm {
                let command = match asked.what {
                    AskKind::Void => Command::Void { reason: VOID_REASONS[0].to_string() },
                    AskKind::ForceComplete => Command::Complete { force: true },
                };
                send(&asked.order_id, command);
            }
            return;
        }
        let mut effect = None;
        grid_of(&mut |g| effect = selection.try_update(|s| s.apply(action, g)).flatten());
        let here = station.get_untracked();
        match effect {
            Some(KeyEffect::Start(id)) => {
                if let Some(command) = status_of(&id).and_then(|(status, _)| here.start_command(status)) {
                    send(&id, command);
                }
            }
            Some(KeyEffect::Bump(id)) => {
                if let Some((status, _)) = status_of(&id) {
                    match here.bump_command(status) {
                        Some(command) => send(&id, command),
                        // Expo bumping an order that is not ready: asks before forcing it.
                        None if here == Station::Expo => {
                            asking.set(Some(Asking { order_id: id, what: AskKind::ForceComplete }))
                        }
                        None => {}
                    }
                }
            }
            Some(KeyEffect::Rush(id)) => {
                if let Some((_, rush)) = status_of(&id) {
                    send(&id, Command::Rush { rush: !rush });
                }
            }
            Some(KeyEffect::AskVoid(id)) => {
                close_selection_confirm();
                if here.is_expediting() {
                    asking.set(Some(Asking { order_id: id, what: AskKind::Void }));
                } else {
                    action_error.set(Some("Only expo (or the whole kitchen) can void an order.".into()));
                }
            }
            Some(KeyEffect::RecallLast) => match recallable.with_untracked(|r| r.first().map(|o| o.id.clone())) {
                Some(id) => send(&id, here.recall_command()),
                None => action_error.set(Some("Nothing to recall.".into())),
            },
            Some(KeyEffect::ToggleHelp) => help_open.update(|open| *open = !*open),
            Some(KeyEffect::Void(_) | KeyEffect::CloseConfirm) | None => {}
        }
    };
    StoredValue::new_local(WindowListener::new("keydown", on_key));
    let selected = Memo::new(move |_| selection.with(|s| s.selected().map(str::to_string)));
    // The page the keys act on: its tickets carry the number key that bumps them.
    let page = Memo::new(move |_| {
        let _ = order.get();
        let len = grid.try_with_value(TicketGrid::len).unwrap_or(0);
        (selection.with(TicketSelection::page), TicketSelection::page_count(len, PAGE_SIZE))
    });
    let positions = Memo::new(move |_| {
        let _ = order.get();
        let (current, _) = page.get();
        grid.try_with_value(|g| {
            g.display_order()
                .iter()
                .skip(current * PAGE_SIZE)
                .take(PAGE_SIZE)
                .zip(1u8..)
                .map(|(id, n)| (id.clone(), n))
                .collect::<HashMap<String, u8>>()
        })
        .unwrap_or_default()
    });
    // The selected card stays in view as the selection moves.
    Effect::new(move |_| {
        let Some(id) = selected.get() else { return };
        let query = format!("[data-testid=ticket][data-order-id=\"{id}\"]");
        if let Ok(Some(card)) = document().query_selector(&query) {
            card.scroll_into_view_with_bool(false);
        }
    });
    BumpBar { selected, positions, page }
}

/// What the card of order `id` shows of the grid around it.
fn marks_for(
    id: &str,
    selected: Option<&str>,
    positions: &HashMap<String, u8>,
    flashing: &HashMap<String, Millis>,
    asking: Option<&Asking>,
    first_screen: &[String],
) -> CardMarks {
    CardMarks {
        first_screen: first_screen.iter().any(|first| first == id),
        selected: selected == Some(id),
        position: positions.get(id).copied(),
        flash_started: flashing.get(id).copied(),
        asked: asking.filter(|a| a.order_id == id).map(|a| a.what),
    }
}

/// A card on screen: its signals, and a plain copy of the ticket it shows (what a board change is
/// compared with).
struct Card {
    signals: CardSignals,
    shown: TicketState,
    /// The time its clock shows (set when that turns over a second).
    elapsed: ShownElapsed,
}

/// A card's own signals, written only by the board.
#[derive(Clone, Copy, PartialEq, Eq)]
struct CardSignals {
    fields: TicketFields,
    marks: RwSignal<CardMarks>,
    /// The wall clock, as this card sees it: set when the card's time turns over a second.
    clock: RwSignal<Millis>,
}

/// What the keys' selection shows on the board.
struct BumpBar {
    /// The selected ticket.
    selected: Memo<Option<String>>,
    /// The tickets of the current page with the number key that bumps each.
    positions: Memo<HashMap<String, u8>>,
    /// The current page and how many there are.
    page: Memo<(usize, usize)>,
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
    sound: Sound,
) -> (RwSignal<HashMap<String, Millis>>, RwSignal<Vec<String>>) {
    let board = feed.board();
    let flashing = RwSignal::new(HashMap::<String, Millis>::new());
    let voids = RwSignal::new(Vec::<String>::new());
    let chime = sound.chime;
    let unlock = move |_: web_sys::Event| sound.unlock();
    StoredValue::new_local(
        ["pointerdown", "keydown"]
            .into_iter()
            .filter_map(|event| WindowListener::new(event, unlock))
            .collect::<Vec<_>>(),
    );
    let alerts = StoredValue::new(NewTicketAlerts::new());
    // Written only when something changed: every card watches this map.
    let publish = move || {
        if let Some((shown, voided)) = alerts.try_with_value(|a| (a.flashing().clone(), a.voids_showing(wall_clock())))
        {
            flashing.set(shown);
            if voids.try_with_untracked(|v| v != &voided) == Some(true) {
                voids.set(voided);
            }
        }
    };
    let apply = move |update: AlertsUpdate| {
        if update.changed {
            publish();
        }
        if let Some(tone) = update.tone {
            let gain = sound.settings.get_untracked().gain();
            chime.with_value(|c| c.play_tone(tone, gain));
        }
    };
    Effect::new(move |_| {
        let update =
            board.with(|b| alerts.try_update_value(|a| a.handle_board(wall_clock(), b, &station.get_untracked())));
        update.map(apply);
    });
    Effect::new(move |_| {
        let now = now.get();
        alerts.try_update_value(|a| a.handle_tick(now)).map(apply);
        // The browser may unlock audio on its own time (resume is asynchronous).
        sound.refresh();
    });
    (flashing, voids)
}
