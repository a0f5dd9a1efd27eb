//! The app root: loads the runtime configuration, then routes by path.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::components::chooser::{Chooser, NotFound};
use crate::components::config_error::ConfigErrorPanel;
use crate::components::kds::KdsPage;
use crate::components::kiosk::KioskPage;
use crate::core::config::RuntimeConfig;
use crate::hooks::config::provide_runtime_config;

#[component]
pub fn App() -> impl IntoView {
    let config = LocalResource::new(crate::config::load);
    view! {
        <Suspense fallback=|| view! { <div class="boot" data-testid="app-loading">"Starting…"</div> }>
            {move || {
                config
                    .get()
                    .map(|result| match result {
                        Ok(cfg) => view! { <Routed config=cfg/> }.into_any(),
                        Err(errors) => {
                            view! { <ConfigErrorPanel errors on_retry=move |_| config.refetch()/> }.into_any()
                        }
                    })
            }}
        </Suspense>
    }
}

/// The pages, once the configuration is known.
#[component]
pub fn Routed(config: RuntimeConfig) -> impl IntoView {
    provide_runtime_config(config);
    view! {
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/") view=Chooser/>
                <Route path=path!("/kiosk") view=KioskPage/>
                <Route path=path!("/kds") view=|| view! { <KdsPage/> }/>
            </Routes>
        </Router>
    }
}
