//! The order: lines with +/−/remove, the total, submit and its progress, the confirmation.

use leptos::prelude::*;
use restaurant_protocol::OrderSource;

use crate::core::cart::format_price;
use crate::core::submit::SubmitState;
use crate::hooks::kiosk_cart::KioskCart;
use crate::hooks::order_submit::SubmitHandle;

#[component]
pub fn CartPanel(cart: KioskCart, submit: SubmitHandle, #[prop(into)] source: Signal<OrderSource>) -> impl IntoView {
    let lines = cart.lines;
    let total = move || lines.with(|l| l.iter().map(|x| x.line_total_cents()).sum::<u64>());
    let state = submit.state;
    let sending = move || matches!(state.get(), SubmitState::Sending { .. } | SubmitState::Retrying { .. });
    let (submit_click, retry, ack, ack2) = (submit.clone(), submit.clone(), submit.clone(), submit);

    let rows = move || {
        let cart = cart.clone();
        lines
            .get()
            .into_iter()
            .map(|line| {
                let (inc_cart, dec_cart, rm_cart) = (cart.clone(), cart.clone(), cart.clone());
                let (k1, k2, k3) = (line.key.clone(), line.key.clone(), line.key.clone());
                let q = line.quantity;
                let modifiers = line.key.modifiers.join(", ");
                view! {
                    <li class="cart-item" data-testid="cart-item" data-item-id=line.key.item_id.clone()>
                        <div class="cart-item-main">
                            <span class="cart-item-name">{line.name.clone()}</span>
                            {(!modifiers.is_empty()).then(|| view! { <span class="cart-item-mods">{modifiers}</span> })}
                            {line.special_instructions.clone().map(|s| view! { <span class="cart-item-note">{s}</span> })}
                        </div>
                        <div class="cart-item-qty">
                            <button class="btn qty" data-testid="cart-dec" aria-label="One less"
                                on:click=move |_| dec_cart.set_quantity(&k1, q.saturating_sub(1))>"−"</button>
                            <span data-testid="cart-qty">{q}</span>
                            <button class="btn qty" data-testid="cart-inc" aria-label="One more"
                                on:click=move |_| inc_cart.set_quantity(&k2, q + 1)>"+"</button>
                        </div>
                        <span class="cart-item-total">{format_price(line.line_total_cents())}</span>
                        <button class="btn link" data-testid="cart-remove" aria-label="Remove"
                            on:click=move |_| rm_cart.set_quantity(&k3, 0)>"Remove"</button>
                    </li>
                }
            })
            .collect_view()
    };

    view! {
        <section class="kiosk-cart" aria-label="Your order" data-testid="cart">
            <h2>"Your order"</h2>
            <Show
                when=move || matches!(state.get(), SubmitState::Sent { .. })
                fallback=move || {
                    let (rows, submit_click, retry, ack2) = (rows.clone(), submit_click.clone(), retry.clone(), ack2.clone());
                    view! {
                    <Show when=move || !lines.with(Vec::is_empty) fallback=|| view! {
                        <p class="empty" data-testid="cart-empty">"Your cart is empty"</p>
                    }>
                        <ul class="cart-items">{rows.clone()}</ul>
                    </Show>
                    <p class="cart-total">"Total " <strong data-testid="cart-total">{move || format_price(total())}</strong></p>
                    <button
                        class="btn primary submit"
                        data-testid="submit-order"
                        disabled=move || lines.with(Vec::is_empty) || sending()
                        on:click={
                            let s = submit_click.clone();
                            move |_| s.submit(source.get_untracked())
                        }
                    >
                        {move || if sending() { "Sending…" } else { "Place order" }}
                    </button>
                    <p class="submit-status" data-testid="submit-status" aria-live="polite" data-state=move || match state.get() {
                        SubmitState::Idle => "idle",
                        SubmitState::Sending { .. } => "sending",
                        SubmitState::Retrying { .. } => "retrying",
                        SubmitState::Sent { .. } => "sent",
                        SubmitState::Rejected { .. } => "rejected",
                    }>
                        {move || match state.get() {
                            SubmitState::Idle => String::new(),
                            SubmitState::Sending { .. } => "Sending…".into(),
                            SubmitState::Retrying { .. } => "Sending… (connection problem, your order is kept and will be sent)".into(),
                            SubmitState::Sent { number, .. } => format!("Sent #{number}"),
                            SubmitState::Rejected { message } => format!("The order could not be placed: {message}"),
                        }}
                    </p>
                    <Show when=move || matches!(state.get(), SubmitState::Retrying { .. })>
                        <button class="btn" data-testid="submit-retry" on:click={
                            let r = retry.clone();
                            move |_| r.retry_now()
                        }>"Try now"</button>
                    </Show>
                    <Show when=move || matches!(state.get(), SubmitState::Rejected { .. })>
                        <button class="btn" data-testid="submit-dismiss" on:click={
                            let a = ack2.clone();
                            move |_| a.acknowledge()
                        }>"OK"</button>
                    </Show>
                    }
                }
            >
                <div class="order-confirmation" data-testid="order-confirmation" role="status">
                    <p>"Thank you! Your order number is"</p>
                    <p class="order-number" data-testid="order-number">{move || match state.get() {
                        SubmitState::Sent { number, .. } => format!("#{number}"),
                        _ => String::new(),
                    }}</p>
                    <button class="btn primary" data-testid="new-order" on:click={
                        let a = ack.clone();
                        move |_| a.acknowledge()
                    }>"Start a new order"</button>
                </div>
            </Show>
        </section>
    }
}
