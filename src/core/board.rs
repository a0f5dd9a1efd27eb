//! The order board: the hub's orders as of a sequence number, the commands still on their way, and
//! what a station's screen derives from both.
//!
//! Orders arrive as a snapshot (`{seq, orders}`) and then as events numbered by `seq`; a duplicate
//! is ignored, the next one applied, and a gap makes the board ask for a fresh snapshot while it
//! buffers what keeps arriving. Commands go through an outbox: shown optimistically at once (the
//! displayed orders are the confirmed ones with the outbox laid over them), sent once per
//! connection until answered, and reverted by removing them when the hub says no.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::Arc;

use log::{debug, info, warn};
use restaurant_protocol::time::parse_rfc3339_millis;
use restaurant_protocol::{ClientMessage, Order, OrderStatus, ServerMessage, Snapshot};
use serde::{Deserialize, Serialize};

use super::id::uuid_v4;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardConfig {
    /// A ticket older than this is `warning`.
    pub warning_after_ms: u64,
    /// A ticket older than this is `urgent`.
    pub urgent_after_ms: u64,
    /// How many completed orders stay available for recall.
    pub recall_limit: usize,
    /// Commands waiting for an answer, at most.
    pub outbox_limit: usize,
    /// Events buffered during a resync, at most (beyond it the buffer restarts from the snapshot).
    pub buffer_limit: usize,
}

impl BoardConfig {
    pub fn with_thresholds_min(warning_min: u32, urgent_min: u32) -> BoardConfig {
        BoardConfig {
            warning_after_ms: u64::from(warning_min) * 60_000,
            urgent_after_ms: u64::from(urgent_min) * 60_000,
            ..BoardConfig::default()
        }
    }
}

impl Default for BoardConfig {
    fn default() -> BoardConfig {
        BoardConfig {
            warning_after_ms: 10 * 60_000,
            urgent_after_ms: 15 * 60_000,
            recall_limit: 20,
            outbox_limit: 200,
            buffer_limit: 10_000,
        }
    }
}

/// Which part of the kitchen a screen shows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Station {
    /// Every prep item of every order.
    Kitchen,
    /// Whole orders; only `ready` ones can be completed here.
    Expo,
    /// One prep station (`grill`, `fryer`, …): its items, on the orders that have any.
    Prep(String),
}

impl Station {
    pub fn parse(name: &str) -> Station {
        match name.trim() {
            "kitchen" => Station::Kitchen,
            "expo" => Station::Expo,
            other => Station::Prep(other.to_string()),
        }
    }

    /// The command the bump button sends for an order in `status`, if bumping applies.
    pub fn bump_command(&self, status: OrderStatus) -> Option<Command> {
        match (self, status) {
            (Station::Expo, OrderStatus::Ready) => Some(Command::Complete),
            (Station::Expo, _) => None,
            (_, OrderStatus::Preparing) => Some(Command::Ready),
            _ => None,
        }
    }

    fn shows_item(&self, item_station: &str) -> bool {
        match self {
            Station::Kitchen | Station::Expo => true,
            Station::Prep(name) => name == item_station,
        }
    }
}

/// A change a cook asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Command {
    Start,
    Ready,
    Complete,
    Recall,
    Rush { rush: bool },
}

impl Command {
    fn name(self) -> &'static str {
        match self {
            Command::Start => "start",
            Command::Ready => "ready",
            Command::Complete => "complete",
            Command::Recall => "recall",
            Command::Rush { .. } => "rush",
        }
    }

    /// The status this command moves an order to, if it is a status change.
    fn target_status(self) -> Option<OrderStatus> {
        match self {
            Command::Start | Command::Recall => Some(OrderStatus::Preparing),
            Command::Ready => Some(OrderStatus::Ready),
            Command::Complete => Some(OrderStatus::Completed),
            Command::Rush { .. } => None,
        }
    }

    fn allowed_from(self, status: OrderStatus) -> bool {
        match self {
            Command::Recall => status.can_recall(),
            Command::Rush { .. } => status.is_active(),
            Command::Start | Command::Ready | Command::Complete => {
                self.target_status().is_some_and(|to| status.can_set(to))
            }
        }
    }

    fn apply_to(self, order: &mut Order) {
        match self {
            Command::Rush { rush } => order.rush = rush,
            other => {
                if let Some(status) = other.target_status() {
                    order.status = status;
                }
            }
        }
    }

    fn to_message(self, request_id: &str, order_id: &str) -> ClientMessage {
        let (request_id, order_id) = (request_id.to_string(), order_id.to_string());
        let set =
            |status| ClientMessage::SetStatus { request_id: request_id.clone(), order_id: order_id.clone(), status };
        match self {
            Command::Start => set(OrderStatus::Preparing),
            Command::Ready => set(OrderStatus::Ready),
            Command::Complete => set(OrderStatus::Completed),
            Command::Recall => ClientMessage::Recall { request_id, order_id },
            Command::Rush { rush } => ClientMessage::Rush { request_id, order_id, rush },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    UnknownOrder(String),
    NotAllowed { order_id: String, status: OrderStatus, command: Command },
    OutboxFull,
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::UnknownOrder(id) => write!(f, "unknown order {id}"),
            CommandError::NotAllowed { order_id, status, command } => {
                write!(f, "cannot {} order {order_id} while it is {}", command.name(), status.as_str())
            }
            CommandError::OutboxFull => write!(f, "too many commands waiting for the hub"),
        }
    }
}

