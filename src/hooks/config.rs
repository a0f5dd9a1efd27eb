use leptos::prelude::*;

use crate::core::config::RuntimeConfig;

/// Makes the resolved configuration available to every page below.
pub fn provide_runtime_config(config: RuntimeConfig) {
    provide_context(StoredValue::new(config));
}

/// The configuration provided by the app root. Panics only on a programming error (a page mounted
/// outside the app without a config), with a message that says so.
pub fn use_runtime_config() -> RuntimeConfig {
    use_context::<StoredValue<RuntimeConfig>>()
        .expect("[Config] use_runtime_config() called outside a component tree with a provided RuntimeConfig")
        .get_value()
}

/// The provided configuration, or `None` outside the app (a component mounted on its own).
pub fn try_use_runtime_config() -> Option<RuntimeConfig> {
    use_context::<StoredValue<RuntimeConfig>>().map(|c| c.get_value())
}
