//! The orders store: SQLite (a file in the data folder, or in memory) holding the orders, the event
//! log with its `seq`, idempotency keys, command answers and what is sold out. Every change is one
//! transaction, committed before it is answered.
//!
//! [`Store`] is synchronous; [`StoreHandle`] runs it on a dedicated thread so no SQLite call ever
//! blocks the async runtime, and serializes every change so `seq` order is commit order.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;

use restaurant_protocol::stats::TicketSample;
use restaurant_protocol::time::{format_rfc3339_millis, parse_rfc3339_millis};
use restaurant_protocol::{
    AvailabilityTarget, ErrorCode, ItemStatus, KitchenAction, Order, OrderStatus, RECALL_HISTORY, ServerMessage,
    Snapshot, SoldOut,
};
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::{mpsc, oneshot};

use crate::feed::{Feed, ReplayLimits};
use crate::orders::{CheckedOrder, shown_at};

/// How long an `Idempotency-Key` or a command `request_id` is remembered.
pub const REMEMBER_MS: i64 = 24 * 60 * 60 * 1000;
/// Order numbers called out to customers cycle through 1..=999.
pub const MAX_ORDER_NUMBER: u32 = 999;
/// Statuses of an active order (on a kitchen screen), as stored.
const ACTIVE: &str = "('new','preparing','ready')";
/// Statuses of a finished order (removed by [`Store::remove_finished`] once old).
const FINISHED: &str = "('completed','cancelled')";
const DB_FILE: &str = "hub.sqlite3";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_by_status ON orders(status, created_ms);
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idempotency_by_age ON idempotency(created_ms);
CREATE TABLE IF NOT EXISTS commands (
    request_id TEXT PRIMARY KEY,
    answer TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS commands_by_age ON commands(created_ms);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sold_out (target TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (target, id));
CREATE TABLE IF NOT EXISTS ticket_times (
    order_id TEXT NOT NULL,
    station TEXT NOT NULL,
    placed_ms INTEGER NOT NULL,
    ready_ms INTEGER NOT NULL,
    PRIMARY KEY (order_id, station)
);
CREATE INDEX IF NOT EXISTS ticket_times_by_ready ON ticket_times(ready_ms);
";

/// How long ticket times are kept (the screens ask for today's).
pub const KEEP_TICKET_TIMES_MS: i64 = 3 * 24 * 60 * 60 * 1000;
/// The recall history offers orders placed this long before a snapshot (a day's service; the
/// index on status and creation time keeps the query short however long orders are kept).
pub const RECALL_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;
/// The station name under which a whole order's time is stored.
const WHOLE_ORDER: &str = "";

/// Where the database lives.
#[derive(Debug, Clone)]
pub enum Location {
    Memory,
    /// `hub.sqlite3` inside this folder (created if missing).
    Folder(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot create data folder {}: {source}", path.display())]
    CreateFolder { path: PathBuf, source: std::io::Error },
    #[error("idempotency key names missing order {0}")]
    MissingOrder(String),
    #[error("not an order event")]
    NotAnEvent,
    #[error("cannot start the store thread: {0}")]
    StartThread(std::io::Error),
    #[error("the store thread ended while opening")]
    ThreadEnded,
}

/// One order event as sent on the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub seq: u64,
    pub json: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    New {
        order: Order,
        event: Event,
    },
    /// The `Idempotency-Key` was seen before: the order it created, unchanged.
    Existing(Order),
}

/// The answer to a command (an `ack` or an `error` frame) and the event it produced, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Answered {
    pub answer: ServerMessage,
    pub event: Option<Event>,
}

pub struct Store {
    conn: Connection,
    file: bool,
    window: Window,
    last_seq: u64,
    last_number: u32,
    /// What is marked sold out at run time (the `sold_out` table), sorted.
    sold_out: SoldOut,
    /// The seq of the last `menu.updated` event, if there was one.
    last_menu_seq: Option<u64>,
}

/// What [`Store::remove_finished`] removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Removed {
    pub orders: u64,
    /// The events up to this seq left the replay log (they named a removed order).
    pub events_through: Option<u64>,
}

/// The `(seq, bytes)` of every event in the log, oldest first: the log keeps the newest events
/// within [`ReplayLimits`].
struct Window {
    events: VecDeque<(u64, usize)>,
    bytes: usize,
    limits: ReplayLimits,
}

impl Window {
    /// The seq through which old events must go for a new event of `len` bytes to fit.
    fn cutoff_for(&self, len: usize) -> Option<u64> {
        let (mut count, mut bytes) = (self.events.len() + 1, self.bytes + len);
        let mut cutoff = None;
        for &(seq, old) in &self.events {
            if self.limits.hold(count, bytes) {
                break;
            }
            (count, bytes, cutoff) = (count - 1, bytes - old, Some(seq));
        }
        cutoff
    }

    fn forget_through(&mut self, seq: u64) {
        while let Some(&(first, len)) = self.events.front() {
            if first > seq {
                break;
            }
            self.events.pop_front();
            self.bytes -= len;
        }
    }

    /// A committed event, after the events through `cutoff` were deleted.
    fn push(&mut self, event: &Event, cutoff: Option<u64>) {
        if let Some(cutoff) = cutoff {
            self.forget_through(cutoff);
        }
        self.events.push_back((event.seq, event.json.len()));
        self.bytes += event.json.len();
    }
}