impl std::error::Error for CommandError {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxError {
    Malformed(String),
    /// Restoring would exceed the outbox limit; nothing was restored.
    TooMany(usize),
}

impl fmt::Display for OutboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutboxError::Malformed(e) => write!(f, "stored outbox is not valid: {e}"),
            OutboxError::TooMany(n) => {
                write!(f, "stored outbox holds {n} commands, more than allowed")
            }
        }
    }
}

impl std::error::Error for OutboxError {}

/// A command the hub refused; its optimistic change has been reverted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandFailure {
    pub request_id: String,
    pub order_id: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgeLevel {
    Ok,
    Warning,
    Urgent,
}

impl AgeLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            AgeLevel::Ok => "ok",
            AgeLevel::Warning => "warning",
            AgeLevel::Urgent => "urgent",
        }
    }
}

/// One card of the grid: the order as displayed (items already filtered to the station).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// Shared with the board while unchanged: deriving the grid copies no order.
    pub order: Arc<Order>,
    /// A command on it is still waiting for the hub's answer.
    pub pending: bool,
    pub elapsed_ms: u64,
    pub age: AgeLevel,
}

/// One line of the all-day panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllDayCount {
    pub name: String,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct OutboxEntry {
    request_id: String,
    order_id: String,
    command: Command,
    /// Sent on the current connection.
    #[serde(skip)]
    sent: bool,
    /// Acknowledged with this event seq; kept (not re-sent) until the board has applied that seq.
    #[serde(skip)]
    acked_seq: Option<u64>,
}

/// Where the board stands with the event stream.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sync {
    /// Applying events as they come.
    Live,
    /// Waiting for a snapshot, buffering events (by seq) meanwhile.
    Resync { fetching: bool, buffer: BTreeMap<u64, ServerMessage> },
}

#[derive(Debug, Clone)]
pub struct Board {
    config: BoardConfig,
    /// Confirmed active orders. Shared (`Arc`): every view derived from the board, and every
    /// published copy of it, points at the same orders; a change replaces one.
    orders: BTreeMap<String, Arc<Order>>,
    /// Confirmed completed orders, newest first, for recall.
    completed: VecDeque<Arc<Order>>,
    last_seq: Option<u64>,
    sync: Sync,
    outbox: Vec<OutboxEntry>,
    failures: VecDeque<CommandFailure>,
    revision: u64,
    outbox_revision: u64,
}

const FAILURE_LIMIT: usize = 10;

impl Board {
    pub fn new(config: BoardConfig) -> Board {
        Board {
            config,
            orders: BTreeMap::new(),
            completed: VecDeque::new(),
            last_seq: None,
            sync: Sync::Resync { fetching: false, buffer: BTreeMap::new() },
            outbox: Vec::new(),
            failures: VecDeque::new(),
            revision: 0,
            outbox_revision: 0,
        }
    }

    /// Forgets every order and command (sign-out).
    pub fn clear(&mut self) {
        let (revision, outbox_revision) = (self.revision + 1, self.outbox_revision + 1);
        *self = Board { revision, outbox_revision, ..Board::new(self.config.clone()) };
    }

    // -----------------------------------------------------------------------------------------
    // The event stream

    /// The hub's greeting on a new connection, with its current seq.
    pub fn handle_welcome(&mut self, seq: u64) {
        if self.last_seq.is_some_and(|last| seq < last) {
            warn!("[OrderFeed] hub is at seq {seq}, behind the board's {:?}; resyncing", self.last_seq);
            self.start_resync(true);
        }
        self.drop_unknown_acks(seq);
    }

    /// The hub cannot replay what was missed: a snapshot is needed. Events buffered so far came
    /// before this point of the new connection and are superseded by it.
    pub fn handle_resync(&mut self, seq: u64) {
        info!("[OrderFeed] hub asks for a resync at seq {seq}");
        self.start_resync(true);
        self.drop_unknown_acks(seq);
    }

    /// An order event (`order.*`); anything else is ignored.
    pub fn handle_event(&mut self, event: ServerMessage) {
        let Some(seq) = event.event_seq() else {
            debug!("[OrderFeed] not an order event: {event:?}");
            return;
        };
        if self.last_seq.is_some_and(|last| seq <= last) {
            debug!("[OrderFeed] duplicate event seq {seq} ignored");
            return;
        }
        let limit = self.config.buffer_limit;
        match &mut self.sync {
            Sync::Resync { buffer, .. } => {
                if buffer.len() >= limit {
                    warn!("[OrderFeed] resync buffer full ({limit} events); dropping it for a newer snapshot");
                    buffer.clear();
                }
                buffer.insert(seq, event);
            }
            Sync::Live => {
                let next = self.last_seq.map_or(0, |last| last + 1);
                if seq == next {
                    self.apply_in_order(seq, event);
                } else {
                    warn!("[OrderFeed] gap: expected seq {next}, got {seq}; resyncing");
                    self.start_resync(false);
                    if let Sync::Resync { buffer, .. } = &mut self.sync {
                        buffer.insert(seq, event);
                    }
                }
            }
        }
    }

