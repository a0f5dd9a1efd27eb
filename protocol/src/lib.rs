//! The wire protocol between the hub and the pages, defined once (see `docs/protocol.md`).
//!
//! Pure data and parsing: the hub serializes these types, the browser's `core` deserializes them,
//! and neither side can drift from the other.

pub mod close;
mod frame;
pub mod kitchen;
pub mod menu;
pub mod stats;
pub mod time;
pub mod voice;

use serde::{Deserialize, Serialize};

use frame::tagged_frames;
pub use frame::{FrameError, Shallow};

pub use kitchen::{ItemStatus, KitchenAction, Void};
pub use menu::{
    Allergen, AvailabilityChange, AvailabilityTarget, ChosenOption, LineProblem, Menu, MenuAvailability, MenuItem,
    ModifierGroup, ModifierKind, ModifierOption, Quote, QuoteLine, SoldOut, TaxRule, Totals, format_price,
};
pub use stats::{HourFigures, StationFigures, TicketFigures, TicketSample, TicketStats};

/// Largest WebSocket frame either side accepts (bigger → close 1009 on the hub, dropped on a page).
pub const MAX_WS_FRAME_BYTES: usize = 64 * 1024;
/// Largest HTTP request body the hub accepts.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Quantity bounds of one order line.
pub const MIN_QUANTITY: u32 = 1;
pub const MAX_QUANTITY: u32 = 99;
/// Longest `special_instructions` of an order line.
pub const MAX_INSTRUCTIONS_CHARS: usize = 500;
/// Stations whose screens see every order (the whole kitchen, the expeditor); they, and the
/// manager, may mark things sold out.
pub const ALL_ORDERS_STATIONS: [&str; 2] = ["kitchen", "expo"];
/// Completed orders a snapshot carries for recall, newest first, at most.
pub const RECALL_HISTORY: usize = 50;

// ---------------------------------------------------------------------------------------------
// Orders

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    New,
    Preparing,
    Ready,
    Completed,
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 5] =
        [OrderStatus::New, OrderStatus::Preparing, OrderStatus::Ready, OrderStatus::Completed, OrderStatus::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::New => "new",
            OrderStatus::Preparing => "preparing",
            OrderStatus::Ready => "ready",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    /// Still on a kitchen screen.
    pub fn is_active(self) -> bool {
        matches!(self, OrderStatus::New | OrderStatus::Preparing | OrderStatus::Ready)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderSource {
    Kiosk,
    Voice,
    Counter,
}

impl OrderSource {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderSource::Kiosk => "kiosk",
            OrderSource::Voice => "voice",
            OrderSource::Counter => "counter",
        }
    }
}

/// One line of a stored order, priced by the hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderItem {
    pub id: String,
    pub menu_item_id: String,
    pub name: String,
    pub quantity: u32,
    /// The chosen options in menu order (defaults included).
    #[serde(default)]
    pub options: Vec<ChosenOption>,
    #[serde(default)]
    pub special_instructions: Option<String>,
    pub station: String,
    /// What the item contains (from the menu).
    #[serde(default)]
    pub allergens: Vec<Allergen>,
    /// The customer's allergies, flagged on this line: the ticket shows them as a banner.
    #[serde(default)]
    pub allergies: Vec<Allergen>,
    #[serde(default)]
    pub unit_price_cents: i64,
    #[serde(default)]
    pub line_total_cents: i64,
    /// Free-text modifiers of an order placed before modifier groups (shown as written).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modifiers: Vec<String>,
    /// Where the item is at its station (see [`kitchen`]).
    #[serde(default)]
    pub status: ItemStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: String,
    /// Short number called out to the customer (#42).
    pub number: u32,
    pub source: OrderSource,
    pub status: OrderStatus,
    #[serde(default)]
    pub rush: bool,
    pub items: Vec<OrderItem>,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub customer_name: Option<String>,
    /// What the customer is charged, computed by the hub.
    #[serde(default)]
    pub totals: Totals,
    /// RFC 3339 (see [`time`]).
    pub created_at: String,
    pub updated_at: String,
    /// When the first item was started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// When the last item became ready (while every item is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    /// Set when the order was voided (its status is then `cancelled`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub void: Option<Void>,
}

/// One line of `POST /api/v1/orders`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOrderItem {
    pub menu_item_id: String,
    pub quantity: u32,
    /// Option ids of the item's modifier groups; an untouched group takes its defaults.
    #[serde(default)]
    pub options: Vec<String>,
    #[serde(default)]
    pub special_instructions: Option<String>,
    /// Allergies the customer flagged for this line (at most one of each).
    #[serde(default)]
    pub allergies: Vec<Allergen>,
    /// Free-text modifiers, as kiosks sent them before modifier groups: refused (`400`) unless
    /// empty, so an order from such a kiosk is never placed without them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modifiers: Vec<String>,
}