impl Store {
    /// Opens (or creates) the database; the event log keeps the newest events within `replay`.
    pub fn open(location: &Location, replay: ReplayLimits) -> Result<Store, StoreError> {
        let (conn, file) = match location {
            Location::Memory => (Connection::open_in_memory()?, false),
            Location::Folder(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|source| StoreError::CreateFolder { path: dir.clone(), source })?;
                let conn = Connection::open(dir.join(DB_FILE))?;
                conn.pragma_update(None, "journal_mode", "WAL")?;
                conn.pragma_update(None, "synchronous", "FULL")?;
                (conn, true)
            }
        };
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        let last_seq = meta(&conn, "last_seq")?;
        let last_number = u32::try_from(meta(&conn, "last_number")?).unwrap_or(0);
        let mut window = Window { events: VecDeque::new(), bytes: 0, limits: replay };
        {
            let mut stmt = conn.prepare("SELECT seq, length(CAST(body AS BLOB)) FROM events ORDER BY seq")?;
            for row in stmt.query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as usize)))? {
                let (seq, len) = row?;
                window.events.push_back((seq, len));
                window.bytes += len;
            }
        }
        // The limits may be smaller than when the log was written.
        let mut cutoff = None;
        while !replay.hold(window.events.len(), window.bytes) && window.events.len() > 1 {
            cutoff = window.events.front().map(|&(seq, _)| seq);
            if let Some(seq) = cutoff {
                window.forget_through(seq);
            }
        }
        if let Some(seq) = cutoff {
            conn.execute("DELETE FROM events WHERE seq <= ?1", params![seq as i64])?;
        }
        let sold_out = load_sold_out(&conn)?;
        let last_menu_seq = optional_meta(&conn, "last_menu_seq")?;
        Ok(Store { conn, file, window, last_seq, last_number, sold_out, last_menu_seq })
    }

    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// What is marked sold out at run time (not what the menu file marks unavailable), sorted.
    pub fn sold_out(&self) -> &SoldOut {
        &self.sold_out
    }

    /// The seq of the last `menu.updated` event, if there was one.
    pub fn last_menu_seq(&self) -> Option<u64> {
        self.last_menu_seq
    }

    /// The list the last `menu.updated` announced, while that event is still in the replay log.
    pub fn last_announced(&self) -> Result<Option<SoldOut>, StoreError> {
        let Some(seq) = self.last_menu_seq else { return Ok(None) };
        let body: Option<String> = self
            .conn
            .query_row("SELECT body FROM events WHERE seq = ?1", params![seq as i64], |r| r.get(0))
            .optional()?;
        Ok(match body.map(|b| serde_json::from_str::<ServerMessage>(&b)).transpose()? {
            Some(ServerMessage::MenuUpdated { sold_out, .. }) => Some(sold_out),
            _ => None,
        })
    }

    /// Replaces the sold-out list with `sold_out` and logs `menu.updated` carrying `effective`
    /// (everything unavailable, the menu file's included), in one transaction.
    pub fn set_sold_out(&mut self, sold_out: SoldOut, effective: SoldOut) -> Result<Event, StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM sold_out", [])?;
        for (target, ids) in
            [(AvailabilityTarget::Item, &sold_out.items), (AvailabilityTarget::Option, &sold_out.options)]
        {
            for id in ids {
                tx.execute(
                    "INSERT OR IGNORE INTO sold_out (target, id) VALUES (?1, ?2)",
                    params![target_name(target), id],
                )?;
            }
        }
        let seq = self.last_seq + 1;
        let event = append_event(&tx, ServerMessage::MenuUpdated { seq, sold_out: effective })?;
        set_meta(&tx, "last_menu_seq", seq)?;
        let cutoff = trim_log(&tx, &self.window, &event)?;
        tx.commit()?;
        self.window.push(&event, cutoff);
        self.last_seq = seq;
        self.last_menu_seq = Some(seq);
        self.sold_out = sold_out;
        Ok(event)
    }

    /// The events still in the replay log, oldest first.
    pub fn recent_events(&self) -> Result<Vec<Event>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT seq, body FROM events ORDER BY seq")?;
        let rows = stmt.query_map([], |r| Ok(Event { seq: r.get::<_, i64>(0)? as u64, json: r.get(1)? }))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// The order an `Idempotency-Key` created within the last [`REMEMBER_MS`], if any.
    pub fn order_for_key(&self, key: &str, now_ms: i64) -> Result<Option<Order>, StoreError> {
        let known: Option<String> = self
            .conn
            .query_row(
                "SELECT order_id FROM idempotency WHERE key = ?1 AND created_ms >= ?2",
                params![key, now_ms - REMEMBER_MS],
                |r| r.get(0),
            )
            .optional()?;
        match known {
            Some(id) => Ok(Some(load_order(&self.conn, &id)?.ok_or(StoreError::MissingOrder(id))?)),
            None => Ok(None),
        }
    }

    /// How many orders are active (new, preparing or ready).
    pub fn active_orders(&self) -> Result<u64, StoreError> {
        let n: i64 =
            self.conn.query_row(&format!("SELECT COUNT(*) FROM orders WHERE status IN {ACTIVE}"), [], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }

    /// Removes the finished orders (completed or cancelled) created before `before_ms`, the
    /// idempotency keys that name them, and the replay log up to the last event that names one
    /// of them (so the log stays contiguous: a client from before gets `resync`). Also drops the
    /// idempotency keys and command answers older than [`REMEMBER_MS`]. `seq` is unchanged.
    pub fn remove_finished(&mut self, before_ms: i64, now_ms: i64) -> Result<Removed, StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute_batch("CREATE TEMP TABLE IF NOT EXISTS swept (id TEXT PRIMARY KEY); DELETE FROM swept;")?;
        let orders = tx.execute(
            &format!("INSERT INTO swept (id) SELECT id FROM orders WHERE status IN {FINISHED} AND created_ms < ?1"),
            params![before_ms],
        )? as u64;
        let events_through: Option<i64> = tx.query_row(
            "SELECT MAX(seq) FROM events WHERE COALESCE(json_extract(body, '$.order.id'), \
             json_extract(body, '$.order_id')) IN (SELECT id FROM swept)",
            [],
            |r| r.get(0),
        )?;
        if let Some(seq) = events_through {
            tx.execute("DELETE FROM events WHERE seq <= ?1", params![seq])?;
        }
        tx.execute("DELETE FROM idempotency WHERE order_id IN (SELECT id FROM swept)", [])?;
        tx.execute("DELETE FROM orders WHERE id IN (SELECT id FROM swept)", [])?;
        tx.execute("DELETE FROM swept", [])?;
        tx.execute("DELETE FROM idempotency WHERE created_ms < ?1", params![now_ms - REMEMBER_MS])?;
        tx.execute("DELETE FROM commands WHERE created_ms < ?1", params![now_ms - REMEMBER_MS])?;
        tx.commit()?;
        let events_through = events_through.map(|seq| seq as u64);
        if let Some(seq) = events_through {
            self.window.forget_through(seq);
        }
        Ok(Removed { orders, events_through })
    }

    /// Active orders (new, preparing, ready) shown at `station`, oldest first, as of `last_seq`,
    /// with the recall history: the orders placed in the [`RECALL_WINDOW_MS`] before `now_ms`
    /// and completed, most recently completed first.
    pub fn snapshot(&self, station: Option<&str>, now_ms: i64) -> Result<Snapshot, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT body FROM orders WHERE status IN ('new','preparing','ready') ORDER BY created_ms, rowid",
        )?;
        let mut orders = Vec::new();
        for body in stmt.query_map([], |r| r.get::<_, String>(0))? {
            let order = read_order(&body?)?;
            if shown_at(&order, station) {
                orders.push(order);
            }
        }
        let mut recent = Vec::new();
        let mut stmt = self.conn.prepare(
            "SELECT body FROM orders WHERE status = 'completed' AND created_ms >= ?1 ORDER BY \
             COALESCE(json_extract(body, '$.completed_at'), json_extract(body, '$.updated_at')) DESC, rowid DESC",
        )?;
        let mut rows = stmt.query(params![now_ms - RECALL_WINDOW_MS])?;
        while recent.len() < RECALL_HISTORY {
            let Some(row) = rows.next()? else { break };
            let order = read_order(&row.get::<_, String>(0)?)?;
            if shown_at(&order, station) {
                recent.push(order);
            }
        }
        Ok(Snapshot { seq: self.last_seq, orders, sold_out: None, recent })
    }

    /// One stored order.
    pub fn order(&self, id: &str) -> Result<Option<Order>, StoreError> {
        load_order(&self.conn, id)
    }

    /// The ticket times of spans that became ready in `[since_ms, until_ms)`.
    pub fn ticket_samples(&self, since_ms: i64, until_ms: i64) -> Result<Vec<TicketSample>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT station, placed_ms, ready_ms FROM ticket_times WHERE ready_ms >= ?1 AND ready_ms < ?2")?;
        let rows = stmt.query_map(params![since_ms, until_ms], |r| {
            let station: String = r.get(0)?;
            Ok(TicketSample {
                station: (station != WHOLE_ORDER).then_some(station),
                placed_ms: r.get(1)?,
                ready_ms: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Stores a checked order under `key` (or returns the order that key already created).
    pub fn create_order(
        &mut self,
        key: &str,
        order_id: String,
        checked: CheckedOrder,
        now_ms: i64,
    ) -> Result<Created, StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM idempotency WHERE created_ms < ?1", params![now_ms - REMEMBER_MS])?;
        let known: Option<String> =
            tx.query_row("SELECT order_id FROM idempotency WHERE key = ?1", params![key], |r| r.get(0)).optional()?;
        if let Some(id) = known {
            let order = load_order(&tx, &id)?.ok_or(StoreError::MissingOrder(id))?;
            return Ok(Created::Existing(order));
        }
        let number = self.last_number % MAX_ORDER_NUMBER + 1;
        let order = checked.into_order(order_id, number, now_ms);
        tx.execute(
            "INSERT INTO orders (id, status, created_ms, body) VALUES (?1, ?2, ?3, ?4)",
            params![order.id, order.status.as_str(), now_ms, serde_json::to_string(&order)?],
        )?;
        tx.execute(
            "INSERT INTO idempotency (key, order_id, created_ms) VALUES (?1, ?2, ?3)",
            params![key, order.id, now_ms],
        )?;
        set_meta(&tx, "last_number", u64::from(number))?;
        let seq = self.last_seq + 1;
        let event = append_event(&tx, ServerMessage::OrderCreated { seq, order: order.clone() })?;
        let cutoff = trim_log(&tx, &self.window, &event)?;
        tx.commit()?;
        self.window.push(&event, cutoff);
        self.last_seq = seq;
        self.last_number = number;
        Ok(Created::New { order, event })
    }

    /// Applies `action`, asked for by `by` (a station, or `manager`), once per `request_id`: a
    /// repeated id gets the stored answer and changes nothing. A change is one `order.updated`
    /// event carrying the whole order; the ticket times it settles are recorded with it.
    pub fn apply(
        &mut self,
        request_id: &str,
        order_id: &str,
        action: &KitchenAction,
        by: &str,
        now_ms: i64,
    ) -> Result<Answered, StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM commands WHERE created_ms < ?1", params![now_ms - REMEMBER_MS])?;
        let known: Option<String> = tx
            .query_row("SELECT answer FROM commands WHERE request_id = ?1", params![request_id], |r| r.get(0))
            .optional()?;
        if let Some(answer) = known {
            return Ok(Answered { answer: serde_json::from_str(&answer)?, event: None });
        }
        let error =
            |code, message: String| ServerMessage::Error { request_id: Some(request_id.to_string()), code, message };
        let mut event = None;
        let mut cutoff = None;
        let answer = match load_order(&tx, order_id)? {
            None => error(ErrorCode::NotFound, format!("no order {order_id:?}")),
            Some(before) => {
                let mut order = before.clone();
                match order.apply_action(action, by, &format_rfc3339_millis(now_ms)) {
                    Err(refused) => error(ErrorCode::InvalidTransition, refused.to_string()),
                    Ok(false) => ServerMessage::Ack { request_id: request_id.to_string(), seq: self.last_seq },
                    Ok(true) => {
                        tx.execute(
                            "UPDATE orders SET status = ?1, body = ?2 WHERE id = ?3",
                            params![order.status.as_str(), serde_json::to_string(&order)?, order.id],
                        )?;
                        record_ticket_times(&tx, &before, &order, now_ms)?;
                        let seq = self.last_seq + 1;
                        let appended = append_event(&tx, ServerMessage::OrderUpdated { seq, order })?;
                        cutoff = trim_log(&tx, &self.window, &appended)?;
                        event = Some(appended);
                        ServerMessage::Ack { request_id: request_id.to_string(), seq }
                    }
                }
            }
        };
        tx.execute(
            "INSERT INTO commands (request_id, answer, created_ms) VALUES (?1, ?2, ?3)",
            params![request_id, serde_json::to_string(&answer)?, now_ms],
        )?;
        tx.commit()?;
        if let Some(e) = &event {
            self.window.push(e, cutoff);
            self.last_seq = e.seq;
        }
        Ok(Answered { answer, event })
    }

    /// Writes everything to the main database file (no-op in memory).
    pub fn flush(&self) -> Result<(), StoreError> {
        if self.file {
            self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        Ok(())
    }
}

/// Keeps `ticket_times` in step with a change from `before` to `after`: a station whose items
/// all became ready (or the whole order) gets its span; one recalled loses it; a voided order
/// loses all of its. A force-completed order that never was ready counts as ready when it left.
fn record_ticket_times(conn: &Connection, before: &Order, after: &Order, now_ms: i64) -> Result<(), StoreError> {
    conn.execute("DELETE FROM ticket_times WHERE ready_ms < ?1", params![now_ms - KEEP_TICKET_TIMES_MS])?;
    if after.status == OrderStatus::Cancelled {
        conn.execute("DELETE FROM ticket_times WHERE order_id = ?1", params![after.id])?;
        return Ok(());
    }
    let Some(placed_ms) = parse_rfc3339_millis(&after.created_at) else {
        tracing::warn!(order = %after.id, created_at = %after.created_at, "unreadable creation time: no ticket time");
        return Ok(());
    };
    let ready = |order: &Order, station: &str| order.station_status(station) == Some(ItemStatus::Ready);
    // The whole order is done when it is ready or completed (a forced completion counts then);
    // completing a ready order or bringing a completed one back as ready keeps its time.
    let done = |order: &Order| matches!(order.status, OrderStatus::Ready | OrderStatus::Completed);
    let spans = after.stations().into_iter().map(|s| (s, ready(before, s), ready(after, s)));
    for (station, was_ready, is_ready) in spans.chain([(WHOLE_ORDER, done(before), done(after))]) {
        if is_ready && !was_ready {
            conn.execute(
                "INSERT OR REPLACE INTO ticket_times (order_id, station, placed_ms, ready_ms) VALUES (?1, ?2, ?3, ?4)",
                params![after.id, station, placed_ms, now_ms],
            )?;
        } else if was_ready && !is_ready {
            conn.execute("DELETE FROM ticket_times WHERE order_id = ?1 AND station = ?2", params![after.id, station])?;
        }
    }
    Ok(())
}

fn load_order(conn: &Connection, id: &str) -> Result<Option<Order>, StoreError> {
    let body: Option<String> =
        conn.query_row("SELECT body FROM orders WHERE id = ?1", params![id], |r| r.get(0)).optional()?;
    body.map(|body| read_order(&body)).transpose()
}

/// A stored order, its items given statuses if it was stored before items had them.
fn read_order(body: &str) -> Result<Order, StoreError> {
    let mut order: Order = serde_json::from_str(body)?;
    order.give_items_their_status();
    Ok(order)
}

fn append_event(conn: &Connection, message: ServerMessage) -> Result<Event, StoreError> {
    let seq = message.event_seq().ok_or(StoreError::NotAnEvent)?;
    let json = serde_json::to_string(&message)?;
    conn.execute("INSERT INTO events (seq, body) VALUES (?1, ?2)", params![seq as i64, json])?;
    set_meta(conn, "last_seq", seq)?;
    Ok(Event { seq, json })
}

/// Deletes the oldest events that no longer fit the replay window with `event` in it; the seq
/// through which they went, for [`Window::push`] once committed.
fn trim_log(conn: &Connection, window: &Window, event: &Event) -> Result<Option<u64>, StoreError> {
    let cutoff = window.cutoff_for(event.json.len());
    if let Some(seq) = cutoff {
        conn.execute("DELETE FROM events WHERE seq <= ?1", params![seq as i64])?;
    }
    Ok(cutoff)
}

fn meta(conn: &Connection, name: &str) -> Result<u64, StoreError> {
    Ok(optional_meta(conn, name)?.unwrap_or(0))
}

fn optional_meta(conn: &Connection, name: &str) -> Result<Option<u64>, StoreError> {
    let v: Option<i64> =
        conn.query_row("SELECT value FROM meta WHERE name = ?1", params![name], |r| r.get(0)).optional()?;
    Ok(v.map(|v| v.max(0) as u64))
}

fn target_name(target: AvailabilityTarget) -> &'static str {
    match target {
        AvailabilityTarget::Item => "item",
        AvailabilityTarget::Option => "option",
    }
}

/// The `sold_out` table as a sorted list (rows of an unknown target are skipped).
fn load_sold_out(conn: &Connection) -> Result<SoldOut, StoreError> {
    let mut stmt = conn.prepare("SELECT target, id FROM sold_out ORDER BY target, id")?;
    let mut sold_out = SoldOut::default();
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
        let (target, id) = row?;
        match target.as_str() {
            "item" => sold_out.items.push(id),
            "option" => sold_out.options.push(id),
            other => tracing::warn!(target = other, %id, "unknown sold-out row skipped"),
        }
    }
    Ok(sold_out)
}

