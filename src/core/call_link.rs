//! The kiosk's call-only connection to the hub, as a sans-IO driver around the [`Link`].
//!
//! The kiosk has no order feed: it opens a socket only for a staff call (the first frame to send
//! connects), greets the hub as the restricted `kiosk` station with its device token, holds the call's frames until the
//! hub's `welcome`, then hands every `call.*` frame that arrives to the page. [`CallLink::close`]
//! ends the connection once the call is over; a greeted socket lost any other way is reported
//! ([`CallLinkCommand::Lost`]), since the hub ends the calls of a connection that goes away.

use std::collections::VecDeque;

use log::{info, warn};
use restaurant_protocol::{CallMessage, KIOSK_SERVER_FRAMES, ServerMessage};

use super::link::{AttemptId, Inbound, Link, LinkConfig, SocketCommand, SocketInput, greet_as_kiosk};
use super::time::Millis;

/// Frames held while the socket is not greeted yet; more are dropped (a call sends a handful).
pub const MAX_WAITING_FRAMES: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallLinkCommand {
    /// Open, send on or close the link's socket.
    Socket(SocketCommand),
    /// A call frame for the page's call.
    Call(CallMessage),
    /// The greeted socket went away on its own: the hub has ended its calls.
    Lost,
}

#[derive(Debug)]
pub struct CallLink {
    link: Link,
    greeted: Option<AttemptId>,
    waiting: Vec<CallMessage>,
    /// The kiosk's device token, sent in `hello` (empty: none, as a demo hub accepts).
    token: String,
    commands: VecDeque<CallLinkCommand>,
}

impl CallLink {
    /// `seed` drives the reconnect jitter.
    #[must_use]
    pub fn new(config: LinkConfig, seed: u64) -> CallLink {
        CallLink {
            link: Link::new(config, seed),
            greeted: None,
            waiting: Vec::new(),
            token: String::new(),
            commands: VecDeque::new(),
        }
    }

    /// The device token the next `hello` carries (`None`: an unpaired or demo kiosk).
    pub fn set_token(&mut self, token: Option<String>) {
        self.token = token.unwrap_or_default();
    }

    /// Sends `message`, connecting first if needed (it waits for the hub's `welcome`).
    pub fn send(&mut self, now: Millis, message: CallMessage) {
        if self.greeted.is_some() && self.link.send(&message) {
            self.pump();
            return;
        }
        if self.waiting.len() >= MAX_WAITING_FRAMES {
            warn!("[CallLink] dropped {}: {MAX_WAITING_FRAMES} frames already wait for the hub", message.kind());
            return;
        }
        self.waiting.push(message);
        self.link.connect(now);
        self.pump();
    }

    /// Closes the connection (the call is over); frames still waiting for the hub are dropped.
    pub fn close(&mut self) {
        if !self.waiting.is_empty() {
            info!("[CallLink] closing with {} frames the hub never saw", self.waiting.len());
        }
        self.waiting.clear();
        self.greeted = None;
        self.link.disconnect();
        self.pump();
    }

    pub fn is_connected(&self) -> bool {
        self.link.socket_attempt().is_some()
    }

    pub fn handle_timeout(&mut self, now: Millis) {
        self.link.handle_timeout(now);
        self.pump();
    }

    #[must_use = "the command must be carried out"]
    pub fn poll_command(&mut self) -> Option<CallLinkCommand> {
        self.commands.pop_front()
    }

    #[must_use]
    pub fn poll_timeout(&self) -> Option<Millis> {
        self.link.poll_timeout()
    }

    fn pump(&mut self) {
        if self.greeted.is_some() && self.greeted != self.link.socket_attempt() {
            warn!("[CallLink] the connection to the hub was lost");
            self.greeted = None;
            self.commands.push_back(CallLinkCommand::Lost);
        }
        while let Some(command) = self.link.poll_command() {
            self.commands.push_back(CallLinkCommand::Socket(command));
        }
    }
}

impl SocketInput for CallLink {
    fn link_mut(&mut self) -> &mut Link {
        &mut self.link
    }

    fn after_input(&mut self) {
        self.pump();
    }

    fn handle_socket_opened(&mut self, now: Millis, attempt: AttemptId) {
        greet_as_kiosk(&mut self.link, now, attempt, &self.token);
        self.pump();
    }