    /// `true` once per needed snapshot: the caller must now fetch it (all stations: filtering is
    /// done here) and report with `apply_snapshot` or `snapshot_failed`.
    pub fn poll_snapshot_request(&mut self) -> bool {
        match &mut self.sync {
            Sync::Resync { fetching, .. } if !*fetching => {
                *fetching = true;
                true
            }
            _ => false,
        }
    }

    /// A fetched snapshot replaces the confirmed orders; buffered events newer than it follow.
    pub fn apply_snapshot(&mut self, snapshot: Snapshot) {
        let Sync::Resync { mut buffer, .. } = std::mem::replace(&mut self.sync, Sync::Live) else {
            debug!("[OrderFeed] unrequested snapshot at seq {} ignored (board is live)", snapshot.seq);
            return;
        };
        info!("[OrderFeed] snapshot at seq {} with {} orders", snapshot.seq, snapshot.orders.len());
        self.orders.clear();
        // Completed orders may have changed unseen (recalled, rushed, completed again) in the gap
        // the snapshot covers, and it does not list them: a later event about one resyncs.
        self.completed.clear();
        for order in snapshot.orders {
            self.put(Arc::new(order));
        }
        self.last_seq = Some(snapshot.seq);
        self.revision += 1;
        let mut newer = buffer.split_off(&snapshot.seq.saturating_add(1));
        while self.sync == Sync::Live {
            let Some(entry) = newer.first_entry() else {
                break;
            };
            let seq = *entry.key();
            if self.last_seq.is_none_or(|last| seq != last + 1) {
                break;
            }
            self.apply_in_order(seq, entry.remove());
        }
        if !newer.is_empty() {
            match &mut self.sync {
                Sync::Live => {
                    warn!("[OrderFeed] gap after snapshot at seq {:?}; resyncing again", self.last_seq);
                    self.sync = Sync::Resync { fetching: false, buffer: newer };
                }
                Sync::Resync { buffer, .. } => buffer.extend(newer),
            }
        }
        self.prune_acked();
    }

    /// The snapshot could not be fetched; `poll_snapshot_request` will ask again.
    pub fn snapshot_failed(&mut self) {
        if let Sync::Resync { fetching, .. } = &mut self.sync {
            *fetching = false;
        }
    }

    pub fn last_seq(&self) -> Option<u64> {
        self.last_seq
    }

    /// Applying events as they come (not waiting for a snapshot).
    pub fn is_live(&self) -> bool {
        self.sync == Sync::Live
    }

    /// Changes whenever what the board displays changes.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Confirmed active orders, by id (without the outbox's optimistic changes).
    pub fn confirmed_orders(&self) -> &BTreeMap<String, Arc<Order>> {
        &self.orders
    }

    fn start_resync(&mut self, clear_buffer: bool) {
        match &mut self.sync {
            Sync::Resync { buffer, .. } => {
                if clear_buffer {
                    buffer.clear();
                }
            }
            Sync::Live => self.sync = Sync::Resync { fetching: false, buffer: BTreeMap::new() },
        }
    }

    /// Applies the event that is exactly next; an event about an order the board does not know
    /// means the board has diverged, which a snapshot repairs.
    fn apply_in_order(&mut self, seq: u64, event: ServerMessage) {
        self.last_seq = Some(seq);
        self.revision += 1;
        match event {
            ServerMessage::OrderCreated { order, .. } | ServerMessage::OrderUpdated { order, .. } => {
                self.put(Arc::new(order))
            }
            ServerMessage::OrderStatusChanged { order_id, status, updated_at, .. } => {
                let known = self.orders.remove(&order_id).or_else(|| self.take_completed(&order_id));
                match known {
                    Some(mut order) => {
                        let changed = Arc::make_mut(&mut order);
                        changed.status = status;
                        changed.updated_at = updated_at;
                        self.put(order);
                    }
                    None if status.is_active() => {
                        warn!("[OrderFeed] seq {seq}: status of unknown order {order_id}; resyncing");
                        self.start_resync(false);
                    }
                    None => {
                        debug!("[OrderFeed] seq {seq}: unknown order {order_id} left the board")
                    }
                }
            }
            ServerMessage::OrderDeleted { order_id, .. } => {
                self.orders.remove(&order_id);
                self.take_completed(&order_id);
            }
            other => debug!("[OrderFeed] seq {seq}: not an order event: {other:?}"),
        }
        self.prune_acked();
    }