impl NewOrderItem {
    /// `quantity` of an item with nothing chosen, flagged or noted.
    pub fn plain(menu_item_id: impl Into<String>, quantity: u32) -> NewOrderItem {
        NewOrderItem {
            menu_item_id: menu_item_id.into(),
            quantity,
            options: Vec::new(),
            special_instructions: None,
            allergies: Vec::new(),
            modifiers: Vec::new(),
        }
    }
}

/// Body of `POST /api/v1/orders` (header `Idempotency-Key` required).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOrder {
    pub items: Vec<NewOrderItem>,
    pub source: OrderSource,
    #[serde(default)]
    pub customer_name: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// Body of `POST /api/v1/orders/{id}/void`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoidRequest {
    pub reason: String,
}

/// `201/200 {"order": …}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderEnvelope {
    pub order: Order,
}

/// What a kiosk reads of an [`OrderEnvelope`]: the order's id, its number and what it costs, every
/// other field skipped. The kiosk then carries no decoder for a whole order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrderReceipt {
    pub order: ReceiptOrder,
}

/// [`OrderReceipt`]'s order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReceiptOrder {
    pub id: String,
    pub number: u32,
    #[serde(default)]
    pub totals: Totals,
}

/// `GET /api/v1/orders?station=S` → active orders as of `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub seq: u64,
    pub orders: Vec<Order>,
    /// What is sold out as of `seq` (as `menu.updated` would say it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sold_out: Option<SoldOut>,
    /// Completed orders shown at the station, most recently completed first (at most
    /// [`RECALL_HISTORY`]): what the screen can recall.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recent: Vec<Order>,
}

/// `4xx {"error": {"code", "message"}}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: ApiErrorBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError { error: ApiErrorBody { code: code.into(), message: message.into() } }
    }

    /// The `message` of an error body, if `body` is one.
    pub fn message_of(body: &str) -> Option<String> {
        serde_json::from_str::<ApiError>(body).ok().map(|e| e.error.message)
    }
}

/// `POST /api/v1/auth/pin`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinRequest {
    pub pin: String,
    pub station: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinResponse {
    pub token: String,
    pub station: String,
}

/// A paired device (a kiosk), as the hub lists it. `paired_at` is Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    pub id: String,
    pub name: String,
    pub paired_at: i64,
}

/// `POST /api/v1/devices/pair`: the manager's PIN pairs a device called `name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairRequest {
    pub pin: String,
    pub name: String,
}

/// The answer to a pairing: the device token is given once and never shown again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairResponse {
    pub device: DeviceInfo,
    pub token: String,
}

/// `GET /api/v1/devices` (manager token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceList {
    pub devices: Vec<DeviceInfo>,
}

/// `POST /api/v1/realtime/session` → an ephemeral voice token. `expires_at` is Unix **seconds**.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealtimeToken {
    pub value: String,
    pub expires_at: u64,
    #[serde(default)]
    pub model: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Order feed WebSocket

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    NotFound,
    InvalidTransition,
    BadRequest,
    /// The screen's station may not do this (another station's items, or expo's work).
    Forbidden,
}

tagged_frames! {
/// Frames a page sends on `/ws`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage {
    #[serde(rename = "hello")]
    Hello { token: String, station: String, since: Option<u64> },
    #[serde(rename = "ping")]
    Ping { ts: i64 },
    #[serde(rename = "pong")]
    Pong { ts: i64 },
    /// The station's `new` items → `preparing` (see [`kitchen`]).
    #[serde(rename = "order.start")]
    Start { request_id: String, order_id: String, station: String },
    /// The station's items → `ready`.
    #[serde(rename = "order.bump")]
    Bump { request_id: String, order_id: String, station: String },
    /// With a station: its ready items come back; without (expo): a completed order comes back.
    #[serde(rename = "order.recall")]
    Recall {
        request_id: String,
        order_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        station: Option<String>,
    },
    /// Expo: a ready order is done (`force`: even if it is not ready).
    #[serde(rename = "order.complete")]
    Complete {
        request_id: String,
        order_id: String,
        #[serde(default)]
        force: bool,
    },
    /// Expo: the order is cancelled, with a reason every screen shows.
    #[serde(rename = "order.void")]
    Void { request_id: String, order_id: String, reason: String },
    #[serde(rename = "order.rush")]
    Rush { request_id: String, order_id: String, rush: bool },
}
}

