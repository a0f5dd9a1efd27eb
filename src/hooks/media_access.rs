//! `use_media_access`: whether this page may ask for the microphone (voice ordering, staff calls),
//! decided by [`MediaAccess::decide`] from `window.isSecureContext` and the hub's `https_url`.

use crate::core::secure::MediaAccess;
use crate::hooks::config::try_use_runtime_config;
use crate::web::secure_context::{is_secure_context, page_url};

/// `secure_context` replaces `window.isSecureContext` when given (tests cannot make their page
/// insecure); `None` reads the browser's.
pub fn use_media_access(secure_context: Option<bool>) -> MediaAccess {
    let secure = secure_context.unwrap_or_else(is_secure_context);
    let https_url = try_use_runtime_config().and_then(|c| c.https_url);
    let access = MediaAccess::decide(secure, https_url.as_deref(), &page_url());
    if let Some(message) = access.message() {
        log::warn!("[MediaAccess] not a secure context: {message}");
    }
    access
}
