//! The order: lines with +/−/remove, the total, submit and its progress, the confirmation.

use leptos::prelude::*;
use restaurant_protocol::{OrderSource, format_price};

use crate::core::cart::CartLine;
use crate::core::submit::SubmitState;
use crate::hooks::kiosk_cart::KioskCart;
use crate::hooks::order_submit::UseOrderSubmitReturn;

/// The words of the submit status line.
fn submit_text(state: &SubmitState) -> String {
    match state {
        SubmitState::Idle => String::new(),
        SubmitState::Sending { .. } => "Sending…".into(),
        SubmitState::Retrying { reason, wait, .. } => {
            format!("Sending… ({reason}; your order is kept and sent again in {} s)", wait.as_secs_f64().ceil() as u64)
        }
        SubmitState::WaitingForPairing => "Your order is kept and will be sent once this kiosk is paired".into(),
        SubmitState::Sent { number, .. } => format!("Sent #{number}"),
        SubmitState::Rejected { message } => format!("The order could not be placed: {message}"),
    }
}

/// One line of the cart with its quantity buttons.
#[component]
fn CartRow(cart: KioskCart, line: CartLine) -> impl IntoView {
    let quantity = line.quantity;
    let key = StoredValue::new(line.key.clone());
    let set = move |q: u32| key.with_value(|k| cart.set_quantity(k, q));
    let modifiers = line.options.iter().map(|o| o.name.as_str()).collect::<Vec<_>>().join(", ");
    view! {
        <li class="cart-item" data-testid="cart-item" data-item-id=line.key.item_id.clone()>
            <div class="cart-item-main">
                <span class="cart-item-name">{line.name.clone()}</span>
                {(!modifiers.is_empty()).then(|| view! { <span class="cart-item-mods">{modifiers}</span> })}
                {line.special_instructions.clone().map(|s| view! { <span class="cart-item-note">{s}</span> })}
            </div>
            <div class="cart-item-qty">
                <button class="btn qty" data-testid="cart-dec" aria-label="One less"
                    on:click=move |_| set(quantity.saturating_sub(1))>"−"</button>
                <span data-testid="cart-qty">{quantity}</span>
                <button class="btn qty" data-testid="cart-inc" aria-label="One more"
                    on:click=move |_| set(quantity + 1)>"+"</button>
            </div>
            <span class="cart-item-total">{format_price(line.line_total_cents())}</span>
            <button class="btn link" data-testid="cart-remove" aria-label="Remove"
                on:click=move |_| set(0)>"Remove"</button>
        </li>
    }
}

#[component]
pub fn CartPanel(
    cart: KioskCart,
    submit: UseOrderSubmitReturn,
    #[prop(into)] source: Signal<OrderSource>,
) -> impl IntoView {
    let lines = cart.lines();
    let total = move || lines.with(|l| l.iter().map(CartLine::line_total_cents).sum::<i64>());
    let state = submit.state();
    let sending = move || state.with(SubmitState::is_sending);
    let sent_number = move || match state.get() {
        SubmitState::Sent { number, .. } => Some(number),
        _ => None,
    };

    view! {
        <section class="kiosk-cart" aria-label="Your order" data-testid="cart">
            <h2>"Your order"</h2>
            <Show
                when=move || sent_number().is_some()
                fallback=move || view! {
                    <Show when=move || !lines.with(Vec::is_empty) fallback=|| view! {
                        <p class="empty" data-testid="cart-empty">"Your cart is empty"</p>
                    }>
                        <ul class="cart-items">
                            {move || lines.get().into_iter().map(|line| view! { <CartRow cart line/> }).collect_view()}
                        </ul>
                    </Show>
                    <p class="cart-total">"Total " <strong data-testid="cart-total">{move || format_price(total())}</strong></p>
                    <button
                        class="btn primary submit"
                        data-testid="submit-order"
                        disabled=move || lines.with(Vec::is_empty) || sending()
                        on:click=move |_| submit.submit(source.get_untracked())
                    >
                        {move || if sending() { "Sending…" } else { "Place order" }}
                    </button>
                    <p class="submit-status" data-testid="submit-status" aria-live="polite" data-state=move || state.with(SubmitState::as_str)>
                        {move || state.with(submit_text)}
                    </p>
                    <Show when=move || matches!(state.get(), SubmitState::Retrying { .. })>
                        <button class="btn" data-testid="submit-retry" on:click=move |_| submit.retry_now()>"Try now"</button>
                    </Show>
                    <Show when=move || matches!(state.get(), SubmitState::Rejected { .. })>
                        <button class="btn" data-testid="submit-dismiss" on:click=move |_| submit.acknowledge()>"OK"</button>
                    </Show>
                }
            >
                <div class="order-confirmation" data-testid="order-confirmation" role="status">
                    <p>"Thank you! Your order number is"</p>
                    <p class="order-number" data-testid="order-number">
                        {move || sent_number().map(|n| format!("#{n}")).unwrap_or_default()}
                    </p>
                    <button class="btn primary" data-testid="new-order" on:click=move |_| submit.acknowledge()>
                        "Start a new order"
                    </button>
                </div>
            </Show>
        </section>
    }
}