impl ClientMessage {
    /// A kitchen command: its request id, order id and action.
    pub fn command(&self) -> Option<(&str, &str, KitchenAction)> {
        let (request_id, order_id, action) = match self {
            ClientMessage::Start { request_id, order_id, station } => {
                (request_id, order_id, KitchenAction::Start { station: station.clone() })
            }
            ClientMessage::Bump { request_id, order_id, station } => {
                (request_id, order_id, KitchenAction::Bump { station: station.clone() })
            }
            ClientMessage::Recall { request_id, order_id, station } => {
                (request_id, order_id, KitchenAction::Recall { station: station.clone() })
            }
            ClientMessage::Complete { request_id, order_id, force } => {
                (request_id, order_id, KitchenAction::Complete { force: *force })
            }
            ClientMessage::Void { request_id, order_id, reason } => {
                (request_id, order_id, KitchenAction::Void { reason: reason.clone() })
            }
            ClientMessage::Rush { request_id, order_id, rush } => {
                (request_id, order_id, KitchenAction::Rush { rush: *rush })
            }
            ClientMessage::Hello { .. } | ClientMessage::Ping { .. } | ClientMessage::Pong { .. } => return None,
        };
        Some((request_id, order_id, action))
    }

    /// The frame that asks for `action` on `order_id`.
    pub fn for_action(request_id: String, order_id: String, action: KitchenAction) -> ClientMessage {
        match action {
            KitchenAction::Start { station } => ClientMessage::Start { request_id, order_id, station },
            KitchenAction::Bump { station } => ClientMessage::Bump { request_id, order_id, station },
            KitchenAction::Recall { station } => ClientMessage::Recall { request_id, order_id, station },
            KitchenAction::Complete { force } => ClientMessage::Complete { request_id, order_id, force },
            KitchenAction::Void { reason } => ClientMessage::Void { request_id, order_id, reason },
            KitchenAction::Rush { rush } => ClientMessage::Rush { request_id, order_id, rush },
        }
    }
}

tagged_frames! {
/// Frames the hub sends on `/ws`. Order events carry a strictly increasing `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerMessage {
    #[serde(rename = "welcome")]
    Welcome { seq: u64 },
    /// The events since the client's `since` are no longer available: GET the snapshot.
    #[serde(rename = "resync")]
    Resync { seq: u64 },
    #[serde(rename = "auth_failed")]
    AuthFailed { reason: String },
    #[serde(rename = "ping")]
    Ping { ts: i64 },
    #[serde(rename = "pong")]
    Pong { ts: i64 },
    #[serde(rename = "ack")]
    Ack { request_id: String, seq: u64 },
    #[serde(rename = "error")]
    Error {
        #[serde(default)]
        request_id: Option<String>,
        code: ErrorCode,
        #[serde(default)]
        message: String,
    },
    #[serde(rename = "order.created")]
    OrderCreated { seq: u64, order: Order },
    #[serde(rename = "order.updated")]
    OrderUpdated { seq: u64, order: Order },
    #[serde(rename = "order.status.changed")]
    OrderStatusChanged { seq: u64, order_id: String, status: OrderStatus, updated_at: String },
    #[serde(rename = "order.deleted")]
    OrderDeleted { seq: u64, order_id: String },
    /// What is sold out now (the whole list). In the order-event sequence on staff screens; a
    /// kiosk gets the latest one after `welcome` and each new one.
    #[serde(rename = "menu.updated")]
    MenuUpdated { seq: u64, sold_out: SoldOut },
}
}

