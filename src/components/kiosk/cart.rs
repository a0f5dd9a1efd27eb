//! The order: lines with +/−/remove, the total, submit and its progress, the confirmation.

use leptos::prelude::*;
use restaurant_protocol::{Menu, OrderSource, format_price};

use crate::core::cart::{CartLine, LineKey};
use crate::core::modifiers::customer_label;
use crate::core::quote::QuoteState;
use crate::core::submit::SubmitState;
use crate::hooks::kiosk_cart::KioskCart;
use crate::hooks::order_quote::UseOrderQuoteReturn;
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

/// One line of the cart with its options and allergies, quantity buttons, edit and remove.
#[component]
fn CartRow(
    cart: KioskCart,
    line: CartLine,
    on_edit: Callback<LineKey>,
    #[prop(into)] problem: Signal<Option<String>>,
    /// New or changed by the last change to the order: the row flashes once.
    changed: bool,
) -> impl IntoView {
    let quantity = line.quantity;
    let key = StoredValue::new(line.key.clone());
    let set = move |q: u32| key.with_value(|k| cart.set_quantity(k, q));
    let options = line.options.iter().map(customer_label).collect::<Vec<_>>().join(", ");
    let allergies = line.allergies().iter().map(|a| a.label()).collect::<Vec<_>>().join(", ");
    let editable = !line.options.is_empty() || !line.allergies().is_empty() || line.special_instructions.is_some();
    view! {
        <li
            class="cart-item"
            class:unavailable=move || problem.with(Option::is_some)
            class:flash=changed
            data-changed=changed.to_string()
            data-testid="cart-item"
            data-item-id=line.key.item_id.clone()
        >
            <div class="cart-item-main">
                <span class="cart-item-name">{line.name.clone()}</span>
                {(!options.is_empty()).then(|| view! { <span class="cart-item-mods" data-testid="cart-item-options">{options}</span> })}
                {(!allergies.is_empty()).then(|| view! {
                    <span class="cart-item-allergy" data-testid="cart-item-allergy">"Allergy: " {allergies}</span>
                })}
                {line.special_instructions.clone().map(|s| view! { <span class="cart-item-note">{s}</span> })}
                <Show when=move || problem.with(Option::is_some)>
                    <span class="cart-item-problem" data-testid="cart-item-problem" role="alert">{move || problem.get()}</span>
                </Show>
            </div>
            <div class="cart-item-qty" role="group" aria-label=format!("Quantity of {}", line.name)>
                <button class="btn qty" data-testid="cart-dec" aria-label="One less"
                    on:click=move |_| set(quantity.saturating_sub(1))>"−"</button>
                <span data-testid="cart-qty">{quantity}</span>
                <button class="btn qty" data-testid="cart-inc" aria-label="One more"
                    on:click=move |_| set(quantity + 1)>"+"</button>
            </div>
            <span class="cart-item-total">{format_price(line.line_total_cents())}</span>
            <div class="cart-item-actions">
                {editable.then(|| view! {
                    <button class="btn link" data-testid="cart-edit" on:click=move |_| on_edit.run(key.get_value())>"Edit"</button>
                })}
                <button class="btn link" data-testid="cart-remove" on:click=move |_| set(0)>"Remove"</button>
            </div>
        </li>
    }
}

/// Subtotal, tax and total: the hub's quote, or the page's estimate marked as such.
#[component]
fn Totals(quote: UseOrderQuoteReturn, #[prop(into)] estimate: Signal<restaurant_protocol::Totals>) -> impl IntoView {
    let state = quote.state();
    let totals = move || state.with(|s| s.totals(estimate.get()));
    let tax_label = move || {
        let t = totals();
        let rate = t.tax.rate_text();
        if t.tax.inclusive { format!("Tax included ({rate})") } else { format!("Tax ({rate})") }
    };
    let note = move || match state.get() {
        QuoteState::Estimate { reason } => {
            Some(format!("Estimate: {reason}. The kitchen's price is confirmed when the order is placed."))
        }
        QuoteState::Refused { message } => Some(message),
        _ => None,
    };
    view! {
        <div class="cart-totals" data-testid="cart-totals" data-state=move || state.with(QuoteState::as_str)>
            <p class="cart-line-total"><span>"Subtotal"</span> <span data-testid="cart-subtotal">{move || format_price(totals().subtotal_cents)}</span></p>
            <p class="cart-line-total"><span>{tax_label}</span> <span data-testid="cart-tax">{move || format_price(totals().tax_cents)}</span></p>
            <p class="cart-total">
                <span>{move || if state.with(|s| matches!(s, QuoteState::Quoted(_))) { "Total" } else { "Estimated total" }}</span>
                <strong data-testid="cart-total">{move || format_price(totals().total_cents)}</strong>
            </p>
            <Show when=move || note().is_some()>
                <p class="cart-quote-note" data-testid="cart-quote-note" role="status">{move || note().unwrap_or_default()}</p>
            </Show>
        </div>
    }
}