    fn handle_frame(&mut self, now: Millis, attempt: AttemptId, text: &str) {
        match self.link.handle_frame_of::<KIOSK_SERVER_FRAMES>(now, attempt, text) {
            Some(Inbound::Server(ServerMessage::Welcome { .. } | ServerMessage::Resync { .. })) => {
                info!("[CallLink] the hub greeted the kiosk");
                self.greeted = Some(attempt);
                for message in std::mem::take(&mut self.waiting) {
                    self.link.send(&message);
                }
            }
            Some(Inbound::Server(ServerMessage::Error { code, message, .. })) => {
                warn!("[CallLink] the hub refused a frame ({code:?}): {message}");
            }
            Some(Inbound::Server(other)) => {
                warn!("[CallLink] unexpected frame for a kiosk: {other:?}")
            }
            Some(Inbound::Call(message)) if self.greeted == Some(attempt) => {
                self.commands.push_back(CallLinkCommand::Call(message))
            }
            Some(Inbound::Call(message)) => {
                warn!("[CallLink] dropped {} before the welcome", message.kind())
            }
            None => {}
        }
        self.pump();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::test_support::{drain, picked};

    fn sent(commands: &[CallLinkCommand]) -> Vec<String> {
        picked!(commands, CallLinkCommand::Socket(SocketCommand::Send { text, .. }) => text.clone())
    }

    fn hangup(id: &str) -> CallMessage {
        CallMessage::Hangup { call_id: id.into() }
    }

    /// Connects by sending `first`, opens the socket and delivers the welcome.
    fn greeted(first: CallMessage) -> (CallLink, AttemptId, Vec<CallLinkCommand>) {
        let mut link = CallLink::new(LinkConfig::default(), 1);
        link.send(Millis(0), first);
        let attempt = match drain(|| link.poll_command()).as_slice() {
            [CallLinkCommand::Socket(SocketCommand::Open { attempt })] => *attempt,
            other => panic!("expected one open, got {other:?}"),
        };
        link.handle_socket_opened(Millis(1), attempt);
        link.handle_frame(Millis(2), attempt, r#"{"type":"welcome","seq":0}"#);
        let commands = drain(|| link.poll_command());
        (link, attempt, commands)
    }

    #[test]
    fn the_first_frame_connects_as_the_kiosk_and_waits_for_the_welcome() {
        let (_, _, commands) =
            greeted(CallMessage::Request { call_id: "c1".into(), from: "k1".into(), to_station: None });
        assert_eq!(
            sent(&commands),
            vec![
                r#"{"type":"hello","token":"","station":"kiosk","since":null}"#.to_string(),
                r#"{"type":"call.request","call_id":"c1","from":"k1"}"#.to_string(),
            ]
        );
    }

    #[test]
    fn the_hello_carries_the_device_token() {
        let mut link = CallLink::new(LinkConfig::default(), 1);
        link.set_token(Some("dev-token".into()));
        link.send(Millis(0), hangup("c1"));
        let attempt = match drain(|| link.poll_command()).as_slice() {
            [CallLinkCommand::Socket(SocketCommand::Open { attempt })] => *attempt,
            other => panic!("expected one open, got {other:?}"),
        };
        link.handle_socket_opened(Millis(1), attempt);
        assert_eq!(
            sent(&drain(|| link.poll_command())),
            vec![r#"{"type":"hello","token":"dev-token","station":"kiosk","since":null}"#.to_string()]
        );
    }

    #[test]
    fn call_frames_reach_the_page_and_pings_are_answered() {
        let (mut link, attempt, _) = greeted(hangup("c1"));
        link.handle_frame(Millis(3), attempt, r#"{"type":"ping","ts":7}"#);
        link.handle_frame(Millis(4), attempt, r#"{"type":"call.accept","call_id":"c1","from":"kds-1"}"#);
        link.handle_frame(Millis(5), attempt, r#"{"type":"order.created","seq":1}"#);
        let commands = drain(|| link.poll_command());
        assert_eq!(sent(&commands), vec![r#"{"type":"pong","ts":7}"#.to_string()]);
        assert!(
            commands
                .contains(&CallLinkCommand::Call(CallMessage::Accept { call_id: "c1".into(), from: "kds-1".into() }))
        );
        link.send(Millis(6), hangup("c1"));
        assert_eq!(sent(&drain(|| link.poll_command())), vec![r#"{"type":"call.hangup","call_id":"c1"}"#.to_string()]);
    }

    #[test]
    fn close_ends_the_connection_without_reporting_a_loss() {
        let (mut link, attempt, _) = greeted(hangup("c1"));
        link.close();
        let commands = drain(|| link.poll_command());
        assert!(
            commands
                .iter()
                .any(|c| matches!(c, CallLinkCommand::Socket(SocketCommand::Close { attempt: a, code: 1000, .. }) if *a == attempt))
        );
        assert!(!commands.contains(&CallLinkCommand::Lost));
        link.handle_socket_closed(Millis(10), attempt, 1000);
        assert!(drain(|| link.poll_command()).is_empty());
        assert!(!link.is_connected());
        assert_eq!(link.poll_timeout(), None, "nothing reconnects after a close");
    }

    #[test]
    fn losing_the_greeted_socket_is_reported_once() {
        let (mut link, attempt, _) = greeted(hangup("c1"));
        link.handle_socket_closed(Millis(10), attempt, 1006);
        let commands = drain(|| link.poll_command());
        assert_eq!(commands.iter().filter(|c| **c == CallLinkCommand::Lost).count(), 1);
        link.handle_timeout(Millis(20_000));
        assert!(!drain(|| link.poll_command()).contains(&CallLinkCommand::Lost));
    }

    #[test]
    fn frames_before_the_welcome_are_held_and_closing_drops_them() {
        let mut link = CallLink::new(LinkConfig::default(), 1);
        link.send(Millis(0), hangup("c1"));
        link.send(Millis(1), hangup("c2"));
        let opens = drain(|| link.poll_command())
            .iter()
            .filter(|c| matches!(c, CallLinkCommand::Socket(SocketCommand::Open { .. })))
            .count();
        assert_eq!(opens, 1, "one socket for every waiting frame");
        link.close();
        assert!(sent(&drain(|| link.poll_command())).is_empty());
    }
}