impl ServerMessage {
    /// The event sequence number, for the order events and `menu.updated`.
    pub fn event_seq(&self) -> Option<u64> {
        match self {
            ServerMessage::OrderCreated { seq, .. }
            | ServerMessage::OrderUpdated { seq, .. }
            | ServerMessage::OrderStatusChanged { seq, .. }
            | ServerMessage::OrderDeleted { seq, .. }
            | ServerMessage::MenuUpdated { seq, .. } => Some(*seq),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Staff call signalling (kiosk ↔ KDS), carried on the same `/ws` as the order feed

/// Longest `call_id` and `from` accepted (1–64 of `A-Z a-z 0-9 - _ . :`).
pub const MAX_CALL_ID_CHARS: usize = 64;
/// Longest ICE candidate line accepted.
pub const MAX_ICE_CANDIDATE_CHARS: usize = 2048;
/// The station name of the kiosk's restricted, call-only connection.
pub const KIOSK_STATION: &str = "kiosk";
/// What the hub sends a kiosk's connection, as a set for [`ServerMessage::parse_only`]: every
/// server frame but the order events (a kiosk places its orders over HTTP and is sent none).
pub const KIOSK_SERVER_FRAMES: u32 = ServerMessage::ALL
    & !ServerMessage::kinds(&["order.created", "order.updated", "order.status.changed", "order.deleted"]);

/// One ICE candidate, in the browser's `RTCIceCandidateInit` JSON shape (`candidate.toJSON()`).
/// An empty `candidate` is the end-of-candidates marker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceCandidate {
    pub candidate: String,
    #[serde(rename = "sdpMid", default)]
    pub sdp_mid: Option<String>,
    #[serde(rename = "sdpMLineIndex", default)]
    pub sdp_m_line_index: Option<u16>,
}

tagged_frames! {
/// Call signalling frames, in both directions on `/ws` (see `docs/protocol.md`, "Staff call
/// signalling"). Every frame names its call by `call_id`, chosen by the caller; the hub routes by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallMessage {
    /// Caller → hub → every staff screen of `to_station` (every staff screen when `None`).
    /// `from` is the caller's client id.
    #[serde(rename = "call.request")]
    Request {
        call_id: String,
        from: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to_station: Option<String>,
    },
    /// Either party → the other (before `call.accept`, the caller's offer goes to every ringing screen).
    #[serde(rename = "call.offer")]
    Offer { call_id: String, sdp: String },
    #[serde(rename = "call.answer")]
    Answer { call_id: String, sdp: String },
    #[serde(rename = "call.ice")]
    Ice { call_id: String, candidate: IceCandidate },
    /// A ringing screen takes the call; `from` is its client id. The first one wins.
    #[serde(rename = "call.accept")]
    Accept { call_id: String, from: String },
    /// A ringing screen refuses the call.
    #[serde(rename = "call.decline")]
    Decline { call_id: String },
    /// The caller gives up before the call is answered.
    #[serde(rename = "call.cancel")]
    Cancel { call_id: String },
    /// Either party ends the call.
    #[serde(rename = "call.hangup")]
    Hangup { call_id: String },
    /// The callee is already in another call.
    #[serde(rename = "call.busy")]
    Busy { call_id: String },
    /// Hub → a ringing screen: another screen accepted; stop ringing.
    #[serde(rename = "call.taken")]
    Taken { call_id: String },
    /// Hub → caller: no staff screen can take the call (none connected, all gone, or too many calls).
    #[serde(rename = "call.unavailable")]
    Unavailable { call_id: String },
}
}

impl CallMessage {
    /// Whether a frame's `type` belongs to call signalling (it may still be unknown).
    pub fn is_call_type(kind: &str) -> bool {
        kind.starts_with("call.")
    }

    pub fn call_id(&self) -> &str {
        match self {
            CallMessage::Request { call_id, .. }
            | CallMessage::Offer { call_id, .. }
            | CallMessage::Answer { call_id, .. }
            | CallMessage::Ice { call_id, .. }
            | CallMessage::Accept { call_id, .. }
            | CallMessage::Decline { call_id }
            | CallMessage::Cancel { call_id }
            | CallMessage::Hangup { call_id }
            | CallMessage::Busy { call_id }
            | CallMessage::Taken { call_id }
            | CallMessage::Unavailable { call_id } => call_id,
        }
    }

