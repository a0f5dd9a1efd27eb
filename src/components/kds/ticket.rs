//! One ticket card: number, source, elapsed time, items (allergies highlighted) and the actions.
//!
//! A card is built when its order appears (or when the station filter shows it again) and is
//! otherwise updated in place, field by field ([`TicketFields`]): starting, bumping, rush or a
//! pending marker change an attribute or a button, not the whole card, so focus stays where it
//! was. The board moves a rushed card's element to the front; the card is not rebuilt.

use std::sync::Arc;

use leptos::prelude::*;
use restaurant_protocol::{ItemStatus, Order, OrderItem, OrderStatus};

use super::board::wall_clock;
use crate::core::board::{AgeLevel, Command, Station, StationProgress, Ticket, created_unix_ms, elapsed_since};
use crate::core::modifiers::{allergy_banner, allergy_names, cook_lines};
use crate::core::time::{Millis, clock_text, whole_millis};

/// What a card shows of its ticket: everything but the elapsed time, which the card derives
/// from the page clock itself (so the clock's tick changes no card state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketState {
    pub order: Arc<Order>,
    /// This screen's part of the order (see [`Ticket::status`]).
    pub status: OrderStatus,
    pub progress: Arc<[StationProgress]>,
    pub pending: bool,
    pub age: AgeLevel,
}

impl From<&Ticket> for TicketState {
    fn from(ticket: &Ticket) -> TicketState {
        TicketState {
            order: ticket.order.clone(),
            status: ticket.status,
            progress: ticket.progress.clone(),
            pending: ticket.pending,
            age: ticket.age,
        }
    }
}

/// A card's ticket, a signal for each field it shows. The board sets only the fields an update
/// changed ([`TicketFields::show`]), so a change to one (rush, an item ready) runs only what
/// shows that field. Not one signal for the whole ticket with a memo per field: every update then
/// ran each of the card's memos (copying its items and notes to compare them) and cloned each
/// one's subscribers to mark them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TicketFields {
    status: RwSignal<OrderStatus>,
    rush: RwSignal<bool>,
    pending: RwSignal<bool>,
    age: RwSignal<AgeLevel>,
    items: RwSignal<Vec<OrderItem>>,
    customer: RwSignal<Option<String>>,
    notes: RwSignal<String>,
    progress: RwSignal<Arc<[StationProgress]>>,
    updated_at: RwSignal<String>,
}

impl TicketFields {
    pub fn new(t: &TicketState) -> TicketFields {
        TicketFields {
            status: RwSignal::new(t.status),
            rush: RwSignal::new(t.order.rush),
            pending: RwSignal::new(t.pending),
            age: RwSignal::new(t.age),
            items: RwSignal::new(t.order.items.clone()),
            customer: RwSignal::new(t.order.customer_name.clone()),
            notes: RwSignal::new(t.order.notes.clone()),
            progress: RwSignal::new(t.progress.clone()),
            updated_at: RwSignal::new(t.order.updated_at.clone()),
        }
    }

    /// Sets each field that differs between `before` (what the card showed) and `now`.
    pub fn show(self, before: &TicketState, now: &TicketState) {
        set_changed(self.status, &before.status, &now.status);
        set_changed(self.rush, &before.order.rush, &now.order.rush);
        set_changed(self.pending, &before.pending, &now.pending);
        set_changed(self.age, &before.age, &now.age);
        set_changed(self.items, &before.order.items, &now.order.items);
        set_changed(self.customer, &before.order.customer_name, &now.order.customer_name);
        set_changed(self.notes, &before.order.notes, &now.order.notes);
        set_changed(self.progress, &before.progress, &now.progress);
        set_changed(self.updated_at, &before.order.updated_at, &now.order.updated_at);
    }
}

/// Sets `signal` to `now` if that differs from `before` (a disposed card's is left alone).
fn set_changed<T: PartialEq + Clone + Send + Sync + 'static>(signal: RwSignal<T>, before: &T, now: &T) {
    if before != now {
        let _ = signal.try_set(now.clone());
    }
}

