//! `RTCPeerConnection.connectionState` as a type, so the voice and call drivers match on it.

/// The states of `RTCPeerConnection.connectionState`, plus `None` before any connection exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PeerConnectionState {
    #[default]
    None,
    New,
    Connecting,
    Connected,
    /// May recover by itself (ICE restarts); a grace period applies before giving up.
    Disconnected,
    Failed,
    Closed,
}

impl PeerConnectionState {
    /// The browser's value; anything unknown (a future state) reads as `New`, logged.
    pub fn parse(value: &str) -> PeerConnectionState {
        match value {
            "new" => PeerConnectionState::New,
            "connecting" => PeerConnectionState::Connecting,
            "connected" => PeerConnectionState::Connected,
            "disconnected" => PeerConnectionState::Disconnected,
            "failed" => PeerConnectionState::Failed,
            "closed" => PeerConnectionState::Closed,
            other => {
                log::warn!("[Peer] unknown connectionState {other:?}");
                PeerConnectionState::New
            }
        }
    }

    /// The browser's spelling (`none` before a connection exists).
    pub fn as_str(self) -> &'static str {
        match self {
            PeerConnectionState::None => "none",
            PeerConnectionState::New => "new",
            PeerConnectionState::Connecting => "connecting",
            PeerConnectionState::Connected => "connected",
            PeerConnectionState::Disconnected => "disconnected",
            PeerConnectionState::Failed => "failed",
            PeerConnectionState::Closed => "closed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PeerConnectionState as S;

    #[test]
    fn parses_every_browser_state_and_spells_it_back() {
        for s in [S::New, S::Connecting, S::Connected, S::Disconnected, S::Failed, S::Closed] {
            assert_eq!(S::parse(s.as_str()), s);
        }
        assert_eq!(S::None.as_str(), "none");
        assert_eq!(S::parse("reticulating"), S::New);
    }
}