    /// Checks the identifiers and sizes a receiver relies on: `call_id` and `from` are 1–64 of
    /// `A-Z a-z 0-9 - _ . :`, SDP is non-empty, an ICE candidate line is at most 2048 characters.
    pub fn validate(&self) -> Result<(), FrameError> {
        let invalid = |reason: String| FrameError::Invalid { kind: self.kind().to_string(), reason };
        if !is_valid_call_token(self.call_id()) {
            return Err(invalid(format!("call_id must be 1–{MAX_CALL_ID_CHARS} of A-Z a-z 0-9 - _ . :")));
        }
        match self {
            CallMessage::Request { from, .. } | CallMessage::Accept { from, .. } if !is_valid_call_token(from) => {
                Err(invalid(format!("from must be 1–{MAX_CALL_ID_CHARS} of A-Z a-z 0-9 - _ . :")))
            }
            CallMessage::Offer { sdp, .. } | CallMessage::Answer { sdp, .. } if sdp.trim().is_empty() => {
                Err(invalid("sdp is empty".into()))
            }
            CallMessage::Ice { candidate, .. } if candidate.candidate.chars().count() > MAX_ICE_CANDIDATE_CHARS => {
                Err(invalid(format!("candidate over {MAX_ICE_CANDIDATE_CHARS} characters")))
            }
            _ => Ok(()),
        }
    }
}

fn is_valid_call_token(s: &str) -> bool {
    (1..=MAX_CALL_ID_CHARS).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order() -> Order {
        Order {
            id: "o1".into(),
            number: 42,
            source: OrderSource::Voice,
            status: OrderStatus::New,
            rush: false,
            items: vec![OrderItem {
                id: "i1".into(),
                menu_item_id: "cheeseburger".into(),
                name: "Cheeseburger".into(),
                quantity: 2,
                options: vec![ChosenOption {
                    group_id: "remove".into(),
                    option_id: "onions".into(),
                    name: "onions".into(),
                    kind: ModifierKind::Remove,
                    price_cents: 0,
                }],
                special_instructions: None,
                station: "grill".into(),
                allergens: vec![Allergen::Gluten, Allergen::Dairy],
                allergies: vec![Allergen::Nuts],
                unit_price_cents: 899,
                line_total_cents: 1798,
                modifiers: vec![],
                status: ItemStatus::Preparing,
                started_at: Some("2026-11-21T00:00:01.000Z".into()),
                ready_at: None,
            }],
            notes: String::new(),
            customer_name: None,
            totals: TaxRule::default().totals(1798),
            created_at: "2026-11-21T00:00:00.000Z".into(),
            updated_at: "2026-11-21T00:00:00.000Z".into(),
            started_at: Some("2026-11-21T00:00:01.000Z".into()),
            ready_at: None,
            completed_at: None,
            void: None,
        }
    }

    #[test]
    fn server_messages_use_the_documented_names() {
        let m = ServerMessage::OrderStatusChanged {
            seq: 7,
            order_id: "o1".into(),
            status: OrderStatus::Ready,
            updated_at: "t".into(),
        };
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            json!({"type":"order.status.changed","seq":7,"order_id":"o1","status":"ready","updated_at":"t"})
        );
        let created = ServerMessage::OrderCreated { seq: 1, order: order() };
        let text = serde_json::to_string(&created).unwrap();
        assert_eq!(ServerMessage::parse(&text).unwrap(), created);
        assert_eq!(created.event_seq(), Some(1));
        assert_eq!(ServerMessage::Welcome { seq: 3 }.event_seq(), None);
        let menu =
            ServerMessage::MenuUpdated { seq: 9, sold_out: SoldOut { items: vec!["cola".into()], options: vec![] } };
        assert_eq!(
            serde_json::to_value(&menu).unwrap(),
            json!({"type":"menu.updated","seq":9,"sold_out":{"items":["cola"],"options":[]}})
        );
        assert_eq!(ServerMessage::parse(&serde_json::to_string(&menu).unwrap()).unwrap().event_seq(), Some(9));
    }

    #[test]
    fn an_order_stored_before_prices_still_reads() {
        let old = json!({"id":"o","number":1,"source":"kiosk","status":"new","items":[
            {"id":"o-1","menu_item_id":"cola","name":"Cola","quantity":1,"station":"drinks"}],
            "created_at":"t","updated_at":"t"});
        let order: Order = serde_json::from_value(old).unwrap();
        assert_eq!(order.totals, Totals::default());
        assert!(order.items[0].options.is_empty() && order.items[0].allergies.is_empty());
        let old = json!({"id":"o-1","menu_item_id":"cola","name":"Cola","quantity":1,"station":"drinks",
            "modifiers":["no ice"],"allergy":true});
        let item: OrderItem = serde_json::from_value(old).unwrap();
        assert_eq!(item.modifiers, ["no ice"], "an old order keeps its free-text modifiers for the ticket");
    }