    /// Files a confirmed order where its status puts it.
    fn put(&mut self, order: Arc<Order>) {
        self.take_completed(&order.id);
        if order.status.is_active() {
            self.orders.insert(order.id.clone(), order);
        } else {
            self.orders.remove(&order.id);
            if order.status == OrderStatus::Completed {
                self.completed.push_front(order);
                self.completed.truncate(self.config.recall_limit);
            }
        }
    }

    fn take_completed(&mut self, order_id: &str) -> Option<Arc<Order>> {
        let index = self.completed.iter().position(|o| o.id == order_id)?;
        self.completed.remove(index)
    }

    // -----------------------------------------------------------------------------------------
    // The outbox

    /// Queues `command` for `order_id` under a request id made from `random`, and shows it at once.
    pub fn command(&mut self, order_id: &str, command: Command, random: [u8; 16]) -> Result<String, CommandError> {
        if self.outbox.len() >= self.config.outbox_limit {
            warn!("[OrderFeed] {} on {order_id} refused: outbox full", command.name());
            return Err(CommandError::OutboxFull);
        }
        let Some(order) = self.projected(order_id) else {
            warn!("[OrderFeed] {} on unknown order {order_id} refused", command.name());
            return Err(CommandError::UnknownOrder(order_id.to_string()));
        };
        if !command.allowed_from(order.status) {
            let error = CommandError::NotAllowed { order_id: order_id.to_string(), status: order.status, command };
            warn!("[OrderFeed] {error}");
            return Err(error);
        }
        let request_id = uuid_v4(random);
        info!("[OrderFeed] {} on order #{} queued as {request_id}", command.name(), order.number);
        self.outbox.push(OutboxEntry {
            request_id: request_id.clone(),
            order_id: order_id.to_string(),
            command,
            sent: false,
            acked_seq: None,
        });
        self.touch_outbox();
        Ok(request_id)
    }

    /// The commands not yet sent on this connection, marked as sent.
    pub fn take_unsent(&mut self) -> Vec<ClientMessage> {
        self.outbox
            .iter_mut()
            .filter(|e| !e.sent && e.acked_seq.is_none())
            .map(|e| {
                e.sent = true;
                e.command.to_message(&e.request_id, &e.order_id)
            })
            .collect()
    }

    /// The connection is gone: every unanswered command goes out again on the next one.
    pub fn connection_lost(&mut self) {
        for entry in &mut self.outbox {
            entry.sent = false;
        }
    }

    pub fn handle_ack(&mut self, request_id: &str, seq: u64) {
        let Some(index) = self.outbox.iter().position(|e| e.request_id == request_id) else {
            debug!("[OrderFeed] ack for unknown request {request_id}");
            return;
        };
        debug!("[OrderFeed] {request_id} acknowledged at seq {seq}");
        self.outbox[index].acked_seq = Some(seq);
        self.prune_acked();
        self.touch_outbox();
    }

    /// The hub refused a command: it leaves the outbox, which reverts its optimistic change.
    pub fn handle_command_error(&mut self, request_id: &str, code: &str, message: &str) {
        let Some(index) = self.outbox.iter().position(|e| e.request_id == request_id) else {
            warn!("[OrderFeed] error {code} for unknown request {request_id}: {message}");
            return;
        };
        let entry = self.outbox.remove(index);
        let number =
            self.projected(&entry.order_id).map_or_else(|| entry.order_id.clone(), |o| format!("#{}", o.number));
        let text = format!("Could not {} order {number}: {message} ({code})", entry.command.name());
        warn!("[OrderFeed] {text} [{request_id}]");
        self.failures.push_back(CommandFailure {
            request_id: entry.request_id,
            order_id: entry.order_id,
            message: text,
        });
        while self.failures.len() > FAILURE_LIMIT {
            self.failures.pop_front();
        }
        self.touch_outbox();
    }

    /// Refused commands, oldest first (at most the last ten).
    pub fn failures(&self) -> impl Iterator<Item = &CommandFailure> {
        self.failures.iter()
    }

    pub fn dismiss_failures(&mut self) {
        if !self.failures.is_empty() {
            self.failures.clear();
            self.revision += 1;
        }
    }

    /// Commands still waiting for the hub's answer.
    pub fn pending_commands(&self) -> usize {
        self.outbox.iter().filter(|e| e.acked_seq.is_none()).count()
    }

    /// Changes whenever the persisted outbox would change.
    pub fn outbox_revision(&self) -> u64 {
        self.outbox_revision
    }

    /// The unanswered commands as JSON, for local storage.
    pub fn outbox_json(&self) -> String {
        let unanswered: Vec<&OutboxEntry> = self.outbox.iter().filter(|e| e.acked_seq.is_none()).collect();
        serde_json::to_string(&unanswered).unwrap_or_else(|e| {
            warn!("[OrderFeed] could not serialize the outbox: {e}");
            "[]".to_string()
        })
    }