#[component]
pub fn CartPanel(
    cart: KioskCart,
    submit: UseOrderSubmitReturn,
    quote: UseOrderQuoteReturn,
    #[prop(into)] menu: Signal<Menu>,
    #[prop(into)] source: Signal<OrderSource>,
    on_edit: Callback<LineKey>,
    /// "Start a new order" on the number screen.
    on_new_order: Callback<()>,
    /// The assistant asked "Shall I place it?" about the order as it is now.
    #[prop(into)]
    asking: Signal<bool>,
    /// The order on its way is the previous customer's.
    #[prop(into)]
    previous_pending: Signal<bool>,
) -> impl IntoView {
    let lines = cart.lines();
    // The lines as last shown: a line not among them (new, or its quantity or options changed)
    // flashes when it appears.
    let shown = StoredValue::new(Vec::<CartLine>::new());
    // An emptied cart (a reset, a placed order) is forgotten: the next customer's lines are new.
    Effect::new(move |_| {
        if lines.with(Vec::is_empty) {
            shown.set_value(Vec::new());
        }
    });
    let estimate = Signal::derive(move || {
        let tax = menu.with(|m| m.tax);
        tax.totals(lines.with(|l| l.iter().map(CartLine::line_total_cents).sum::<i64>()))
    });
    // Lines the menu can no longer make, by key, with why (re-checked on every menu change).
    let unavailable = Memo::new(move |_| {
        lines.track();
        menu.with(|m| cart.with(|c| c.unavailable(m)).unwrap_or_default())
    });
    let blocked = move || unavailable.with(|u| !u.is_empty());
    let state = submit.state();
    let sending = move || state.with(SubmitState::is_sending);
    let sent_number = move || match state.get() {
        SubmitState::Sent { number, .. } => Some(number),
        _ => None,
    };

    view! {
        <section class="kiosk-cart" aria-labelledby="cart-heading" data-testid="cart">
            <h2 id="cart-heading">"Your order"</h2>
            <Show
                when=move || sent_number().is_some()
                fallback=move || view! {
                    <Show when=move || !lines.with(Vec::is_empty) fallback=|| view! {
                        <p class="empty" data-testid="cart-empty">"Your cart is empty"</p>
                    }>
                        <ul class="cart-items">
                            {move || {
                                let current = lines.get();
                                let before = shown.try_update_value(|s| std::mem::replace(s, current.clone())).unwrap_or_default();
                                current.into_iter().map(|line| {
                                    let key = line.key.clone();
                                    let changed = !before.contains(&line);
                                    let problem = Signal::derive(move || unavailable.with(|u| u.iter().find(|(k, _)| k == &key).map(|(_, p)| p.clone())));
                                    view! { <CartRow cart line on_edit problem changed/> }
                                }).collect_view()
                            }}
                        </ul>
                    </Show>
                    <Totals quote estimate/>
                    <Show when=blocked>
                        <p class="cart-blocked" data-testid="cart-blocked" role="alert">
                            "Something in your order is sold out: remove or change it to place the order."
                        </p>
                    </Show>
                    <Show when=move || asking.get()>
                        <p class="confirm-question" data-testid="confirm-question" role="status">"Shall I place it?"</p>
                    </Show>
                    <button
                        class="btn primary submit"
                        class:asking=move || asking.get()
                        data-testid="submit-order"
                        disabled=move || lines.with(Vec::is_empty) || sending() || blocked()
                        on:click=move |_| submit.submit(source.get_untracked())
                    >
                        {move || if sending() { "Sending…" } else if asking.get() { "Yes, place my order" } else { "Place order" }}
                    </button>
                    <p class="submit-status" data-testid="submit-status" aria-live="polite" data-state=move || state.with(SubmitState::as_str)>
                        {move || if previous_pending.get() {
                            "The previous order is still being sent; yours can be placed as soon as it is through.".to_string()
                        } else {
                            state.with(submit_text)
                        }}
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
                    <p class="order-paid" data-testid="order-total">
                        "Total " {move || match state.get() { SubmitState::Sent { total_cents, .. } => format_price(total_cents), _ => String::new() }}
                    </p>
                    <button class="btn primary" data-testid="new-order" on:click=move |_| on_new_order.run(())>
                        "Start a new order"
                    </button>
                </div>
            </Show>
        </section>
    }
}
