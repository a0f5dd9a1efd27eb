use leptos::prelude::*;

use crate::core::config::ConfigError;

/// Shown instead of a page when the configuration is invalid: names every bad key.
#[component]
pub fn ConfigErrorPanel(errors: Vec<ConfigError>, #[prop(into)] on_retry: Callback<()>) -> impl IntoView {
    view! {
        <div class="config-error" role="alert" data-testid="config-error">
            <h1>"This screen is not configured correctly"</h1>
            <p>"Fix these settings in config.json or in the page address, then retry:"</p>
            <ul>
                {errors
                    .into_iter()
                    .map(|e| {
                        let key = e.key.clone();
                        view! {
                            <li data-testid="config-error-item" data-key=key>
                                <code>{e.key}</code>
                                " "
                                {e.message}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <button class="btn" data-testid="config-retry" on:click=move |_| on_retry.run(())>
                "Retry"
            </button>
        </div>
    }
}