/// What a card shows of the grid around it: written by the board only when it changes, so a card
/// watches nothing the whole grid shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CardMarks {
    /// The keyboard / bump bar has it selected.
    pub selected: bool,
    /// The number key that bumps it, on the bump bar's current page.
    pub position: Option<u8>,
    /// When its new-order flash started on the wall clock, while it flashes.
    pub flash_started: Option<Millis>,
    /// What it is asking the cook to confirm.
    pub asked: Option<AskKind>,
    /// Among the first screenful of the grid: drawn even when off screen.
    pub first_screen: bool,
}

/// The reasons a void offers (the first is what the bump bar's confirm uses).
pub const VOID_REASONS: [&str; 4] = ["Customer left", "Wrong order", "Duplicate order", "Kitchen error"];

#[component]
pub fn TicketCard(
    /// The order as the card was built (its id, number, source and creation never change).
    order: Arc<Order>,
    /// This card's ticket, field by field; each changes only when what it shows changes.
    fields: TicketFields,
    /// The station the grid shows (decides what bumping does).
    station: Memo<Station>,
    /// Its selection, bump key, flash and confirmation; changes only when one of them does.
    marks: ReadSignal<CardMarks>,
    /// The wall clock, this card's own copy: set by the board when the time the card shows turns
    /// over a second.
    now: ReadSignal<Millis>,
    /// The station this screen is signed in as: it offers only what that station may do (a grill
    /// screen looking at the fryer's tickets only looks).
    home: StoredValue<String>,
    /// Where a card asks for a confirmation (shared with the keys; read through `marks`).
    asking: WriteSignal<Option<Asking>>,
    send: impl Fn(String, Command) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    // What never changes for an order.
    let (id, number, source, created) =
        (order.id.clone(), order.number, order.source.as_str(), created_unix_ms(&order));
    let TicketFields { status, rush, pending, age, items, customer, notes, progress: stations, updated_at } = fields;
    let status = move || status.get();
    let rush = move || rush.get();
    let pending = move || pending.get();
    let age = move || age.get();
    // A flashing card rebuilt (the station filter hid and showed it) picks its flash up where it
    // was, rather than starting it again: a negative delay puts the animation that far in.
    let built_at = wall_clock();
    let flash_started = Memo::new(move |_| marks.with(|m| m.flash_started));
    let is_new = move || flash_started.get().is_some();
    let flash_style = move || {
        flash_started
            .get()
            .filter(|&started| started < built_at)
            .map(|started| format!("animation-delay: -{}ms", whole_millis(built_at.since(started))))
    };

    let elapsed = move || clock_text(elapsed_since(created, now.get()));
    let action = {
        let id = id.clone();
        move |command: Command| {
            let id = id.clone();
            move |_: leptos::ev::MouseEvent| send(id.clone(), command.clone())
        }
    };
    let start_action = action.clone();
    let bump_action = action.clone();
    let rush_id = id.clone();
    let may = move |command: &Command| home.with_value(|h| command.allowed_for(h).is_ok());
    let start = move || {
        station.with(|s| s.start_command(status())).filter(may).map(|command| {
            view! {
                <button class="btn ticket-action action-start" data-testid="ticket-start" on:click=start_action(command)>
                    "Start"
                </button>
            }
        })
    };
    let bump = move || {
        station.with(|s| s.bump_command(status())).filter(may).map(|command| {
            let label = if matches!(command, Command::Complete { .. }) { "Complete" } else { "Bump" };
            view! {
                <button class="btn ticket-action action-bump" data-testid="ticket-bump" on:click=bump_action(command)>
                    {label}
                </button>
            }
        })
    };

    let is_selected = move || marks.with(|m| m.selected);
    let position = Memo::new(move |_| marks.with(|m| m.position));
    let asked = Memo::new(move |_| marks.with(|m| m.asked));
    let expediting = move || station.with(Station::is_expediting) && may(&Command::Complete { force: true });
    let ask = {
        let id = id.clone();
        move |what: AskKind| asking.set(Some(Asking { order_id: id.clone(), what }))
    };
    let ask_force = ask.clone();
    let force = move || {
        let ask = ask_force.clone();
        (expediting() && station.with(|s| *s == Station::Expo) && status() != OrderStatus::Ready && asked.get().is_none())
            .then(|| {
                view! {
                    <button class="btn ticket-action action-force" data-testid="ticket-force" on:click=move |_| ask(AskKind::ForceComplete)>
                        "Complete anyway…"
                    </button>
                }
            })
    };
    let ask_void = ask.clone();
    let void_button = move || {
        let ask = ask_void.clone();
        (expediting() && asked.get().is_none()).then(|| {
            view! {
                <button class="btn ticket-action action-void" data-testid="ticket-void" on:click=move |_| ask(AskKind::Void)>
                    "Void…"
                </button>
            }
        })
    };
    let confirm_id = id.clone();
    let confirm = move || {
        let id = confirm_id.clone();
        asked.get().map(|what| match what {
            AskKind::Void => {
                let reasons = VOID_REASONS
                    .into_iter()
                    .map(|reason| {
                        let id = id.clone();
                        view! {
                            <button
                                class="btn ticket-action action-void-reason"
                                data-testid="void-reason"
                                data-reason=reason
                                on:click=move |_| {
                                    asking.set(None);
                                    send(id.clone(), Command::Void { reason: reason.to_string() });
                                }
                            >
                                {reason}
                            </button>
                        }
                    })
                    .collect_view();
                view! {
                    <div class="ticket-confirm" role="group" aria-label=format!("Void order {number}?") data-testid="void-confirm">
                        <p>{format!("Void #{number}? Pick the reason (Enter: {}).", VOID_REASONS[0])}</p>
                        {reasons}
                        <button class="btn" data-testid="confirm-cancel" on:click=move |_| asking.set(None)>"Keep it"</button>
                    </div>
                }
                .into_any()
            }
            AskKind::ForceComplete => view! {
                <div class="ticket-confirm" role="group" aria-label=format!("Complete order {number} before it is ready?") data-testid="force-confirm">
                    <p>{format!("#{number} is not ready. Complete it anyway?")}</p>
                    <button
                        class="btn ticket-action action-force"
                        data-testid="force-confirm-yes"
                        on:click=move |_| {
                            asking.set(None);
                            send(id.clone(), Command::Complete { force: true });
                        }
                    >
                        "Complete anyway"
                    </button>
                    <button class="btn" data-testid="confirm-cancel" on:click=move |_| asking.set(None)>"Keep it"</button>
                </div>
            }
            .into_any(),
        })
    };
    let progress = move || {
        stations.with(|progress| {
            (!progress.is_empty()).then(|| {
                let parts = progress
                    .iter()
                    .map(|p| {
                        let station = p.station.clone();
                        let text = match p.status {
                            ItemStatus::Ready => format!("{station} ✓").into_any(),
                            _ => (move || format!("{station} {}", clock_text(elapsed_since(created, now.get())))).into_any(),
                        };
                        view! {
                            <li class=format!("station-progress progress-{}", p.status.as_str()) data-testid="station-progress" data-station=p.station.clone() data-status=p.status.as_str()>
                                {text}
                            </li>
                        }
                    })
                    .collect_view();
                view! { <ul class="ticket-progress" data-testid="ticket-progress" aria-label="Stations">{parts}</ul> }
            })
        })
    };

    view! {
        <article
            class="ticket"
            class:status-new=move || status() == OrderStatus::New
            class:status-preparing=move || status() == OrderStatus::Preparing
            class:status-ready=move || status() == OrderStatus::Ready
            class:status-completed=move || status() == OrderStatus::Completed
            class:status-cancelled=move || status() == OrderStatus::Cancelled
            class:age-ok=move || age() == AgeLevel::Ok
            class:age-warning=move || age() == AgeLevel::Warning
            class:age-urgent=move || age() == AgeLevel::Urgent
            class:rush=rush
            class:pending=pending
            class:ticket-new=is_new
            class:selected=is_selected
            class:first-screen=move || marks.with(|m| m.first_screen)
            style=flash_style
            data-testid="ticket"
            data-order-id=id
            data-status=move || status().as_str()
            data-age-level=move || age().as_str()
            data-pending=move || pending().to_string()
            data-rush=move || rush().to_string()
            data-selected=move || is_selected().to_string()
            data-updated-at=move || updated_at.get()
            aria-label=format!("Order {number}")
        >
            <header class="ticket-head">
                {move || position.get().map(|n| view! {
                    <kbd class="ticket-position" data-testid="ticket-position" title=format!("Key {n} bumps it")>{n}</kbd>
                })}
                <span class="ticket-number" data-testid="ticket-number">{format!("#{number}")}</span>
                <span class="ticket-source" data-testid="ticket-source">{source}</span>
                {move || rush().then(|| view! { <span class="ticket-rush-badge">"RUSH"</span> })}
                <span class="ticket-elapsed" data-testid="ticket-elapsed">{elapsed}</span>
            </header>
            {move || pending().then(|| view! { <p class="ticket-pending" data-testid="ticket-pending">"Sending…"</p> })}
            {progress}
            {move || customer.get().map(|name| view! { <p class="ticket-customer">{name}</p> })}
            {move || items.with(|items| allergy_banner(items.iter())).map(|text| view! {
                <p class="ticket-allergy-banner" role="alert" data-testid="ticket-allergy">{text}</p>
            })}
            <ul class="ticket-items">{move || items.get().into_iter().map(item_line).collect_view()}</ul>
            {move || {
                let notes = notes.get();
                (!notes.is_empty())
                    .then(|| view! { <p class="ticket-notes" data-testid="ticket-notes">{notes}</p> })
            }}
            {confirm}
            <footer class="ticket-actions">
                {start}
                {bump}
                {force}
                <button
                    class="btn ticket-action action-rush"
                    data-testid="ticket-rush"
                    aria-pressed=move || rush().to_string()
                    on:click=move |_| {
                        send(rush_id.clone(), Command::Rush { rush: !fields.rush.get_untracked() })
                    }
                >
                    {move || if rush() { "Unrush" } else { "Rush" }}
                </button>
                {void_button}
            </footer>
        </article>
    }
}

