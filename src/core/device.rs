//! Kiosk pairing: a kiosk is known to the hub by a device token, issued once a manager has entered
//! the PIN on it (`POST /api/v1/devices/pair`). The token goes with every order, every voice token
//! request and the kiosk's call connection; a hub that no longer knows it answers
//! `401 {"error":{"code":"device_unpaired"}}`, and the kiosk asks for the PIN again. Demo hubs
//! accept kiosks without a token. Pure: the hook performs the POST and keeps the stored JSON.

use std::collections::VecDeque;
use std::time::Duration;

use restaurant_protocol::ApiError;

use super::config::Mode;
use super::time::Millis;

/// The error code of a request whose device token is missing, unknown or revoked.
pub const DEVICE_UNPAIRED: &str = "device_unpaired";
/// The name a kiosk offers when the manager leaves the field as it is.
pub const DEFAULT_DEVICE_NAME: &str = "Kiosk";
const MAX_NAME_CHARS: usize = 64;
const MAX_PIN_CHARS: usize = 64;
/// The longest wait a `Retry-After` can impose before the form opens again.
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);

/// The pairing request and answer are the hub's wire types.
pub use restaurant_protocol::{DeviceInfo, PairRequest, PairResponse};

/// Whether the hub answered that the request's device is not (or no longer) paired.
pub fn is_device_unpaired(status: u16, body: &str) -> bool {
    status == 401 && serde_json::from_str::<ApiError>(body).is_ok_and(|e| e.error.code == DEVICE_UNPAIRED)
}

/// Where the kiosk stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairingState {
    /// A demo hub: no token needed (until the hub says otherwise).
    Demo,
    Paired,
    /// The pairing screen shows.
    Unpaired,
    /// A pairing request is on its way.
    Pairing,
}

impl PairingState {
    pub fn as_str(self) -> &'static str {
        match self {
            PairingState::Demo => "demo",
            PairingState::Paired => "paired",
            PairingState::Unpaired => "unpaired",
            PairingState::Pairing => "pairing",
        }
    }

    /// The kiosk shows its pairing screen instead of the ordering screen.
    pub fn needs_pairing(self) -> bool {
        matches!(self, PairingState::Unpaired | PairingState::Pairing)
    }
}

/// Why pairing did not work, worded for the manager at the kiosk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PairError {
    /// A field is empty or too long; nothing was sent.
    Invalid(String),
    WrongPin,
    /// The hub limits attempts: the form opens again after `wait`.
    TooManyAttempts {
        wait: Duration,
    },
    /// The hub refused for another reason (its message).
    Refused(String),
    Unreachable(String),
}

impl PairError {
    pub fn as_str(&self) -> &'static str {
        match self {
            PairError::Invalid(_) => "invalid",
            PairError::WrongPin => "wrong_pin",
            PairError::TooManyAttempts { .. } => "too_many_attempts",
            PairError::Refused(_) => "refused",
            PairError::Unreachable(_) => "unreachable",
        }
    }

    pub fn message(&self) -> String {
        match self {
            PairError::Invalid(m) => m.clone(),
            PairError::WrongPin => "Wrong PIN — ask a manager to enter the manager PIN".into(),
            PairError::TooManyAttempts { wait } => {
                format!("Too many attempts — wait {} s before trying again", wait.as_secs().max(1))
            }
            PairError::Refused(m) => format!("The hub refused to pair this kiosk: {m}"),
            PairError::Unreachable(m) => format!("Cannot reach the hub ({m}) — check the network and try again"),
        }
    }
}

/// What the pairing screen shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairingView {
    pub state: PairingState,
    pub error: Option<PairError>,
    /// Until this instant the Pair button waits (the hub asked for a pause).
    pub blocked_until: Option<Millis>,
    /// The name of this kiosk on the hub, once paired.
    pub device_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PairingCommand {
    /// `POST /api/v1/devices/pair` with this JSON body.
    Post {
        body: String,
    },
    /// Store this JSON (a [`PairResponse`]), or remove the stored value on `None`.
    Persist(Option<String>),
    Ui(PairingView),
}

#[derive(Debug)]
pub struct Pairing {
    mode: Mode,
    paired: Option<PairResponse>,
    /// Set when the hub refused this kiosk (or a production kiosk has no token).
    unpaired: bool,
    in_flight: bool,
    error: Option<PairError>,
    blocked_until: Option<Millis>,
    commands: VecDeque<PairingCommand>,
}

