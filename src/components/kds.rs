use leptos::prelude::*;

use super::shell::{ConnectionBanner, PageShell};
use crate::hooks::config::use_runtime_config;

/// `/kds`: the kitchen display for one station.
#[component]
pub fn KdsPage() -> impl IntoView {
    let config = use_runtime_config();
    let title = format!("Kitchen · {}", config.station);
    view! {
        <PageShell
            page="kds"
            title=title
            banner=ViewFn::from(|| view! { <ConnectionBanner state="signed_out" text="Not signed in"/> })
        >
            <section class="orders-grid" aria-label="Active orders" data-testid="orders-grid">
                <p class="empty">"No active orders"</p>
            </section>
        </PageShell>
    }
}