    /// Adds the commands stored by `outbox_json` (skipping ones already queued); returns how many.
    pub fn restore_outbox(&mut self, json: &str) -> Result<usize, OutboxError> {
        let stored: Vec<OutboxEntry> = serde_json::from_str(json).map_err(|e| {
            warn!("[OrderFeed] stored outbox ignored: {e}");
            OutboxError::Malformed(e.to_string())
        })?;
        let fresh: Vec<OutboxEntry> = stored
            .into_iter()
            .filter(|s| !s.request_id.is_empty() && !s.order_id.is_empty())
            .filter(|s| !self.outbox.iter().any(|e| e.request_id == s.request_id))
            .collect();
        if self.outbox.len() + fresh.len() > self.config.outbox_limit {
            warn!("[OrderFeed] stored outbox of {} commands exceeds the limit; ignored", fresh.len());
            return Err(OutboxError::TooMany(fresh.len()));
        }
        let count = fresh.len();
        self.outbox.extend(fresh);
        if count > 0 {
            info!("[OrderFeed] restored {count} unanswered commands");
            self.touch_outbox();
        }
        Ok(count)
    }

    fn touch_outbox(&mut self) {
        self.revision += 1;
        self.outbox_revision += 1;
    }

    /// An acked command stays laid over the board until its event is applied, so the card never
    /// flickers back to the old state in between.
    fn prune_acked(&mut self) {
        let Some(last) = self.last_seq else { return };
        let before = self.outbox.len();
        self.outbox.retain(|e| e.acked_seq.is_none_or(|seq| seq > last));
        if self.outbox.len() != before {
            self.revision += 1;
        }
    }

    /// Acks for seqs the hub no longer has (it restarted empty) will never be applied.
    fn drop_unknown_acks(&mut self, hub_seq: u64) {
        self.outbox.retain(|e| e.acked_seq.is_none_or(|seq| seq <= hub_seq));
    }

    // -----------------------------------------------------------------------------------------
    // What a screen shows

    /// Confirmed orders (active and recently completed) with the outbox applied, by id, and
    /// whether a command on each is still unanswered.
    fn overlaid(&self) -> BTreeMap<&str, (Arc<Order>, bool)> {
        let mut view: BTreeMap<&str, (Arc<Order>, bool)> =
            self.orders.values().chain(&self.completed).map(|o| (o.id.as_str(), (Arc::clone(o), false))).collect();
        for entry in &self.outbox {
            if let Some((order, pending)) = view.get_mut(entry.order_id.as_str()) {
                // Copy-on-write: only an order with a command in flight is copied.
                entry.command.apply_to(Arc::make_mut(order));
                *pending |= entry.acked_seq.is_none();
            }
        }
        view
    }

    /// Active orders as displayed.
    fn view(&self) -> BTreeMap<&str, (Arc<Order>, bool)> {
        let mut view = self.overlaid();
        view.retain(|_, (order, _)| order.status.is_active());
        view
    }

    /// An order as displayed, active or recently completed.
    fn projected(&self, order_id: &str) -> Option<Order> {
        self.overlaid().remove(order_id).map(|(order, _)| Arc::unwrap_or_clone(order))
    }

    /// The tickets `station` shows at wall-clock `now_unix_ms`: rush first, then oldest first.
    pub fn tickets(&self, station: &Station, now_unix_ms: i64) -> Vec<Ticket> {
        let mut tickets: Vec<Ticket> = self
            .view()
            .into_values()
            .filter_map(|(mut order, pending)| {
                if !order.items.iter().all(|item| station.shows_item(&item.station)) {
                    Arc::make_mut(&mut order).items.retain(|item| station.shows_item(&item.station));
                }
                if order.items.is_empty() {
                    return None;
                }
                let elapsed_ms = created_ms(&order).map_or(0, |c| u64::try_from(now_unix_ms - c).unwrap_or(0));
                let age = self.age_level(elapsed_ms);
                Some(Ticket { order, pending, elapsed_ms, age })
            })
            .collect();
        // Cached: the key parses a timestamp, once per ticket rather than per comparison.
        tickets.sort_by_cached_key(|t| (!t.order.rush, created_ms(&t.order).unwrap_or(i64::MAX), t.order.number));
        tickets
    }

    /// Completed orders that can be recalled, newest first.
    pub fn recallable(&self) -> Vec<Order> {
        let view = self.overlaid();
        self.completed
            .iter()
            .filter_map(|o| view.get(o.id.as_str()).filter(|(shown, _)| shown.status == OrderStatus::Completed))
            .map(|(order, _)| Order::clone(order))
            .collect()
    }

    pub fn age_level(&self, elapsed_ms: u64) -> AgeLevel {
        if elapsed_ms >= self.config.urgent_after_ms {
            AgeLevel::Urgent
        } else if elapsed_ms >= self.config.warning_after_ms {
            AgeLevel::Warning
        } else {
            AgeLevel::Ok
        }
    }