fn set_meta(conn: &Connection, name: &str, value: u64) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO meta (name, value) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
        params![name, value as i64],
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The store thread

type Job = Box<dyn FnOnce(&mut Store) + Send>;

enum Msg {
    Run(Job),
    Close,
}

/// The store is closed (the hub is shutting down) or its thread is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the store is closed")]
pub struct StoreClosed;

/// Cheap to clone; every call runs on the store thread, one at a time.
#[derive(Clone)]
pub struct StoreHandle {
    tx: mpsc::Sender<Msg>,
}

/// Owner of the store thread: [`StoreThread::close`] flushes and waits for it to end.
pub struct StoreThread {
    tx: mpsc::Sender<Msg>,
    done: oneshot::Receiver<()>,
}

impl StoreHandle {
    /// Opens the store on its own thread; `init` runs there first, with the opened store.
    pub async fn start<T: Send + 'static>(
        location: Location,
        replay: ReplayLimits,
        init: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<(StoreHandle, StoreThread, T), StoreError> {
        let (tx, mut rx) = mpsc::channel::<Msg>(1024);
        let (opened_tx, opened_rx) = oneshot::channel();
        let (done_tx, done_rx) = oneshot::channel();
        std::thread::Builder::new()
            .name("hub-store".into())
            .spawn(move || {
                let mut store = match Store::open(&location, replay).and_then(|mut s| init(&mut s).map(|t| (s, t))) {
                    Ok((store, t)) => {
                        let _ = opened_tx.send(Ok(t));
                        store
                    }
                    Err(e) => {
                        let _ = opened_tx.send(Err(e));
                        return;
                    }
                };
                while let Some(msg) = rx.blocking_recv() {
                    match msg {
                        Msg::Run(job) => job(&mut store),
                        Msg::Close => break,
                    }
                }
                rx.close();
                match store.flush() {
                    Ok(()) => tracing::info!("flushed and closed"),
                    Err(e) => tracing::error!("flush on close failed: {e}"),
                }
                drop(store);
                let _ = done_tx.send(());
            })
            .map_err(StoreError::StartThread)?;
        let init = opened_rx.await.map_err(|_| StoreError::ThreadEnded)??;
        Ok((StoreHandle { tx: tx.clone() }, StoreThread { tx, done: done_rx }, init))
    }

