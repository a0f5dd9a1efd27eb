use leptos::prelude::*;

use crate::core::secure::{MediaAccess, NEEDS_HTTPS};
use crate::hooks::config::try_use_runtime_config;

/// The frame every page shares: a header, the connection banner area and the main region.
#[component]
pub fn PageShell(
    /// `kiosk` or `kds`: selects the page theme.
    page: &'static str,
    /// Shown in the header beside the brand.
    #[prop(into)]
    title: Signal<String>,
    /// Right-hand side of the header (station name, sign-out, …).
    #[prop(optional)]
    header_extra: Option<ViewFn>,
    /// The connection banner (see [`ConnectionBanner`]).
    banner: ViewFn,
    children: Children,
) -> impl IntoView {
    view! {
        <div class=format!("page page-{page}") data-testid=format!("{page}-page")>
            <header class="page-header" data-testid="page-header">
                <a class="brand" href="/">"Restaurant OS"</a>
                <DemoBadge/>
                <h1 class="page-title" data-testid="page-title">{move || title.get()}</h1>
                <div class="header-extra">{header_extra.map(|f| f.run())}</div>
            </header>
            <div class="banner-area">{banner.run()}</div>
            <main class="page-main" data-testid="page-main">{children()}</main>
        </div>
    }
}

/// Connection status line: `data-state` (a state enum's `as_str()`) is machine-readable and
/// selects the style; the text is for people.
#[component]
pub fn ConnectionBanner(
    #[prop(into)] state: Signal<&'static str>,
    #[prop(into)] text: Signal<String>,
    /// Optional secondary line (e.g. "Last update 12:03:44").
    #[prop(optional, into)]
    detail: Option<Signal<String>>,
) -> impl IntoView {
    view! {
        <div
            class="connection-banner"
            data-testid="connection-status"
            role="status"
            aria-live="polite"
            data-state=move || state.get()
        >
            <span class="banner-dot" aria-hidden="true"></span>
            <span class="banner-text">{move || text.get()}</span>
            {detail.map(|d| view! { <span class="banner-detail" data-testid="banner-detail">{move || d.get()}</span> })}
        </div>
    }
}

/// "Demo" beside the brand while the hub runs in demo mode (nothing in production).
#[component]
pub fn DemoBadge() -> impl IntoView {
    let demo = try_use_runtime_config().is_some_and(|c| c.mode.is_demo());
    demo.then(|| {
        view! {
            <span
                class="demo-badge"
                data-testid="demo-badge"
                title="Demo hub: demo PIN, no pairing, test endpoints open — not for a restaurant's real orders"
            >
                "Demo"
            </span>
        }
    })
}

/// Why voice and calls are unavailable on this page, and where they work (nothing when they do).
#[component]
pub fn InsecureContextNotice(access: MediaAccess) -> impl IntoView {
    let state = access.as_str();
    access.open_url().map(str::to_string).map(|open| {
        view! {
            <p class="insecure-context" role="note" data-testid="insecure-context" data-state=state>
                {NEEDS_HTTPS}
                " "
                <a href=open.clone() data-testid="insecure-context-link">{open.clone()}</a>
            </p>
        }
    })
}