impl Pairing {
    /// `stored` is what an earlier pairing persisted (unreadable → discarded, with a log).
    #[must_use]
    pub fn new(mode: Mode, stored: Option<&str>) -> Pairing {
        let mut commands = VecDeque::new();
        let paired = stored.and_then(|text| match serde_json::from_str::<PairResponse>(text) {
            Ok(p) if !p.token.is_empty() => Some(p),
            Ok(_) | Err(_) => {
                log::error!("[Pairing] discarding an unreadable stored device token");
                commands.push_back(PairingCommand::Persist(None));
                None
            }
        });
        let unpaired = paired.is_none() && !mode.is_demo();
        if unpaired {
            log::info!("[Pairing] this kiosk has no device token; a manager must pair it");
        }
        Pairing { mode, paired, unpaired, in_flight: false, error: None, blocked_until: None, commands }
    }

    /// The token to send as `Authorization: Bearer …` (none on an unpaired or demo kiosk).
    pub fn token(&self) -> Option<&str> {
        self.paired.as_ref().map(|p| p.token.as_str())
    }

    pub fn state(&self) -> PairingState {
        match (self.unpaired, self.in_flight, &self.paired) {
            (true, true, _) => PairingState::Pairing,
            (true, false, _) => PairingState::Unpaired,
            (false, _, Some(_)) => PairingState::Paired,
            (false, _, None) => PairingState::Demo,
        }
    }

    pub fn view(&self) -> PairingView {
        PairingView {
            state: self.state(),
            error: self.error.clone(),
            blocked_until: self.blocked_until,
            device_name: self.paired.as_ref().map(|p| p.device.name.clone()),
        }
    }

    #[must_use = "the command must be carried out"]
    pub fn poll_command(&mut self) -> Option<PairingCommand> {
        self.commands.pop_front()
    }

    #[must_use]
    pub fn poll_timeout(&self) -> Option<Millis> {
        self.blocked_until
    }

    /// The hub answered `device_unpaired` to a request that carried `sent_token`. An answer to a
    /// request sent with an older token (or none, before a pairing that has since completed)
    /// changes nothing.
    pub fn handle_unpaired(&mut self, sent_token: Option<&str>) {
        if sent_token != self.token() {
            log::info!("[Pairing] a request sent with an earlier device token was refused; the current one stands");
            return;
        }
        if self.unpaired {
            return;
        }
        log::warn!("[Pairing] the hub does not know this kiosk (device_unpaired); asking for the manager PIN");
        if self.paired.take().is_some() {
            self.commands.push_back(PairingCommand::Persist(None));
        }
        self.unpaired = true;
        self.error = None;
        self.ui();
    }

