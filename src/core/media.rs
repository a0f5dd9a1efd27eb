//! What to tell a person when the microphone cannot be opened, from the `DOMException` name.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MicError {
    /// `NotAllowedError` / `SecurityError`: permission denied (by the person or by policy).
    Blocked,
    /// `NotFoundError` / `OverconstrainedError`: no usable input device.
    NotFound,
    /// `NotReadableError`: another application holds the device.
    Busy,
    Other {
        name: String,
        message: String,
    },
}

impl MicError {
    pub fn from_dom_exception(name: &str, message: &str) -> MicError {
        match name {
            "NotAllowedError" | "SecurityError" | "PermissionDeniedError" => MicError::Blocked,
            "NotFoundError" | "OverconstrainedError" | "DevicesNotFoundError" => MicError::NotFound,
            "NotReadableError" | "TrackStartError" => MicError::Busy,
            _ => MicError::Other { name: name.to_string(), message: message.to_string() },
        }
    }

    /// Short headline for the error banner.
    pub fn title(&self) -> String {
        match self {
            MicError::Blocked => "Microphone blocked".into(),
            MicError::NotFound => "No microphone found".into(),
            MicError::Busy => "Microphone in use".into(),
            MicError::Other { name, .. } => format!("Microphone error ({name})"),
        }
    }

    /// What to do about it.
    pub fn help(&self) -> String {
        match self {
            MicError::Blocked => "Allow microphone access for this page (the icon in the address bar, or the \
                                 browser's site settings), then tap Try again. You can still order by touch."
                .into(),
            MicError::NotFound => "Connect a microphone, then tap Try again. You can still order by touch.".into(),
            MicError::Busy => "Close other applications using the microphone, then tap Try again.".into(),
            MicError::Other { message, .. } => format!("{message} — you can still order by touch."),
        }
    }

    /// Permission problems must never be retried without the person acting.
    pub fn retry_automatically(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_allowed_is_blocked_with_how_to_allow() {
        let e = MicError::from_dom_exception("NotAllowedError", "Permission denied");
        assert_eq!(e, MicError::Blocked);
        assert_eq!(e.title(), "Microphone blocked");
        assert!(e.help().contains("Allow microphone access"));
        assert!(!e.retry_automatically());
    }

    #[test]
    fn not_found_says_so() {
        assert_eq!(MicError::from_dom_exception("NotFoundError", "").title(), "No microphone found");
    }

    #[test]
    fn other_errors_keep_name_and_message() {
        let e = MicError::from_dom_exception("AbortError", "device reset");
        assert_eq!(e.title(), "Microphone error (AbortError)");
        assert!(e.help().starts_with("device reset"));
    }
}
