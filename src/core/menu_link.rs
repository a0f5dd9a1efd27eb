//! The kiosk's live menu: a connection to the hub that stays up while the kiosk shows its menu,
//! greets the hub as the `kiosk` station and hands each new sold-out list (`menu.updated`) to the
//! page. The hub sends the current list after every `welcome`, so a kiosk that was offline is
//! right again as soon as it reconnects (the [`Link`] reconnects with backoff).

use std::collections::VecDeque;

use log::{info, warn};
use restaurant_protocol::{KIOSK_SERVER_FRAMES, ServerMessage, SoldOut};

use super::link::{AttemptId, Inbound, Link, LinkConfig, LinkState, SocketCommand, SocketInput, greet_as_kiosk};
use super::time::Millis;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MenuLinkCommand {
    /// Open, send on or close the socket.
    Socket(SocketCommand),
    /// What is sold out now (sent only when it differs from the last one given).
    SoldOut(SoldOut),
}

#[derive(Debug)]
pub struct MenuLink {
    link: Link,
    /// The kiosk's device token, sent in `hello` (empty: none, as a demo hub accepts).
    token: String,
    /// The seq of the newest list taken.
    last_seq: Option<u64>,
    last: Option<SoldOut>,
    commands: VecDeque<MenuLinkCommand>,
}

impl MenuLink {
    /// `seed` drives the reconnect jitter.
    #[must_use]
    pub fn new(config: LinkConfig, seed: u64) -> MenuLink {
        MenuLink {
            link: Link::new(config, seed),
            token: String::new(),
            last_seq: None,
            last: None,
            commands: VecDeque::new(),
        }
    }

    /// Connects (again, if the token changed: a kiosk just paired, or unpaired).
    pub fn set_token(&mut self, now: Millis, token: Option<String>) {
        let token = token.unwrap_or_default();
        if token == self.token && self.link.state() != LinkState::Idle {
            return;
        }
        self.token = token;
        self.link.disconnect();
        self.link.connect(now);
        self.pump();
    }

    pub fn state(&self) -> LinkState {
        self.link.state()
    }

    pub fn handle_timeout(&mut self, now: Millis) {
        self.link.handle_timeout(now);
        self.pump();
    }

    #[must_use = "the command must be carried out"]
    pub fn poll_command(&mut self) -> Option<MenuLinkCommand> {
        self.commands.pop_front()
    }

    #[must_use]
    pub fn poll_timeout(&self) -> Option<Millis> {
        self.link.poll_timeout()
    }

    fn pump(&mut self) {
        while let Some(command) = self.link.poll_command() {
            self.commands.push_back(MenuLinkCommand::Socket(command));
        }
    }
}

