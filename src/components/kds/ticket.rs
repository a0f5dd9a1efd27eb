//! One ticket card: number, source, elapsed time, items (allergies highlighted) and the actions.

use std::collections::HashSet;

use leptos::prelude::*;
use restaurant_protocol::time::parse_rfc3339_millis;
use restaurant_protocol::{OrderItem, OrderStatus};

use super::elapsed_text;
use crate::core::board::{Command, Station, Ticket};

#[component]
pub fn TicketCard(
    ticket: Ticket,
    /// The station the grid shows (decides what bumping does).
    station: Station,
    /// The page's 1 Hz wall clock (Unix ms).
    now: RwSignal<f64>,
    flashing: RwSignal<HashSet<String>>,
    send: impl Fn(String, Command) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let Ticket {
        order,
        pending,
        age,
        ..
    } = ticket;
    let id = order.id.clone();
    let created = parse_rfc3339_millis(&order.created_at);
    let elapsed = move || {
        let ms = created.map_or(0, |c| u64::try_from(now.get() as i64 - c).unwrap_or(0));
        elapsed_text(ms)
    };
    let class = {
        let id = id.clone();
        let base = format!(
            "ticket status-{} age-{}{}{}",
            order.status.as_str(),
            age.as_str(),
            if order.rush { " rush" } else { "" },
            if pending { " pending" } else { "" }
        );
        move || {
            if flashing.with(|f| f.contains(&id)) {
                format!("{base} ticket-new")
            } else {
                base.clone()
            }
        }
    };
    let action = move |command: Command| {
        let id = id.clone();
        move |_: leptos::ev::MouseEvent| send(id.clone(), command)
    };
    let start = (order.status == OrderStatus::New).then(|| {
        view! {
            <button class="btn ticket-action action-start" data-testid="ticket-start" on:click=action(Command::Start)>
                "Start"
            </button>
        }
    });
    let bump = station.bump_command(order.status).map(|command| {
        let label = if command == Command::Complete { "Complete" } else { "Bump" };
        view! {
            <button class="btn ticket-action action-bump" data-testid="ticket-bump" on:click=action(command)>
                {label}
            </button>
        }
    });
    let rush = order.rush;
    let customer = order
        .customer_name
        .clone()
        .map(|name| view! { <p class="ticket-customer">{name}</p> });
    let notes = (!order.notes.is_empty()).then(
        || view! { <p class="ticket-notes" data-testid="ticket-notes">{order.notes.clone()}</p> },
    );

    view! {
        <article
            class=class
            data-testid="ticket"
            data-order-id=order.id.clone()
            data-status=order.status.as_str()
            data-age-level=age.as_str()
            data-pending=pending.to_string()
            data-rush=rush.to_string()
            data-updated-at=order.updated_at.clone()
            aria-label=format!("Order {}", order.number)
        >
            <header class="ticket-head">
                <span class="ticket-number" data-testid="ticket-number">{format!("#{}", order.number)}</span>
                <span class="ticket-source" data-testid="ticket-source">{order.source.as_str()}</span>
                {rush.then(|| view! { <span class="ticket-rush-badge">"RUSH"</span> })}
                <span class="ticket-elapsed" data-testid="ticket-elapsed">{elapsed}</span>
            </header>
            {pending.then(|| view! { <p class="ticket-pending" data-testid="ticket-pending">"Sending…"</p> })}
            {customer}
            <ul class="ticket-items">{order.items.iter().cloned().map(item_line).collect_view()}</ul>
            {notes}
            <footer class="ticket-actions">
                {start}
                {bump}
                <button
                    class="btn ticket-action action-rush"
                    data-testid="ticket-rush"
                    aria-pressed=rush.to_string()
                    on:click=action(Command::Rush { rush: !rush })
                >
                    {if rush { "Unrush" } else { "Rush" }}
                </button>
            </footer>
        </article>
    }
}

fn item_line(item: OrderItem) -> impl IntoView {
    let class = if item.allergy {
        "ticket-item allergy"
    } else {
        "ticket-item"
    };
    view! {
        <li class=class data-testid="ticket-item" data-allergy=item.allergy.to_string()>
            <span class="item-qty">{format!("{}×", item.quantity)}</span>
            " "
            <span class="item-name">{item.name}</span>
            {item.allergy.then(|| view! { <span class="allergy-badge" data-testid="allergy-badge">"ALLERGY"</span> })}
            {(!item.modifiers.is_empty())
                .then(|| {
                    view! {
                        <ul class="item-modifiers">
                            {item.modifiers.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}
                        </ul>
                    }
                })}
            {item
                .special_instructions
                .map(|s| view! { <p class="item-instructions" data-testid="item-instructions">{s}</p> })}
        </li>
    }
}