    /// Runs `f` on the store thread and returns its result.
    pub async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> R + Send + 'static,
    ) -> Result<R, StoreClosed> {
        self.run(move |store, answer| {
            let _ = answer.send(f(store));
        })
        .await
    }

    /// Runs `f` on the store thread, answers with its result, then publishes to `feed` the
    /// events `f` committed (pushed to its second argument, only once committed: whatever `f`
    /// returns, what it pushed is published). They are published on the store thread before the
    /// next call runs, so clients get them in `seq` order. The caller is woken first: its answer
    /// does not wait for the runtime to run every screen the events wake.
    pub async fn call_publishing<R: Send + 'static>(
        &self,
        feed: &Arc<Feed>,
        f: impl FnOnce(&mut Store, &mut Vec<Event>) -> R + Send + 'static,
    ) -> Result<R, StoreClosed> {
        let feed = feed.clone();
        self.run(move |store, answer| {
            let mut committed = Vec::new();
            let _ = answer.send(f(store, &mut committed));
            for event in &committed {
                feed.publish(event);
            }
        })
        .await
    }

    async fn run<R: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Store, oneshot::Sender<R>) + Send + 'static,
    ) -> Result<R, StoreClosed> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |store| job(store, tx));
        self.tx.send(Msg::Run(job)).await.map_err(|_| StoreClosed)?;
        rx.await.map_err(|_| StoreClosed)
    }
}