/// What a ticket is asking the cook to confirm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AskKind {
    Void,
    ForceComplete,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asking {
    pub order_id: String,
    pub what: AskKind,
}

pub(super) fn item_line(item: OrderItem) -> impl IntoView {
    view! {
        <li class="ticket-item" class:allergy=!item.allergies.is_empty() class:item-ready=item.status == ItemStatus::Ready data-testid="ticket-item" data-item-status=item.status.as_str() data-allergy=(!item.allergies.is_empty()).to_string()>
            <span class="item-qty">{format!("{}×", item.quantity)}</span>
            " "
            <span class="item-name">{item.name}</span>
            {(!item.allergies.is_empty()).then(|| view! {
                <span class="allergy-badge" data-testid="allergy-badge">{format!("ALLERGY: {}", allergy_names(&item.allergies))}</span>
            })}
            {(!item.options.is_empty())
                .then(|| {
                    view! {
                        <ul class="item-modifiers" data-testid="item-modifiers">
                            {cook_lines(&item.options)
                                .into_iter()
                                .map(|line| view! {
                                    <li class=format!("modifier-{}", line.kind.as_str()) data-testid="item-modifier" data-kind=line.kind.as_str()>
                                        {line.text}
                                    </li>
                                })
                                .collect_view()}
                        </ul>
                    }
                })}
            {(!item.modifiers.is_empty()).then(|| view! {
                // An order placed before modifier groups: its free text, as written.
                <ul class="item-modifiers" data-testid="item-legacy-modifiers">
                    {item.modifiers.into_iter().map(|m| view! { <li data-testid="item-modifier" data-kind="text">{m}</li> }).collect_view()}
                </ul>
            })}
            {item
                .special_instructions
                .map(|s| view! { <p class="item-instructions" data-testid="item-instructions">{s}</p> })}
        </li>
    }
}