    /// Item name × total quantity over the active tickets `station` shows, most first.
    pub fn all_day(&self, station: &Station) -> Vec<AllDayCount> {
        let view = self.view();
        let mut totals: BTreeMap<&str, u32> = BTreeMap::new();
        for (order, _) in view.values() {
            for item in order.items.iter().filter(|i| station.shows_item(&i.station)) {
                let total = totals.entry(&item.name).or_default();
                *total = total.saturating_add(item.quantity);
            }
        }
        let mut counts: Vec<AllDayCount> =
            totals.into_iter().map(|(name, quantity)| AllDayCount { name: name.to_string(), quantity }).collect();
        counts.sort_by(|a, b| b.quantity.cmp(&a.quantity).then_with(|| a.name.cmp(&b.name)));
        counts
    }
}

fn created_ms(order: &Order) -> Option<i64> {
    parse_rfc3339_millis(&order.created_at)
}

#[cfg(test)]
pub(crate) mod tests {
    use restaurant_protocol::time::format_rfc3339_millis;
    use restaurant_protocol::{OrderItem, OrderSource};

    use super::*;

    /// Wall-clock origin of the tests: orders are created minutes after it.
    pub(crate) const T0: i64 = 1_795_000_000_000;

    pub(crate) fn item(name: &str, station: &str, quantity: u32) -> OrderItem {
        OrderItem {
            id: format!("{name}-{station}"),
            menu_item_id: name.to_lowercase(),
            name: name.to_string(),
            quantity,
            modifiers: Vec::new(),
            special_instructions: None,
            station: station.to_string(),
            allergy: false,
        }
    }

    pub(crate) fn order(id: &str, number: u32, created_min: i64, items: Vec<OrderItem>) -> Order {
        let created = format_rfc3339_millis(T0 + created_min * 60_000);
        Order {
            id: id.to_string(),
            number,
            source: OrderSource::Kiosk,
            status: OrderStatus::New,
            rush: false,
            items,
            notes: String::new(),
            customer_name: None,
            created_at: created.clone(),
            updated_at: created,
        }
    }

    fn burger(id: &str, number: u32) -> Order {
        order(id, number, 0, vec![item("Burger", "grill", 1)])
    }

    fn created(seq: u64, order: Order) -> ServerMessage {
        ServerMessage::OrderCreated { seq, order }
    }

    fn status(seq: u64, id: &str, status: OrderStatus) -> ServerMessage {
        ServerMessage::OrderStatusChanged { seq, order_id: id.into(), status, updated_at: format!("t{seq}") }
    }

    /// A live board at seq `seq` holding `orders`.
    fn live(seq: u64, orders: Vec<Order>) -> Board {
        let mut board = Board::new(BoardConfig::default());
        assert!(board.poll_snapshot_request());
        board.apply_snapshot(Snapshot { seq, orders });
        assert!(board.is_live());
        board
    }

    fn statuses(board: &Board) -> Vec<(String, OrderStatus, bool)> {
        board
            .tickets(&Station::Kitchen, T0)
            .into_iter()
            .map(|t| (t.order.id.clone(), t.order.status, t.pending))
            .collect()
    }

    #[test]
    fn duplicate_events_are_ignored() {
        let mut board = live(5, vec![burger("a", 1)]);
        board.handle_event(status(6, "a", OrderStatus::Preparing));
        let revision = board.revision();
        board.handle_event(status(6, "a", OrderStatus::Ready));
        board.handle_event(created(3, burger("z", 9)));
        assert_eq!(board.revision(), revision);
        assert_eq!(board.last_seq(), Some(6));
        assert_eq!(statuses(&board), vec![("a".into(), OrderStatus::Preparing, false)]);
    }

    #[test]
    fn gap_requests_a_snapshot_then_applies_buffered_newer_events() {
        let mut board = live(5, vec![burger("a", 1)]);
        board.handle_event(created(8, burger("c", 3)));
        assert!(!board.is_live());
        assert!(board.poll_snapshot_request());
        assert!(!board.poll_snapshot_request(), "one fetch at a time");
        board.handle_event(created(9, burger("d", 4)));
        // The snapshot already contains seq 6–8; event 8 in the buffer is older and skipped.
        board.apply_snapshot(Snapshot { seq: 8, orders: vec![burger("a", 1), burger("b", 2), burger("c", 3)] });
        assert!(board.is_live());
        assert_eq!(board.last_seq(), Some(9));
        let ids: Vec<String> = board.confirmed_orders().keys().cloned().collect();
        assert_eq!(ids, ["a", "b", "c", "d"]);
    }

    #[test]
    fn snapshot_older_than_the_buffer_resyncs_again() {
        let mut board = live(5, vec![]);
        board.handle_event(created(9, burger("d", 4)));
        assert!(board.poll_snapshot_request());
        board.apply_snapshot(Snapshot { seq: 7, orders: vec![] });
        assert!(!board.is_live(), "seq 8 is still missing");
        assert!(board.poll_snapshot_request());
        board.apply_snapshot(Snapshot { seq: 8, orders: vec![] });
        assert!(board.is_live());
        assert_eq!(board.last_seq(), Some(9));
    }

    #[test]
    fn failed_snapshot_is_requested_again() {
        let mut board = Board::new(BoardConfig::default());
        assert!(board.poll_snapshot_request());
        board.snapshot_failed();
        assert!(board.poll_snapshot_request());
    }

