//! The app shell every page shares: load the runtime configuration, then show the page.
//!
//! Each page is its own wasm bundle (`src/bin/`): the hub serves `/kiosk` the kiosk's, `/kds`
//! the kitchen display's and every other path the chooser's, so a page downloads only its own
//! code. There is no client-side router: a link to another page is a page load.

use leptos::prelude::*;

use crate::components::config_error::ConfigErrorPanel;
use crate::core::config::RuntimeConfig;
use crate::hooks::config::provide_runtime_config;
use crate::hooks::load::use_load;

/// Boots `page`: shows *Starting…* while `config.json` loads, the error panel (with *Retry*) when
/// the configuration is invalid, and the page once it is known.
#[component]
pub fn App<V: IntoView + 'static>(page: fn() -> V) -> impl IntoView {
    let config = use_load(crate::config::load);
    move || match config.get() {
        None => view! { <div class="boot" data-testid="app-loading">"Starting…"</div> }.into_any(),
        Some(Ok(cfg)) => view! { <Configured config=cfg page/> }.into_any(),
        Some(Err(errors)) => view! { <ConfigErrorPanel errors on_retry=move |_| config.reload()/> }.into_any(),
    }
}

/// `page` with `config` provided to it and everything under it.
#[component]
pub fn Configured<V: IntoView + 'static>(config: RuntimeConfig, page: fn() -> V) -> impl IntoView {
    provide_runtime_config(config);
    page()
}