    /// The manager entered `pin` and `name` and pressed Pair. Single-flight: a second press while
    /// one is on its way does nothing.
    pub fn pair(&mut self, now: Millis, pin: &str, name: &str) -> Result<(), PairError> {
        if self.in_flight {
            return Ok(());
        }
        if let Some(until) = self.blocked_until.filter(|&until| now < until) {
            let error = PairError::TooManyAttempts { wait: until.since(now) };
            return Err(self.fail(error));
        }
        let (pin, name) = (pin.trim(), name.trim());
        let invalid = if pin.is_empty() {
            Some("Enter the manager PIN".to_string())
        } else if pin.chars().count() > MAX_PIN_CHARS {
            Some(format!("The PIN is longer than {MAX_PIN_CHARS} characters"))
        } else if name.is_empty() {
            Some("Give this kiosk a name".to_string())
        } else if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
            Some(format!("The name must be at most {MAX_NAME_CHARS} characters on one line"))
        } else {
            None
        };
        if let Some(message) = invalid {
            return Err(self.fail(PairError::Invalid(message)));
        }
        let body = serde_json::to_string(&PairRequest { pin: pin.to_string(), name: name.to_string() })
            .expect("a pair request serializes");
        self.in_flight = true;
        self.error = None;
        self.commands.push_back(PairingCommand::Post { body });
        self.ui();
        Ok(())
    }

    /// The hub answered the pairing request.
    pub fn handle_response(&mut self, now: Millis, status: u16, body: &str, retry_after: Option<Duration>) {
        if !std::mem::take(&mut self.in_flight) {
            return;
        }
        let error = match status {
            200 | 201 => match serde_json::from_str::<PairResponse>(body) {
                Ok(paired) if !paired.token.is_empty() => {
                    log::info!("[Pairing] paired as {:?} ({})", paired.device.name, paired.device.id);
                    let json = serde_json::to_string(&paired).expect("a device serializes");
                    self.commands.push_back(PairingCommand::Persist(Some(json)));
                    self.paired = Some(paired);
                    self.unpaired = false;
                    self.error = None;
                    self.blocked_until = None;
                    self.ui();
                    return;
                }
                Ok(_) => PairError::Refused("the hub answered without a token".into()),
                Err(e) => PairError::Refused(format!("unreadable answer ({e})")),
            },
            401 => PairError::WrongPin,
            429 => {
                let wait = retry_after.unwrap_or(Duration::from_secs(60)).min(MAX_WAIT);
                self.blocked_until = Some(now + wait);
                PairError::TooManyAttempts { wait }
            }
            _ => PairError::Refused(
                serde_json::from_str::<ApiError>(body)
                    .map(|e| e.error.message)
                    .unwrap_or_else(|_| format!("HTTP {status}")),
            ),
        };
        log::warn!("[Pairing] pairing failed: HTTP {status}: {}", error.message());
        self.fail(error);
    }

    /// The pairing request produced no answer.
    pub fn handle_network_error(&mut self, reason: &str) {
        if std::mem::take(&mut self.in_flight) {
            log::error!("[Pairing] pairing request failed: {reason}");
            self.fail(PairError::Unreachable(reason.to_string()));
        }
    }

    /// The wait the hub asked for is over: the form opens again (the message stays until the next
    /// attempt, so it is never lost).
    pub fn handle_timeout(&mut self, now: Millis) {
        if self.blocked_until.is_some_and(|until| now >= until) {
            self.blocked_until = None;
            self.ui();
        }
    }

    fn fail(&mut self, error: PairError) -> PairError {
        self.error = Some(error.clone());
        self.ui();
        error
    }

    fn ui(&mut self) {
        let view = self.view();
        self.commands.push_back(PairingCommand::Ui(view));
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::test_support::{drain, picked};

    const PAIRED: &str = r#"{"device":{"id":"dev_1","name":"Kiosk 1","paired_at":1700000000000},"token":"t-1"}"#;

    fn posts(cmds: &[PairingCommand]) -> Vec<serde_json::Value> {
        picked!(cmds, PairingCommand::Post { body } => serde_json::from_str(body).unwrap())
    }

    fn persisted(cmds: &[PairingCommand]) -> Vec<Option<String>> {
        picked!(cmds, PairingCommand::Persist(p) => p.clone())
    }

    #[test]
    fn a_production_kiosk_without_a_token_must_be_paired_and_a_demo_one_need_not() {
        let p = Pairing::new(Mode::Production, None);
        assert_eq!(p.state(), PairingState::Unpaired);
        assert!(p.state().needs_pairing());
        assert_eq!(p.token(), None);
        let d = Pairing::new(Mode::Demo, None);
        assert_eq!(d.state(), PairingState::Demo);
        assert!(!d.state().needs_pairing());
        let stored = Pairing::new(Mode::Production, Some(PAIRED));
        assert_eq!((stored.state(), stored.token()), (PairingState::Paired, Some("t-1")));
        assert_eq!(stored.view().device_name.as_deref(), Some("Kiosk 1"));
    }

    #[test]
    fn an_unreadable_stored_token_is_discarded() {
        let mut p = Pairing::new(Mode::Production, Some("{nope"));
        assert_eq!(p.state(), PairingState::Unpaired);
        assert_eq!(persisted(&drain(|| p.poll_command())), [None]);
    }

    #[test]
    fn pairing_posts_pin_and_name_then_stores_the_token() {
        let mut p = Pairing::new(Mode::Production, None);
        p.pair(Millis(0), " 1234 ", " Kiosk 1 ").unwrap();
        let cmds = drain(|| p.poll_command());
        assert_eq!(posts(&cmds), [serde_json::json!({"pin": "1234", "name": "Kiosk 1"})]);
        assert_eq!(p.state(), PairingState::Pairing);
        p.pair(Millis(1), "1234", "Kiosk 1").unwrap();
        assert!(posts(&drain(|| p.poll_command())).is_empty(), "single flight");

        p.handle_response(Millis(10), 201, PAIRED, None);
        let cmds = drain(|| p.poll_command());
        let stored = persisted(&cmds);
        assert_eq!(stored.len(), 1);
        assert_eq!(serde_json::from_str::<PairResponse>(stored[0].as_ref().unwrap()).unwrap().token, "t-1");
        assert_eq!((p.state(), p.token()), (PairingState::Paired, Some("t-1")));
        assert!(matches!(cmds.last(), Some(PairingCommand::Ui(v)) if v.state == PairingState::Paired));
    }

    #[test]
    fn a_wrong_pin_is_shown_and_the_form_stays() {
        let mut p = Pairing::new(Mode::Production, None);
        p.pair(Millis(0), "9999", "Kiosk").unwrap();
        p.handle_response(Millis(5), 401, r#"{"error":{"code":"wrong_pin","message":"wrong PIN"}}"#, None);
        assert_eq!(p.state(), PairingState::Unpaired);
        assert_eq!(p.view().error, Some(PairError::WrongPin));
        assert!(p.view().error.unwrap().message().contains("Wrong PIN"));
        p.pair(Millis(6), "1234", "Kiosk").unwrap();
        assert_eq!(posts(&drain(|| p.poll_command())).len(), 2, "the manager may try again at once");
    }

    #[test]
    fn too_many_attempts_waits_as_long_as_the_hub_says() {
        let mut p = Pairing::new(Mode::Production, None);
        p.pair(Millis(0), "1", "Kiosk").unwrap();
        drain(|| p.poll_command());
        p.handle_response(Millis(100), 429, "", Some(Duration::from_secs(30)));
        assert_eq!(p.view().error, Some(PairError::TooManyAttempts { wait: Duration::from_secs(30) }));
        assert!(p.view().error.unwrap().message().contains("30 s"));
        assert_eq!(p.poll_timeout(), Some(Millis(30_100)));
        assert_eq!(
            p.pair(Millis(10_100), "1234", "Kiosk"),
            Err(PairError::TooManyAttempts { wait: Duration::from_secs(20) })
        );
        assert!(posts(&drain(|| p.poll_command())).is_empty(), "nothing sent while the hub asks to wait");
        p.handle_timeout(Millis(30_100));
        assert_eq!(p.poll_timeout(), None);
        assert!(p.view().error.is_some(), "the message stays until the next attempt");
        p.pair(Millis(30_200), "1234", "Kiosk").unwrap();
        assert_eq!(posts(&drain(|| p.poll_command())).len(), 1);
        assert_eq!(p.view().error, None);
    }

    #[test]
    fn empty_fields_are_refused_without_a_request() {
        let mut p = Pairing::new(Mode::Production, None);
        assert!(matches!(p.pair(Millis(0), "  ", "Kiosk"), Err(PairError::Invalid(_))));
        assert!(matches!(p.pair(Millis(0), "1234", " "), Err(PairError::Invalid(_))));
        assert!(matches!(p.pair(Millis(0), "1234", &"x".repeat(65)), Err(PairError::Invalid(_))));
        assert!(posts(&drain(|| p.poll_command())).is_empty());
        assert!(matches!(p.view().error, Some(PairError::Invalid(_))));
    }

    #[test]
    fn network_failures_and_other_refusals_are_shown() {
        let mut p = Pairing::new(Mode::Production, None);
        p.pair(Millis(0), "1234", "Kiosk").unwrap();
        p.handle_network_error("offline");
        assert_eq!(p.view().error, Some(PairError::Unreachable("offline".into())));
        p.pair(Millis(1), "1234", "Kiosk").unwrap();
        p.handle_response(Millis(2), 403, r#"{"error":{"code":"origin_refused","message":"origin refused"}}"#, None);
        assert_eq!(p.view().error, Some(PairError::Refused("origin refused".into())));
        assert_eq!(p.state(), PairingState::Unpaired);
    }

    #[test]
    fn a_revoked_token_sends_the_kiosk_back_to_pairing() {
        let mut p = Pairing::new(Mode::Production, Some(PAIRED));
        drain(|| p.poll_command());
        p.handle_unpaired(Some("t-0"));
        assert_eq!(p.state(), PairingState::Paired, "an answer to an older token changes nothing");
        p.handle_unpaired(Some("t-1"));
        assert_eq!(p.state(), PairingState::Unpaired);
        assert_eq!(persisted(&drain(|| p.poll_command())), [None], "the dead token is forgotten");
        assert_eq!(p.token(), None);
    }

    #[test]
    fn a_demo_hub_that_refuses_the_kiosk_gets_the_pairing_screen() {
        let mut p = Pairing::new(Mode::Demo, None);
        p.handle_unpaired(None);
        assert_eq!(p.state(), PairingState::Unpaired);
        p.pair(Millis(0), "1234", "Kiosk").unwrap();
        p.handle_response(Millis(1), 201, PAIRED, None);
        assert_eq!(p.state(), PairingState::Paired);
        p.handle_unpaired(None);
        assert_eq!(p.state(), PairingState::Paired, "a refusal of a request sent before pairing is stale");
    }

    #[test]
    fn device_unpaired_is_recognised_by_status_and_code() {
        let body = r#"{"error":{"code":"device_unpaired","message":"pair this kiosk"}}"#;
        assert!(is_device_unpaired(401, body));
        assert!(!is_device_unpaired(403, body));
        assert!(!is_device_unpaired(401, r#"{"error":{"code":"auth_failed","message":"x"}}"#));
        assert!(!is_device_unpaired(401, "not json"));
    }
}