    #[test]
    fn client_messages_round_trip() {
        let hello: ClientMessage =
            ClientMessage::parse(r#"{"type":"hello","token":"t","station":"grill","since":null}"#).unwrap();
        assert_eq!(hello, ClientMessage::Hello { token: "t".into(), station: "grill".into(), since: None });
        let cmd = ClientMessage::Bump { request_id: "r".into(), order_id: "o".into(), station: "grill".into() };
        assert_eq!(
            serde_json::to_value(&cmd).unwrap(),
            json!({"type":"order.bump","request_id":"r","order_id":"o","station":"grill"})
        );
        let recall: ClientMessage =
            ClientMessage::parse(r#"{"type":"order.recall","request_id":"r","order_id":"o"}"#).unwrap();
        assert_eq!(recall.command(), Some(("r", "o", KitchenAction::Recall { station: None })));
        let complete = ClientMessage::parse(r#"{"type":"order.complete","request_id":"r","order_id":"o"}"#).unwrap();
        assert_eq!(complete.command().unwrap().2, KitchenAction::Complete { force: false });
        for action in [
            KitchenAction::Start { station: "fryer".into() },
            KitchenAction::Bump { station: "fryer".into() },
            KitchenAction::Recall { station: Some("fryer".into()) },
            KitchenAction::Complete { force: true },
            KitchenAction::Void { reason: "left".into() },
            KitchenAction::Rush { rush: true },
        ] {
            let message = ClientMessage::for_action("r".into(), "o".into(), action.clone());
            let text = serde_json::to_string(&message).unwrap();
            assert_eq!(ClientMessage::parse(&text).unwrap().command(), Some(("r", "o", action)), "{text}");
        }
        assert!(matches!(
            ClientMessage::parse(r#"{"type":"order.set_status","request_id":"r","order_id":"o","status":"ready"}"#),
            Err(FrameError::UnknownType(_))
        ));
    }

    #[test]
    fn a_receipt_reads_the_envelope_a_kiosk_is_answered_with() {
        let mut order: Order = serde_json::from_value(serde_json::json!({
            "id": "o1", "number": 42, "source": "kiosk", "status": "new", "items": [],
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
        }))
        .unwrap();
        (order.totals.subtotal_cents, order.totals.tax_cents, order.totals.total_cents) = (900, 90, 990);
        let text = serde_json::to_string(&OrderEnvelope { order: order.clone() }).unwrap();
        let receipt: OrderReceipt = serde_json::from_str(&text).unwrap();
        assert_eq!(receipt.order, ReceiptOrder { id: order.id, number: 42, totals: order.totals });
        assert!(serde_json::from_str::<OrderReceipt>(r#"{"order":{"id":"o1"}}"#).is_err(), "no number");
    }

    #[test]
    fn a_receiver_reads_only_the_types_it_takes() {
        assert_eq!(ServerMessage::ALL.count_ones() as usize, ServerMessage::TYPES.len());
        assert_eq!(ServerMessage::kinds(&[ServerMessage::TYPES[0]]), 1);
        assert_eq!(KIOSK_SERVER_FRAMES.count_ones() as usize, ServerMessage::TYPES.len() - 4);
        let kiosk = ServerMessage::parse_only::<KIOSK_SERVER_FRAMES>;
        let deleted = serde_json::to_string(&ServerMessage::OrderDeleted { seq: 1, order_id: "o".into() }).unwrap();
        assert_eq!(kiosk(&deleted), Err(FrameError::Unexpected("order.deleted".into())));
        assert!(ServerMessage::parse(&deleted).is_ok());
        // Refused by its type, before its fields are read.
        assert_eq!(kiosk(r#"{"type":"order.created","seq":"x"}"#), Err(FrameError::Unexpected("order.created".into())));
        for text in [
            r#"{"type":"welcome","seq":3}"#,
            r#"{"type":"ping","ts":7}"#,
            r#"{"type":"auth_failed","reason":"no"}"#,
            r#"{"type":"error","code":"bad_request"}"#,
            r#"{"type":"menu.updated","seq":2,"sold_out":{"items":["i1"],"options":[]}}"#,
            r#"{"type":"welcome"}"#,
            r#"{"type":"order.exploded"}"#,
            "{nope",
        ] {
            assert_eq!(kiosk(text), ServerMessage::parse(text), "{text}");
        }
    }

    #[test]
    fn frame_errors_are_told_apart() {
        assert!(matches!(ServerMessage::parse("{nope"), Err(FrameError::Malformed(_))));
        assert!(matches!(ServerMessage::parse(r#"{"seq":1}"#), Err(FrameError::Malformed(_))));
        assert_eq!(
            ServerMessage::parse(r#"{"type":"order.exploded","seq":1}"#),
            Err(FrameError::UnknownType("order.exploded".into()))
        );
        assert!(matches!(
            ServerMessage::parse(r#"{"type":"order.deleted","seq":1}"#),
            Err(FrameError::Invalid { kind, .. }) if kind == "order.deleted"
        ));
        let big = format!(r#"{{"type":"ping","ts":1,"pad":"{}"}}"#, "x".repeat(MAX_WS_FRAME_BYTES));
        assert!(matches!(ServerMessage::parse(&big), Err(FrameError::TooLarge { .. })));
    }

    /// `parse` reads each variant's fields straight from the text; serde's derived decoder buffers
    /// the frame first. Both read every frame of every type the same, and `kind()` is its `type`.
    #[test]
    fn parse_agrees_with_the_derived_decoder_on_every_type() {
        fn check<T>(
            frames: &[T],
            types: &[&str],
            kind: fn(&T) -> &'static str,
            parse: fn(&str) -> Result<T, FrameError>,
        ) where
            T: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
        {
            let mut seen: Vec<&str> = frames.iter().map(kind).collect();
            seen.sort_unstable();
            let mut all = types.to_vec();
            all.sort_unstable();
            assert_eq!(seen, all, "one frame of every type");
            for frame in frames {
                let text = serde_json::to_string(frame).unwrap();
                assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap()["type"], kind(frame));
                assert_eq!(parse(&text).as_ref(), Ok(frame), "{text}");
                assert_eq!(&serde_json::from_str::<T>(&text).unwrap(), frame, "{text}");
            }
        }
        let (r, o) = (|| "r".to_string(), || "o".to_string());
        check(
            &[
                ServerMessage::Welcome { seq: 1 },
                ServerMessage::Resync { seq: 2 },
                ServerMessage::AuthFailed { reason: "expired".into() },
                ServerMessage::Ping { ts: -3 },
                ServerMessage::Pong { ts: 4 },
                ServerMessage::Ack { request_id: r(), seq: 5 },
                ServerMessage::Error { request_id: None, code: ErrorCode::Forbidden, message: "no".into() },
                ServerMessage::OrderCreated { seq: 6, order: order() },
                ServerMessage::OrderUpdated { seq: 7, order: Order { rush: true, ..order() } },
                ServerMessage::OrderStatusChanged {
                    seq: 8,
                    order_id: o(),
                    status: OrderStatus::Ready,
                    updated_at: "t".into(),
                },
                ServerMessage::OrderDeleted { seq: 9, order_id: o() },
                ServerMessage::MenuUpdated {
                    seq: 10,
                    sold_out: SoldOut { items: vec!["cola".into()], options: vec![] },
                },
            ],
            ServerMessage::TYPES,
            ServerMessage::kind,
            ServerMessage::parse,
        );
        check(
            &[
                ClientMessage::Hello { token: "t".into(), station: "grill".into(), since: Some(3) },
                ClientMessage::Ping { ts: 1 },
                ClientMessage::Pong { ts: 2 },
                ClientMessage::Start { request_id: r(), order_id: o(), station: "grill".into() },
                ClientMessage::Bump { request_id: r(), order_id: o(), station: "grill".into() },
                ClientMessage::Recall { request_id: r(), order_id: o(), station: None },
                ClientMessage::Complete { request_id: r(), order_id: o(), force: true },
                ClientMessage::Void { request_id: r(), order_id: o(), reason: "left".into() },
                ClientMessage::Rush { request_id: r(), order_id: o(), rush: false },
            ],
            ClientMessage::TYPES,
            ClientMessage::kind,
            ClientMessage::parse,
        );
        let c = || "c1".to_string();
        check(
            &[
                CallMessage::Request { call_id: c(), from: "kiosk-1".into(), to_station: None },
                CallMessage::Offer { call_id: c(), sdp: "v=0".into() },
                CallMessage::Answer { call_id: c(), sdp: "v=0".into() },
                CallMessage::Ice {
                    call_id: c(),
                    candidate: IceCandidate { candidate: String::new(), sdp_mid: None, sdp_m_line_index: Some(1) },
                },
                CallMessage::Accept { call_id: c(), from: "kds-1".into() },
                CallMessage::Decline { call_id: c() },
                CallMessage::Cancel { call_id: c() },
                CallMessage::Hangup { call_id: c() },
                CallMessage::Busy { call_id: c() },
                CallMessage::Taken { call_id: c() },
                CallMessage::Unavailable { call_id: c() },
            ],
            CallMessage::TYPES,
            CallMessage::kind,
            CallMessage::parse,
        );
    }

    #[test]
    fn a_frame_without_a_string_type_is_malformed() {
        for (text, why) in [
            (r#"{"type":5,"seq":1}"#, "`type` is not a string"),
            (r#"{"type":{"a":1},"seq":1}"#, "`type` is not a string"),
            (r#"{"type":null,"seq":1}"#, "no `type` field"),
            (r#"{"seq":1}"#, "no `type` field"),
            (r#"{"type":true,"seq":1}"#, "`type` is not a string"),
            (r#"{"type":-2.5e3,"seq":1}"#, "`type` is not a string"),
            (r#"{"type":["welcome"],"seq":1}"#, "`type` is not a string"),
            (r#"{"type":{"type":"welcome"},"seq":1}"#, "`type` is not a string"),
        ] {
            assert_eq!(ServerMessage::parse(text), Err(FrameError::Malformed(why.into())), "{text}");
        }
        // Only an object is a frame: serde's derived decoders would read an array's elements as the
        // fields, in order (`["auth_failed"]` as an `auth_failed` with that reason).
        for text in [
            "[1]",
            r#"["auth_failed"]"#,
            r#"["call.hangup"]"#,
            "\"welcome\"",
            "",
            r#"{"type":"welcome","seq":1"#,
            r#"{"type":"welcome","seq":1} x"#,
            r#"{"type":"welcome","type":"welcome","seq":1}"#,
        ] {
            assert!(matches!(ServerMessage::parse(text), Err(FrameError::Malformed(_))), "{text}");
        }
        // A `type` nested deeper than the parser goes is refused, not followed down the stack.
        let deep = format!(r#"{{"type":{}1{},"seq":1}}"#, r#"{"a":"#.repeat(10_000), "}".repeat(10_000));
        assert!(matches!(ServerMessage::parse(&deep), Err(FrameError::Malformed(_))));
        // A malformed field after a known type is malformed JSON, not a missing field.
        assert!(matches!(ServerMessage::parse(r#"{"type":"welcome","seq":1,"x":tru}"#), Err(FrameError::Malformed(_))));
        // A duplicate field is the derived decoder's error too.
        assert!(matches!(
            ServerMessage::parse(r#"{"type":"welcome","seq":1,"seq":2}"#),
            Err(FrameError::Invalid { kind, .. }) if kind == "welcome"
        ));
    }

    #[test]
    fn active_statuses() {
        assert_eq!(OrderStatus::ALL.iter().filter(|s| s.is_active()).count(), 3);
    }

    #[test]
    fn api_error_shape() {
        assert_eq!(
            serde_json::to_value(ApiError::new("bad_request", "quantity must be 1–99")).unwrap(),
            json!({"error":{"code":"bad_request","message":"quantity must be 1–99"}})
        );
    }

    #[test]
    fn call_messages_use_the_documented_names_and_round_trip() {
        let request =
            CallMessage::Request { call_id: "c1".into(), from: "kiosk-1".into(), to_station: Some("grill".into()) };
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            json!({"type":"call.request","call_id":"c1","from":"kiosk-1","to_station":"grill"})
        );
        let untargeted = CallMessage::parse(r#"{"type":"call.request","call_id":"c1","from":"k"}"#).unwrap();
        assert_eq!(untargeted, CallMessage::Request { call_id: "c1".into(), from: "k".into(), to_station: None });
        let ice = CallMessage::Ice {
            call_id: "c1".into(),
            candidate: IceCandidate {
                candidate: "candidate:1 1 udp 1 10.0.0.1 5000 typ host".into(),
                sdp_mid: Some("0".into()),
                sdp_m_line_index: Some(0),
            },
        };
        let value = serde_json::to_value(&ice).unwrap();
        assert_eq!(value["candidate"]["sdpMid"], "0");
        assert_eq!(value["candidate"]["sdpMLineIndex"], 0);
        assert_eq!(CallMessage::parse(&value.to_string()).unwrap(), ice);
        for kind in CallMessage::TYPES {
            assert!(CallMessage::is_call_type(kind));
            assert!(!ServerMessage::TYPES.contains(kind) && !ClientMessage::TYPES.contains(kind));
        }
        let taken = CallMessage::Taken { call_id: "c9".into() };
        assert_eq!(taken.kind(), "call.taken");
        assert_eq!(taken.call_id(), "c9");
        assert_eq!(serde_json::to_value(&taken).unwrap(), json!({"type":"call.taken","call_id":"c9"}));
    }

    #[test]
    fn call_frame_errors_are_told_apart_and_ids_are_validated() {
        assert_eq!(
            CallMessage::parse(r#"{"type":"call.ring","call_id":"c"}"#),
            Err(FrameError::UnknownType("call.ring".into()))
        );
        assert!(
            matches!(CallMessage::parse(r#"{"type":"call.offer","call_id":"c"}"#), Err(FrameError::Invalid { kind, .. }) if kind == "call.offer")
        );
        assert!(matches!(CallMessage::parse("[1"), Err(FrameError::Malformed(_))));
        let bad_id = CallMessage::Hangup { call_id: "has space".into() };
        assert!(matches!(bad_id.validate(), Err(FrameError::Invalid { kind, .. }) if kind == "call.hangup"));
        assert!(CallMessage::Hangup { call_id: "x".repeat(MAX_CALL_ID_CHARS + 1) }.validate().is_err());
        assert!(CallMessage::Hangup { call_id: String::new() }.validate().is_err());
        assert!(CallMessage::Accept { call_id: "c".into(), from: "".into() }.validate().is_err());
        assert!(CallMessage::Offer { call_id: "c".into(), sdp: " ".into() }.validate().is_err());
        assert!(CallMessage::Offer { call_id: "c-1.a:b_2".into(), sdp: "v=0".into() }.validate().is_ok());
    }
}