impl StoreThread {
    /// Finishes the queued calls, flushes the database and ends the thread.
    pub async fn close(self) {
        if self.tx.send(Msg::Close).await.is_err() {
            tracing::warn!("the store thread had already stopped");
        }
        let _ = self.done.await;
    }
}

#[cfg(test)]
mod tests {
    use restaurant_protocol::{NewOrder, NewOrderItem, OrderSource, TaxRule};

    use super::*;
    use crate::menu::{LiveMenu, MenuBook};
    use crate::orders::check;

    fn events(n: usize) -> ReplayLimits {
        ReplayLimits { events: n, bytes: usize::MAX }
    }

    fn checked(item: &str) -> CheckedOrder {
        let menu = LiveMenu::new(&MenuBook::load(None).unwrap(), None, &SoldOut::default(), TaxRule::default());
        let order = NewOrder {
            items: vec![NewOrderItem::plain(item, 1)],
            source: OrderSource::Kiosk,
            customer_name: None,
            notes: None,
        };
        check(&menu, &order).unwrap()
    }

    fn create(store: &mut Store, key: &str, id: &str) -> Order {
        match store.create_order(key, id.into(), checked("cheeseburger"), 1_000).unwrap() {
            Created::New { order, .. } | Created::Existing(order) => order,
        }
    }

    fn ack_seq(a: &Answered) -> u64 {
        match a.answer {
            ServerMessage::Ack { seq, .. } => seq,
            ref other => panic!("expected ack, got {other:?}"),
        }
    }

    fn error_code(a: &Answered) -> ErrorCode {
        match a.answer {
            ServerMessage::Error { code, .. } => code,
            ref other => panic!("expected error, got {other:?}"),
        }
    }

    #[test]
    fn creating_orders_numbers_them_and_logs_an_event_each() {
        let mut store = Store::open(&Location::Memory, events(100)).unwrap();
        let Created::New { order, event } = store.create_order("k1", "o1".into(), checked("cheeseburger"), 5).unwrap()
        else {
            panic!("expected a new order")
        };
        assert_eq!((order.number, event.seq, store.last_seq()), (1, 1, 1));
        assert_eq!(
            ServerMessage::parse(&event.json).unwrap(),
            ServerMessage::OrderCreated { seq: 1, order: order.clone() }
        );
        assert_eq!(create(&mut store, "k2", "o2").number, 2);
        assert_eq!(store.snapshot(None, 10_000).unwrap().orders.len(), 2);
    }

    #[test]
    fn the_same_idempotency_key_returns_the_same_order_without_a_new_event() {
        let mut store = Store::open(&Location::Memory, events(100)).unwrap();
        let first = create(&mut store, "k", "o1");
        let again = store.create_order("k", "o-other".into(), checked("fries-small"), 2_000).unwrap();
        assert_eq!(again, Created::Existing(first));
        assert_eq!(store.last_seq(), 1);
        assert_eq!(store.snapshot(None, 10_000).unwrap().orders.len(), 1);
    }

    #[test]
    fn idempotency_keys_expire_after_a_day() {
        let mut store = Store::open(&Location::Memory, events(100)).unwrap();
        create(&mut store, "k", "o1");
        let later = 1_000 + REMEMBER_MS + 1;
        assert!(matches!(
            store.create_order("k", "o2".into(), checked("cheeseburger"), later).unwrap(),
            Created::New { .. }
        ));
    }

    fn start() -> KitchenAction {
        KitchenAction::Start { station: "kitchen".into() }
    }

    fn bump() -> KitchenAction {
        KitchenAction::Bump { station: "kitchen".into() }
    }

    fn void() -> KitchenAction {
        KitchenAction::Void { reason: "customer left".into() }
    }

    const COMPLETE: KitchenAction = KitchenAction::Complete { force: false };

    fn act(store: &mut Store, request_id: &str, order_id: &str, action: KitchenAction, now_ms: i64) -> Answered {
        store.apply(request_id, order_id, &action, "kitchen", now_ms).unwrap()
    }

