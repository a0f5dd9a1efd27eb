use leptos::prelude::*;

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
            {detail.map(|d| view! { <span class="banner-detail">{move || d.get()}</span> })}
        </div>
    }
}