impl SocketInput for MenuLink {
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
            Some(Inbound::Server(ServerMessage::Welcome { .. })) => info!("[MenuLink] the hub greeted the kiosk"),
            Some(Inbound::Server(ServerMessage::MenuUpdated { seq, sold_out })) => {
                // A hub whose data was reset counts from 0 again: a lower seq after a reconnect
                // is still the hub's current list.
                if self.last_seq.is_some_and(|last| seq < last) {
                    info!("[MenuLink] menu list seq {seq} after {:?}: the hub restarted its count", self.last_seq);
                }
                self.last_seq = Some(seq);
                if self.last.as_ref() != Some(&sold_out) {
                    info!(
                        "[MenuLink] sold out now: {} items, {} options",
                        sold_out.items.len(),
                        sold_out.options.len()
                    );
                    self.last = Some(sold_out.clone());
                    self.commands.push_back(MenuLinkCommand::SoldOut(sold_out));
                }
            }
            Some(Inbound::Server(ServerMessage::Error { code, message, .. })) => {
                warn!("[MenuLink] the hub refused a frame ({code:?}): {message}");
            }
            Some(other) => warn!("[MenuLink] unexpected frame for the kiosk's menu: {other:?}"),
            None => {}
        }
        self.pump();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::test_support::{self, drain, picked};

    fn open(link: &mut MenuLink) -> AttemptId {
        let commands = drain(|| link.poll_command());
        let opens = picked!(&commands, MenuLinkCommand::Socket(SocketCommand::Open { attempt }) => *attempt);
        *opens.last().expect("an open")
    }

    fn lists(commands: &[MenuLinkCommand]) -> Vec<SoldOut> {
        picked!(commands, MenuLinkCommand::SoldOut(s) => s.clone())
    }

    /// A link with no token, its socket open and its greeting taken.
    fn opened() -> (MenuLink, AttemptId) {
        let mut link = MenuLink::new(LinkConfig::default(), 1);
        link.set_token(Millis(0), None);
        let attempt = open(&mut link);
        link.handle_socket_opened(Millis(1), attempt);
        drain(|| link.poll_command());
        (link, attempt)
    }

    fn updated(seq: u64, items: &[&str]) -> String {
        let message = ServerMessage::MenuUpdated {
            seq,
            sold_out: SoldOut { items: items.iter().map(|s| s.to_string()).collect(), options: vec![] },
        };
        serde_json::to_string(&message).unwrap()
    }

    #[test]
    fn it_greets_as_the_kiosk_with_its_token_and_passes_on_each_new_list() {
        let mut link = MenuLink::new(LinkConfig::default(), 1);
        link.set_token(Millis(0), Some("dev".into()));
        let attempt = open(&mut link);
        link.handle_socket_opened(Millis(1), attempt);
        let sent = picked!(&drain(|| link.poll_command()), MenuLinkCommand::Socket(SocketCommand::Send { text, .. }) => text.clone());
        assert_eq!(sent, [r#"{"type":"hello","token":"dev","station":"kiosk","since":null}"#]);
        link.handle_frame(Millis(2), attempt, r#"{"type":"welcome","seq":4}"#);
        link.handle_frame(Millis(3), attempt, &updated(4, &[]));
        link.handle_frame(Millis(4), attempt, &updated(5, &["cola"]));
        link.handle_frame(Millis(5), attempt, &updated(5, &["cola"]));
        let got = lists(&drain(|| link.poll_command()));
        assert_eq!(got.len(), 2, "the same list twice is given once: {got:?}");
        assert_eq!(got[1].items, ["cola"]);
    }

    #[test]
    fn an_order_event_is_not_for_a_kiosk_and_is_dropped_with_the_link_up() {
        let (mut link, attempt) = opened();
        let order = test_support::order("o1", 1, 0, vec![test_support::item("Burger", "grill", 1)]);
        let created = serde_json::to_string(&ServerMessage::OrderCreated { seq: 1, order }).unwrap();
        assert!(ServerMessage::parse(&created).is_ok(), "a frame a staff screen would read");
        link.handle_frame(Millis(2), attempt, &created);
        assert!(drain(|| link.poll_command()).is_empty());
        assert_eq!(link.state(), LinkState::Open);
        link.handle_frame(Millis(3), attempt, &updated(2, &["cola"]));
        assert_eq!(lists(&drain(|| link.poll_command()))[0].items, ["cola"]);
    }

    #[test]
    fn a_lost_connection_comes_back_and_takes_the_current_list() {
        let (mut link, attempt) = opened();
        link.handle_frame(Millis(2), attempt, &updated(1, &["cola"]));
        link.handle_socket_closed(Millis(3), attempt, 1006);
        assert_eq!(link.state(), LinkState::Backoff);
        let due = link.poll_timeout().expect("a reconnect is scheduled");
        link.handle_timeout(due);
        let again = open(&mut link);
        assert_ne!(again, attempt);
        link.handle_socket_opened(due, again);
        // Cola came back while the kiosk was away.
        link.handle_frame(due, again, &updated(2, &[]));
        let got = lists(&drain(|| link.poll_command()));
        assert_eq!(got, [SoldOut::default()]);
    }

    #[test]
    fn a_new_token_reconnects_and_an_unchanged_one_does_not() {
        let (mut link, first) = opened();
        link.set_token(Millis(2), None);
        assert!(drain(|| link.poll_command()).is_empty());
        link.set_token(Millis(3), Some("paired".into()));
        let commands = drain(|| link.poll_command());
        assert!(
            commands.iter().any(
                |c| matches!(c, MenuLinkCommand::Socket(SocketCommand::Close { attempt, .. }) if *attempt == first)
            )
        );
        assert!(commands.iter().any(|c| matches!(c, MenuLinkCommand::Socket(SocketCommand::Open { .. }))));
    }

    #[test]
    fn garbage_and_order_frames_change_nothing() {
        let mut link = MenuLink::new(LinkConfig::default(), 1);
        link.set_token(Millis(0), None);
        let attempt = open(&mut link);
        link.handle_socket_opened(Millis(1), attempt);
        for frame in ["{", r#"{"type":"menu.updated","seq":"x"}"#, r#"{"type":"order.deleted","seq":3,"order_id":"o"}"#]
        {
            link.handle_frame(Millis(2), attempt, frame);
        }
        assert!(lists(&drain(|| link.poll_command())).is_empty());
        assert_eq!(link.state(), LinkState::Open);
    }
}
