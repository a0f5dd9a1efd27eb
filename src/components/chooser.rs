use leptos::prelude::*;

use super::shell::DemoBadge;

/// The chooser bundle's page: the hub serves it for `/` and for every path that is not another
/// page's, so `/` shows the [`Chooser`] and anything else [`NotFound`].
#[component]
pub fn Home() -> impl IntoView {
    let path = window().location().pathname().unwrap_or_default();
    if path == "/" || path == "/index.html" { Chooser().into_any() } else { NotFound().into_any() }
}

/// `/`: pick which screen this device is.
#[component]
pub fn Chooser() -> impl IntoView {
    view! {
        <div class="page page-chooser" data-testid="chooser-page">
            <header class="page-header">
                <span class="brand">"Restaurant OS"</span>
                <DemoBadge/>
            </header>
            <main class="page-main chooser">
                <h1>"Which screen is this?"</h1>
                <nav class="chooser-links">
                    <a class="chooser-card" href="/kiosk" data-testid="link-kiosk">
                        <span class="chooser-title">"Kiosk"</span>
                        <span class="chooser-sub">"Customers order by voice or touch"</span>
                    </a>
                    <a class="chooser-card" href="/kds" data-testid="link-kds">
                        <span class="chooser-title">"Kitchen display"</span>
                        <span class="chooser-sub">"Live order tickets for a station"</span>
                    </a>
                </nav>
            </main>
        </div>
    }
}

/// Any other path: say so, and offer the way back.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <div class="page page-chooser" data-testid="not-found-page">
            <header class="page-header">
                <span class="brand">"Restaurant OS"</span>
                <DemoBadge/>
            </header>
            <main class="page-main chooser">
                <h1>"This screen does not exist"</h1>
                <p><a href="/" data-testid="link-home">"Choose a screen"</a></p>
            </main>
        </div>
    }
}