    #[test]
    fn status_of_an_unknown_active_order_resyncs() {
        let mut board = live(1, vec![]);
        board.handle_event(status(2, "ghost", OrderStatus::Preparing));
        assert!(!board.is_live());
    }

    #[test]
    fn hub_resync_message_needs_a_snapshot() {
        let mut board = live(4, vec![burger("a", 1)]);
        board.handle_resync(10);
        assert!(board.poll_snapshot_request());
        board.apply_snapshot(Snapshot { seq: 10, orders: vec![] });
        assert!(board.confirmed_orders().is_empty());
    }

    #[test]
    fn completed_orders_leave_the_grid_and_can_be_recalled() {
        let mut board = live(1, vec![burger("a", 1)]);
        board.handle_event(status(2, "a", OrderStatus::Preparing));
        board.handle_event(status(3, "a", OrderStatus::Ready));
        board.handle_event(status(4, "a", OrderStatus::Completed));
        assert!(statuses(&board).is_empty());
        assert_eq!(board.recallable().len(), 1);
        board.command("a", Command::Recall, [1; 16]).expect("recall allowed");
        assert_eq!(statuses(&board), vec![("a".into(), OrderStatus::Preparing, true)]);
        assert!(board.recallable().is_empty());
    }

    #[test]
    fn command_is_optimistic_and_pending_until_acked_and_applied() {
        let mut board = live(1, vec![burger("a", 1)]);
        let id = board.command("a", Command::Start, [7; 16]).expect("start allowed");
        assert_eq!(statuses(&board), vec![("a".into(), OrderStatus::Preparing, true)]);
        assert_eq!(board.pending_commands(), 1);
        let sent = board.take_unsent();
        assert_eq!(
            sent,
            vec![ClientMessage::SetStatus {
                request_id: id.clone(),
                order_id: "a".into(),
                status: OrderStatus::Preparing
            }]
        );
        assert!(board.take_unsent().is_empty(), "sent once per connection");
        // The ack can overtake the event: the card keeps the new status meanwhile.
        board.handle_ack(&id, 2);
        assert_eq!(board.pending_commands(), 0);
        assert_eq!(statuses(&board), vec![("a".into(), OrderStatus::Preparing, false)]);
        board.handle_event(status(2, "a", OrderStatus::Preparing));
        assert_eq!(statuses(&board), vec![("a".into(), OrderStatus::Preparing, false)]);
        assert_eq!(board.outbox_json(), "[]");
    }

    #[test]
    fn ack_removes_the_command() {
        let mut board = live(1, vec![burger("a", 1)]);
        board.handle_event(status(2, "a", OrderStatus::Preparing));
        let id = board.command("a", Command::Rush { rush: true }, [2; 16]).expect("rush allowed");
        board.take_unsent();
        board.handle_event(ServerMessage::OrderUpdated {
            seq: 3,
            order: Order { rush: true, status: OrderStatus::Preparing, ..burger("a", 1) },
        });
        board.handle_ack(&id, 3);
        assert_eq!(board.pending_commands(), 0);
        assert_eq!(board.outbox_json(), "[]");
        connection_cycle_sends_nothing(&mut board);
    }

    fn connection_cycle_sends_nothing(board: &mut Board) {
        board.connection_lost();
        assert!(board.take_unsent().is_empty());
    }

    #[test]
    fn acked_command_covered_by_a_snapshot_stops_overlaying() {
        let mut board = live(1, vec![burger("a", 1)]);
        let id = board.command("a", Command::Start, [6; 16]).expect("start allowed");
        board.take_unsent();
        board.handle_resync(1);
        board.handle_ack(&id, 2);
        assert!(board.poll_snapshot_request());
        // By the time of the snapshot the order moved on to ready.
        let mut ready = burger("a", 1);
        ready.status = OrderStatus::Ready;
        board.apply_snapshot(Snapshot { seq: 3, orders: vec![ready] });
        assert_eq!(statuses(&board), vec![("a".into(), OrderStatus::Ready, false)]);
    }

