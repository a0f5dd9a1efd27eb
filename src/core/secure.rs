//! What a page may do given whether it runs in a secure context. Browsers offer the microphone
//! (`getUserMedia`) only to secure contexts — `https://`, or `http://` on the machine itself — so a
//! tablet that opened the hub over plain HTTP on the LAN can take touch orders and show the order
//! feed, but can neither talk to the voice assistant nor take part in a staff call. The page then
//! says where the secure address is, and never asks for the microphone.

/// The notice of an insecure page, before the address to open.
pub const NEEDS_HTTPS: &str = "Voice and calls need a secure connection — open";

/// Whether voice ordering and staff calls are available on this page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaAccess {
    Available,
    /// Not a secure context: `open` is the address to use instead.
    NeedsHttps {
        open: String,
    },
}

impl MediaAccess {
    /// Decides from `window.isSecureContext`, the hub's `https_url` (from `config.json`) and the
    /// page's own address (`location.href`). The address to open keeps the page's path and query,
    /// on the hub's HTTPS address when known, else on the page's host with `https:`.
    pub fn decide(is_secure_context: bool, https_url: Option<&str>, page_url: &str) -> MediaAccess {
        if is_secure_context {
            return MediaAccess::Available;
        }
        let (page_origin, rest) = split_origin(page_url);
        let open = match https_url {
            Some(base) => format!("{}{rest}", base.trim_end_matches('/')),
            None => match page_origin.split_once("://") {
                Some((_, authority)) => format!("https://{authority}{rest}"),
                None => format!("https://{page_url}"),
            },
        };
        MediaAccess::NeedsHttps { open }
    }

    /// Whether the page may ask for the microphone (voice ordering, placing or answering a call).
    pub fn allows_microphone(&self) -> bool {
        matches!(self, MediaAccess::Available)
    }

    /// `data-state` of the page's notice.
    pub fn as_str(&self) -> &'static str {
        match self {
            MediaAccess::Available => "available",
            MediaAccess::NeedsHttps { .. } => "needs_https",
        }
    }

    /// The notice for people, when something is unavailable.
    pub fn message(&self) -> Option<String> {
        match self {
            MediaAccess::Available => None,
            MediaAccess::NeedsHttps { open } => Some(format!("{NEEDS_HTTPS} {open}")),
        }
    }

    /// The secure address to open, when this page is not one.
    pub fn open_url(&self) -> Option<&str> {
        match self {
            MediaAccess::Available => None,
            MediaAccess::NeedsHttps { open } => Some(open),
        }
    }
}

/// `("http://host:port", "/path?query#frag")`.
fn split_origin(url: &str) -> (&str, &str) {
    let start = url.find("://").map_or(0, |i| i + 3);
    match url[start..].find(['/', '?', '#']) {
        Some(i) => url.split_at(start + i),
        None => (url, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secure_context_has_everything() {
        let access = MediaAccess::decide(true, None, "http://localhost:8080/kiosk");
        assert!(access.allows_microphone());
        assert_eq!(access.message(), None);
        assert_eq!(access.as_str(), "available");
    }

    #[test]
    fn an_insecure_page_points_at_the_hubs_https_address() {
        let access = MediaAccess::decide(false, Some("https://hub.local:8443/"), "http://192.168.1.20:8080/kiosk?x=1");
        assert!(!access.allows_microphone());
        assert_eq!(access.as_str(), "needs_https");
        assert_eq!(access.open_url(), Some("https://hub.local:8443/kiosk?x=1"));
        assert_eq!(
            access.message().unwrap(),
            "Voice and calls need a secure connection — open https://hub.local:8443/kiosk?x=1"
        );
    }

    #[test]
    fn without_an_https_address_the_page_url_gets_https() {
        let access = MediaAccess::decide(false, None, "http://192.168.1.20:8080/kds");
        assert_eq!(access.open_url(), Some("https://192.168.1.20:8080/kds"));
        let access = MediaAccess::decide(false, None, "http://tablet-hub");
        assert_eq!(access.open_url(), Some("https://tablet-hub"));
        let access = MediaAccess::decide(false, Some("https://hub"), "http://192.168.1.20:8080");
        assert_eq!(access.open_url(), Some("https://hub"));
    }
}