    #[test]
    fn actions_follow_the_kitchen_rules_and_each_change_is_one_order_updated() {
        let mut store = Store::open(&Location::Memory, events(100)).unwrap();
        create(&mut store, "k", "o1");
        let bad = act(&mut store, "r1", "o1", COMPLETE, 2);
        assert_eq!((error_code(&bad), bad.event), (ErrorCode::InvalidTransition, None));
        let ok = act(&mut store, "r2", "o1", start(), 3);
        assert_eq!(ack_seq(&ok), 2);
        let ServerMessage::OrderUpdated { seq: 2, order } = ServerMessage::parse(&ok.event.unwrap().json).unwrap()
        else {
            panic!("expected order.updated")
        };
        assert_eq!((order.status, order.items[0].status), (OrderStatus::Preparing, ItemStatus::Preparing));
        assert_eq!(order.started_at.as_deref(), Some("1970-01-01T00:00:00.003Z"));
        let recall = KitchenAction::Recall { station: None };
        assert_eq!(error_code(&act(&mut store, "r3", "o1", recall.clone(), 4)), ErrorCode::InvalidTransition);
        assert_eq!(error_code(&act(&mut store, "r4", "nope", recall.clone(), 4)), ErrorCode::NotFound);
        ack_seq(&act(&mut store, "s1", "o1", bump(), 5));
        ack_seq(&act(&mut store, "s2", "o1", COMPLETE, 5));
        let snapshot = store.snapshot(None, 10_000).unwrap();
        assert!(snapshot.orders.is_empty(), "completed orders leave the active orders");
        assert_eq!(snapshot.recent.len(), 1, "and are kept for recall");
        ack_seq(&act(&mut store, "recall", "o1", recall, 6));
        assert_eq!(store.snapshot(None, 10_000).unwrap().orders[0].status, OrderStatus::Ready);
    }

    #[test]
    fn a_repeated_request_id_returns_the_first_answer_and_changes_nothing() {
        let mut store = Store::open(&Location::Memory, events(100)).unwrap();
        create(&mut store, "k", "o1");
        let first = act(&mut store, "r", "o1", start(), 2);
        let again = act(&mut store, "r", "o1", void(), 3);
        assert_eq!((again.answer, again.event), (first.answer, None));
        assert_eq!(store.snapshot(None, 10_000).unwrap().orders[0].status, OrderStatus::Preparing);
        assert_eq!(store.last_seq(), 2);
    }

    #[test]
    fn rush_updates_the_order_and_a_no_op_rush_acks_without_an_event() {
        let mut store = Store::open(&Location::Memory, events(100)).unwrap();
        create(&mut store, "k", "o1");
        let rushed = act(&mut store, "r1", "o1", KitchenAction::Rush { rush: true }, 2);
        assert!(matches!(
            ServerMessage::parse(&rushed.event.unwrap().json).unwrap(),
            ServerMessage::OrderUpdated { seq: 2, order } if order.rush
        ));
        let again = act(&mut store, "r2", "o1", KitchenAction::Rush { rush: true }, 3);
        assert_eq!((ack_seq(&again), again.event), (2, None));
        ack_seq(&act(&mut store, "r3", "o1", void(), 4));
        let late = act(&mut store, "r4", "o1", KitchenAction::Rush { rush: false }, 5);
        assert_eq!(error_code(&late), ErrorCode::InvalidTransition);
        let ServerMessage::Error { message, .. } = late.answer else { panic!() };
        assert_eq!(message, "order #1 was voided: customer left");
    }

    #[test]
    fn ticket_times_are_recorded_per_station_and_overall_and_leave_with_a_recall_or_a_void() {
        let mut store = Store::open(&Location::Memory, events(100)).unwrap();
        let at = |s: i64| 1_000 + s * 1_000;
        let with = |items: &[&str]| {
            let menu = LiveMenu::new(&MenuBook::load(None).unwrap(), None, &SoldOut::default(), TaxRule::default());
            let items = items.iter().map(|i| NewOrderItem::plain(*i, 1)).collect();
            check(&menu, &NewOrder { items, source: OrderSource::Kiosk, customer_name: None, notes: None }).unwrap()
        };
        store.create_order("k1", "o1".into(), with(&["cheeseburger", "fries-small"]), at(0)).unwrap();
        let by = |station: &str| KitchenAction::Bump { station: station.into() };
        store.apply("a", "o1", &by("grill"), "grill", at(60)).unwrap();
        let samples = |store: &Store| {
            let mut s: Vec<(Option<String>, i64)> = store
                .ticket_samples(0, i64::MAX)
                .unwrap()
                .into_iter()
                .map(|t| (t.station, t.ready_ms - t.placed_ms))
                .collect();
            s.sort();
            s
        };
        assert_eq!(samples(&store), [(Some("grill".into()), 60_000)]);
        store.apply("b", "o1", &by("fryer"), "fryer", at(90)).unwrap();
        assert_eq!(samples(&store), [(None, 90_000), (Some("fryer".into()), 90_000), (Some("grill".into()), 60_000)]);
        let recall = KitchenAction::Recall { station: Some("fryer".into()) };
        store.apply("c", "o1", &recall, "fryer", at(100)).unwrap();
        assert_eq!(samples(&store), [(Some("grill".into()), 60_000)], "the recalled station and the order reopen");
        store.apply("d", "o1", &by("fryer"), "fryer", at(120)).unwrap();
        store.apply("e", "o1", &COMPLETE, "expo", at(130)).unwrap();
        assert_eq!(samples(&store).len(), 3, "completing keeps them");
        assert_eq!(samples(&store)[0], (None, 120_000));
        // Expo brings the completed order back: it is as ready as it was, its time unchanged.
        store.apply("e2", "o1", &KitchenAction::Recall { station: None }, "expo", at(600)).unwrap();
        assert_eq!(samples(&store)[0], (None, 120_000), "not counted again as ready later");
        store.apply("e3", "o1", &COMPLETE, "expo", at(610)).unwrap();
        // The grill recalls its part of the completed order: the order and the grill reopen.
        store.apply("e4", "o1", &KitchenAction::Recall { station: Some("grill".into()) }, "grill", at(700)).unwrap();
        assert_eq!(samples(&store), [(Some("fryer".into()), 120_000)]);
        store.apply("e5", "o1", &by("grill"), "grill", at(720)).unwrap();
        assert_eq!(samples(&store).len(), 3);

        store.create_order("k2", "o2".into(), with(&["fries-small"]), at(0)).unwrap();
        store.apply("f", "o2", &KitchenAction::Complete { force: true }, "expo", at(300)).unwrap();
        assert!(samples(&store).contains(&(None, 300_000)), "a forced completion counts when it left");
        store.create_order("k3", "o3".into(), with(&["fries-small"]), at(0)).unwrap();
        store.apply("g", "o3", &by("fryer"), "fryer", at(30)).unwrap();
        assert_eq!(samples(&store).len(), 6);
        store.apply("h", "o3", &void(), "expo", at(40)).unwrap();
        assert_eq!(samples(&store).len(), 4, "a void takes its times out");
        let window = store.ticket_samples(at(700), at(721)).unwrap();
        assert_eq!(window.len(), 2, "by ready time: the grill, and the order with it, at 720 s");
    }