    #[test]
    fn error_reverts_the_optimistic_change_with_a_message() {
        let mut board = live(1, vec![burger("a", 7)]);
        let id = board.command("a", Command::Start, [3; 16]).expect("start allowed");
        board.take_unsent();
        board.handle_command_error(&id, "invalid_transition", "order is cancelled");
        assert_eq!(statuses(&board), vec![("a".into(), OrderStatus::New, false)]);
        assert_eq!(board.pending_commands(), 0);
        let failure = board.failures().next().expect("a failure");
        assert_eq!(failure.request_id, id);
        assert!(
            failure.message.contains("#7") && failure.message.contains("order is cancelled"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn unanswered_commands_are_resent_after_the_connection_is_lost() {
        let mut board = live(1, vec![burger("a", 1)]);
        board.command("a", Command::Start, [4; 16]).expect("start allowed");
        assert_eq!(board.take_unsent().len(), 1);
        board.connection_lost();
        assert_eq!(board.take_unsent().len(), 1);
        assert!(board.take_unsent().is_empty());
    }

    #[test]
    fn invalid_commands_are_refused_locally() {
        let mut board = live(1, vec![burger("a", 1)]);
        assert!(matches!(board.command("a", Command::Ready, [0; 16]), Err(CommandError::NotAllowed { .. })));
        assert_eq!(board.command("nope", Command::Start, [0; 16]), Err(CommandError::UnknownOrder("nope".into())));
        board.command("a", Command::Start, [0; 16]).expect("start allowed");
        assert!(
            matches!(board.command("a", Command::Start, [1; 16]), Err(CommandError::NotAllowed { .. })),
            "a double tap does not queue twice"
        );
        assert_eq!(board.pending_commands(), 1);
    }

    #[test]
    fn outbox_survives_a_reload_through_json() {
        let mut board = live(1, vec![burger("a", 1)]);
        let id = board.command("a", Command::Start, [5; 16]).expect("start allowed");
        board.take_unsent();
        let stored = board.outbox_json();

        let mut reloaded = live(1, vec![burger("a", 1)]);
        assert_eq!(reloaded.restore_outbox(&stored), Ok(1));
        assert_eq!(reloaded.restore_outbox(&stored), Ok(0), "already queued");
        assert_eq!(statuses(&reloaded), vec![("a".into(), OrderStatus::Preparing, true)]);
        assert!(
            matches!(&reloaded.take_unsent()[..], [ClientMessage::SetStatus { request_id, .. }] if *request_id == id)
        );
        assert!(matches!(reloaded.restore_outbox("{not json"), Err(OutboxError::Malformed(_))));
    }

    #[test]
    fn sort_puts_rush_first_then_oldest() {
        let mut rushed = order("r", 3, 8, vec![item("Fries", "fryer", 1)]);
        rushed.rush = true;
        let board = live(
            1,
            vec![
                order("new", 1, 9, vec![item("Fries", "fryer", 1)]),
                order("old", 2, 1, vec![item("Fries", "fryer", 1)]),
                rushed,
            ],
        );
        let ids: Vec<String> = board.tickets(&Station::Kitchen, T0).into_iter().map(|t| t.order.id.clone()).collect();
        assert_eq!(ids, ["r", "old", "new"]);
    }

    #[test]
    fn age_levels_follow_the_configured_thresholds() {
        let board = live(1, vec![order("a", 1, 0, vec![item("Fries", "fryer", 1)])]);
        let age_at = |min: i64| board.tickets(&Station::Kitchen, T0 + min * 60_000)[0].age;
        assert_eq!(age_at(9), AgeLevel::Ok);
        assert_eq!(age_at(10), AgeLevel::Warning);
        assert_eq!(age_at(15), AgeLevel::Urgent);
        assert_eq!(board.tickets(&Station::Kitchen, T0 + 90_500)[0].elapsed_ms, 90_500);

        let custom = Board::new(BoardConfig::with_thresholds_min(2, 4));
        assert_eq!(custom.age_level(2 * 60_000), AgeLevel::Warning);
        assert_eq!(custom.age_level(4 * 60_000), AgeLevel::Urgent);
    }

    #[test]
    fn all_day_counts_sum_quantities_over_active_tickets_by_station() {
        let mut done = order("done", 4, 0, vec![item("Burger", "grill", 9)]);
        done.status = OrderStatus::Completed;
        let board = live(
            1,
            vec![
                order("a", 1, 0, vec![item("Burger", "grill", 2), item("Fries", "fryer", 1)]),
                order("b", 2, 1, vec![item("Burger", "grill", 1), item("Cola", "drinks", 3)]),
                done,
            ],
        );
        let count = |name: &str, quantity| AllDayCount { name: name.into(), quantity };
        assert_eq!(board.all_day(&Station::Kitchen), vec![count("Burger", 3), count("Cola", 3), count("Fries", 1)]);
        assert_eq!(board.all_day(&Station::parse("grill")), vec![count("Burger", 3)]);
    }

    #[test]
    fn station_filter_shows_its_items_and_expo_completes_only_ready() {
        let board = live(
            1,
            vec![
                order("a", 1, 0, vec![item("Burger", "grill", 2), item("Fries", "fryer", 1)]),
                order("b", 2, 1, vec![item("Cola", "drinks", 1)]),
            ],
        );
        let grill = board.tickets(&Station::parse("grill"), T0);
        assert_eq!(grill.len(), 1);
        assert_eq!(grill[0].order.items.len(), 1);
        assert_eq!(board.tickets(&Station::parse("expo"), T0)[0].order.items.len(), 2);
        assert_eq!(board.tickets(&Station::Kitchen, T0).len(), 2);
        assert_eq!(Station::Expo.bump_command(OrderStatus::Ready), Some(Command::Complete));
        assert_eq!(Station::Expo.bump_command(OrderStatus::Preparing), None);
        assert_eq!(Station::parse("grill").bump_command(OrderStatus::Preparing), Some(Command::Ready));
        assert_eq!(Station::Kitchen.bump_command(OrderStatus::Ready), None);
    }
}
