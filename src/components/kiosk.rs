use leptos::prelude::*;

use super::shell::{ConnectionBanner, PageShell};

/// `/kiosk`: what a customer touches.
#[component]
pub fn KioskPage() -> impl IntoView {
    view! {
        <PageShell
            page="kiosk"
            title="Order here"
            banner=ViewFn::from(|| view! { <ConnectionBanner state="disconnected" text="Voice assistant not connected"/> })
        >
            <div class="kiosk-layout">
                <section class="kiosk-voice" aria-label="Order by voice" data-testid="voice-panel">
                    <h2>"Talk to order"</h2>
                </section>
                <section class="kiosk-cart" aria-label="Your order" data-testid="cart">
                    <h2>"Your order"</h2>
                    <p class="empty" data-testid="cart-empty">"Your cart is empty"</p>
                </section>
            </div>
        </PageShell>
    }
}