    #[test]
    fn recall_history_is_the_newest_completed_orders_at_the_station() {
        let mut store = Store::open(&Location::Memory, events(1000)).unwrap();
        for i in 0..(RECALL_HISTORY + 5) {
            let id = format!("o{i}");
            create(&mut store, &format!("k{i}"), &id);
            act(&mut store, &format!("b{i}"), &id, bump(), 10 + i as i64);
            act(&mut store, &format!("c{i}"), &id, COMPLETE, 10_000 - i as i64);
        }
        let recent = store.snapshot(Some("grill"), 10_000).unwrap().recent;
        assert_eq!(recent.len(), RECALL_HISTORY);
        assert_eq!(recent[0].id, "o0", "the most recently completed first");
        assert!(store.snapshot(Some("drinks"), 10_000).unwrap().recent.is_empty(), "a station sees its own");
    }

    #[test]
    fn the_event_log_keeps_only_the_replay_window() {
        let mut store = Store::open(&Location::Memory, events(3)).unwrap();
        for i in 0..5 {
            create(&mut store, &format!("k{i}"), &format!("o{i}"));
        }
        let seqs: Vec<u64> = store.recent_events().unwrap().iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [3, 4, 5]);
    }

    #[test]
    fn the_event_log_is_bounded_in_bytes_too_also_when_reopened_with_smaller_limits() {
        let dir = tempfile::tempdir().unwrap();
        let location = Location::Folder(dir.path().to_path_buf());
        let mut store = Store::open(&location, events(100)).unwrap();
        for i in 0..5 {
            create(&mut store, &format!("k{i}"), &format!("o{i}"));
        }
        let sizes: Vec<usize> = store.recent_events().unwrap().iter().map(|e| e.json.len()).collect();
        let two = sizes[3] + sizes[4];
        drop(store);
        let mut store = Store::open(&location, ReplayLimits { events: 100, bytes: two }).unwrap();
        let seqs = |store: &Store| store.recent_events().unwrap().iter().map(|e| e.seq).collect::<Vec<_>>();
        assert_eq!(seqs(&store), [4, 5]);
        create(&mut store, "k5", "o5");
        assert_eq!(seqs(&store), [5, 6]);
        assert_eq!(store.last_seq(), 6);
    }

    #[test]
    fn active_orders_and_keys_are_counted_and_found() {
        let mut store = Store::open(&Location::Memory, events(100)).unwrap();
        assert_eq!(store.active_orders().unwrap(), 0);
        let first = create(&mut store, "k1", "o1");
        create(&mut store, "k2", "o2");
        act(&mut store, "r1", "o2", void(), 2_000);
        assert_eq!(store.active_orders().unwrap(), 1);
        assert_eq!(store.order_for_key("k1", 2_000).unwrap(), Some(first));
        assert_eq!(store.order_for_key("k3", 2_000).unwrap(), None);
        assert_eq!(store.order_for_key("k1", 1_000 + REMEMBER_MS + 1).unwrap(), None, "forgotten after a day");
    }

    #[test]
    fn old_finished_orders_are_removed_with_their_keys_and_events_and_seq_goes_on() {
        let day = 24 * 60 * 60 * 1000;
        let mut store = Store::open(&Location::Memory, events(100)).unwrap();
        // o1 completed and o2 cancelled long ago; o3 active long ago; o4 completed recently.
        for (i, at) in [(1, 0), (2, 0), (3, 0), (4, 40 * day)] {
            store.create_order(&format!("k{i}"), format!("o{i}"), checked("cheeseburger"), at).unwrap();
        }
        for (r, (id, action)) in [
            ("o1", start()),
            ("o1", bump()),
            ("o1", COMPLETE),
            ("o2", void()),
            ("o4", start()),
            ("o4", bump()),
            ("o4", COMPLETE),
        ]
        .into_iter()
        .enumerate()
        {
            ack_seq(&act(&mut store, &format!("r{r}"), id, action, 40 * day));
        }
        let last = store.last_seq();
        let now = 41 * day;
        let removed = store.remove_finished(now - 30 * day, now).unwrap();
        // The last event naming o1 or o2 is o2's cancel, seq 8.
        assert_eq!(removed, Removed { orders: 2, events_through: Some(8) });
        let seqs: Vec<u64> = store.recent_events().unwrap().iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [9, 10, 11]);
        assert_eq!(store.last_seq(), last);
        assert_eq!(store.order_for_key("k1", 0).unwrap(), None);
        assert!(load_order(&store.conn, "o1").unwrap().is_none() && load_order(&store.conn, "o2").unwrap().is_none());
        assert!(load_order(&store.conn, "o3").unwrap().is_some() && load_order(&store.conn, "o4").unwrap().is_some());
        let Created::New { event, .. } = store.create_order("k1", "o5".into(), checked("cheeseburger"), now).unwrap()
        else {
            panic!("k1 was removed with its order")
        };
        assert_eq!(event.seq, last + 1);
        assert_eq!(store.remove_finished(now - 30 * day, now).unwrap(), Removed::default());
    }

    #[test]
    fn everything_survives_reopening_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let location = Location::Folder(dir.path().join("data"));
        {
            let mut store = Store::open(&location, events(100)).unwrap();
            create(&mut store, "k", "o1");
            act(&mut store, "r", "o1", start(), 2);
            store.flush().unwrap();
        }
        let mut store = Store::open(&location, events(100)).unwrap();
        assert_eq!(store.last_seq(), 2);
        assert_eq!(store.recent_events().unwrap().len(), 2);
        assert!(
            matches!(store.create_order("k", "o9".into(), checked("cheeseburger"), 3).unwrap(), Created::Existing(o) if o.id == "o1")
        );
        assert_eq!(act(&mut store, "r", "o1", void(), 4).event, None);
        assert_eq!(create(&mut store, "k2", "o2").number, 2);
        assert_eq!(store.snapshot(None, 10_000).unwrap().orders[0].status, OrderStatus::Preparing);
    }

    fn sold(items: &[&str], options: &[&str]) -> SoldOut {
        SoldOut {
            items: items.iter().map(|s| s.to_string()).collect(),
            options: options.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn the_sold_out_list_is_logged_in_the_event_sequence_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let location = Location::Folder(dir.path().to_path_buf());
        {
            let mut store = Store::open(&location, events(100)).unwrap();
            assert_eq!((store.sold_out(), store.last_menu_seq()), (&SoldOut::default(), None));
            create(&mut store, "k", "o1");
            let event = store.set_sold_out(sold(&["cola"], &["bacon"]), sold(&["cola", "pie"], &["bacon"])).unwrap();
            assert_eq!(event.seq, 2);
            assert_eq!(
                ServerMessage::parse(&event.json).unwrap(),
                ServerMessage::MenuUpdated { seq: 2, sold_out: sold(&["cola", "pie"], &["bacon"]) }
            );
            assert_eq!(create(&mut store, "k2", "o2").number, 2);
            assert_eq!(store.last_seq(), 3);
        }
        let mut store = Store::open(&location, events(100)).unwrap();
        assert_eq!(
            (store.sold_out(), store.last_menu_seq(), store.last_seq()),
            (&sold(&["cola"], &["bacon"]), Some(2), 3)
        );
        let seqs: Vec<u64> = store.recent_events().unwrap().iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [1, 2, 3]);
        store.set_sold_out(SoldOut::default(), SoldOut::default()).unwrap();
        drop(store);
        let store = Store::open(&location, events(100)).unwrap();
        assert_eq!((store.sold_out(), store.last_menu_seq()), (&SoldOut::default(), Some(4)));
    }

    #[test]
    fn a_data_folder_from_before_the_sold_out_list_opens_and_its_orders_still_load() {
        let dir = tempfile::tempdir().unwrap();
        {
            // The schema and an order exactly as an earlier hub wrote them.
            let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
            conn.execute_batch(&SCHEMA.replace(
                "CREATE TABLE IF NOT EXISTS sold_out (target TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (target, id));",
                "",
            ))
            .unwrap();
            let old = r#"{"id":"o1","number":1,"source":"kiosk","status":"new","rush":false,"items":[{"id":"o1-1",
                "menu_item_id":"cheeseburger","name":"Cheeseburger","quantity":1,"modifiers":["no onions"],
                "special_instructions":null,"station":"grill","allergy":true}],"notes":"","customer_name":null,
                "created_at":"2026-11-21T00:00:00.000Z","updated_at":"2026-11-21T00:00:00.000Z"}"#;
            conn.execute("INSERT INTO orders (id, status, created_ms, body) VALUES ('o1', 'new', 1, ?1)", params![old])
                .unwrap();
            conn.execute("INSERT INTO meta (name, value) VALUES ('last_seq', 1), ('last_number', 1)", []).unwrap();
        }
        let mut store = Store::open(&Location::Folder(dir.path().to_path_buf()), events(100)).unwrap();
        let orders = store.snapshot(None, 10_000).unwrap().orders;
        assert_eq!(orders.len(), 1);
        assert_eq!(orders[0].items[0].name, "Cheeseburger");
        assert!(orders[0].items[0].options.is_empty() && orders[0].totals == Default::default());
        assert_eq!(store.sold_out(), &SoldOut::default());
        assert_eq!(store.set_sold_out(sold(&["cola"], &[]), sold(&["cola"], &[])).unwrap().seq, 2);
        assert_eq!(create(&mut store, "k", "o2").number, 2);
        let recalled = act(&mut store, "r", "o1", start(), 5);
        assert_eq!(ack_seq(&recalled), 4, "an old order still takes commands");
    }

    #[test]
    fn snapshots_filter_by_station() {
        let mut store = Store::open(&Location::Memory, events(100)).unwrap();
        create(&mut store, "k1", "o1");
        store.create_order("k2", "o2".into(), checked("fries-small"), 2_000).unwrap();
        let ids =
            |s: Option<&str>| store.snapshot(s, 10_000).unwrap().orders.into_iter().map(|o| o.id).collect::<Vec<_>>();
        assert_eq!(ids(Some("grill")), ["o1"]);
        assert_eq!(ids(Some("fryer")), ["o2"]);
        assert_eq!(ids(Some("kitchen")), ["o1", "o2"]);
        assert!(ids(Some("drinks")).is_empty());
    }

    #[tokio::test]
    async fn the_store_thread_answers_calls_and_flushes_on_close() {
        let (handle, thread, last) =
            StoreHandle::start(Location::Memory, events(10), |s| Ok(s.last_seq())).await.unwrap();
        assert_eq!(last, 0);
        assert_eq!(handle.call(|s| s.last_seq() + 41).await, Ok(41));
        thread.close().await;
        assert_eq!(handle.call(|s| s.last_seq()).await, Err(StoreClosed));
    }

    #[tokio::test]
    async fn a_change_is_answered_and_its_events_are_published_in_order_before_the_next_call() {
        let (handle, thread, ()) = StoreHandle::start(Location::Memory, events(10), |_| Ok(())).await.unwrap();
        let feed = Arc::new(Feed::new(0, Vec::new(), events(10), 10));
        let (_, _, screen) = feed.subscribe(None);
        let created = handle
            .call_publishing(&feed, |store, committed| {
                let mut numbers = Vec::new();
                for key in ["a", "b"] {
                    match store.create_order(key, format!("o-{key}"), checked("cheeseburger"), 1_000).unwrap() {
                        Created::New { order, event } => {
                            numbers.push(order.number);
                            committed.push(event);
                        }
                        Created::Existing(_) => panic!("a new key made no order"),
                    }
                }
                numbers
            })
            .await;
        assert_eq!(created, Ok(vec![1, 2]));
        // Published on the store thread after the answer, and before any later call runs.
        assert_eq!(handle.call(|s| s.last_seq()).await, Ok(2));
        let seqs: Vec<Option<u64>> = screen
            .queue()
            .take()
            .iter()
            .map(|frame| serde_json::from_str::<ServerMessage>(frame.as_str()).ok().and_then(|m| m.event_seq()))
            .collect();
        assert_eq!(seqs, [Some(1), Some(2)]);
        assert_eq!(feed.last_seq(), 2);
        thread.close().await;
    }
}
