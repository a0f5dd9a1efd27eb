//! The orders store: SQLite (a file in the data folder, or in memory) holding the orders, the event
//! log with its `seq`, idempotency keys, command answers and what is sold out. Every change is one
//! transaction, committed before it is answered.
//!
//! [`Store`] is synchronous; [`StoreHandle`] runs it on a dedicated thread so no SQLite call ever
//! blocks the async runtime, and serializes every change so `seq` order is commit order.

use std::collections::VecDeque;
use std::path::PathBuf;

use restaurant_protocol::time::format_rfc3339_millis;
use restaurant_protocol::{AvailabilityTarget, ErrorCode, Order, OrderStatus, ServerMessage, Snapshot, SoldOut};
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::{mpsc, oneshot};

use crate::feed::ReplayLimits;
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
";

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

/// A change a KDS asks for over the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    SetStatus(OrderStatus),
    Recall,
    Rush(bool),
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

    /// Active orders (new, preparing, ready) shown at `station`, oldest first, as of `last_seq`.
    pub fn snapshot(&self, station: Option<&str>) -> Result<Snapshot, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT body FROM orders WHERE status IN ('new','preparing','ready') ORDER BY created_ms, rowid",
        )?;
        let mut orders = Vec::new();
        for body in stmt.query_map([], |r| r.get::<_, String>(0))? {
            let order: Order = serde_json::from_str(&body?)?;
            if shown_at(&order, station) {
                orders.push(order);
            }
        }
        Ok(Snapshot { seq: self.last_seq, orders, sold_out: None })
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

    /// Applies a command once per `request_id`: a repeated id gets the stored answer and changes nothing.
    pub fn apply(
        &mut self,
        request_id: &str,
        order_id: &str,
        change: Change,
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
            Some(mut order) => match next_state(&order, change) {
                Err(refused) => error(ErrorCode::InvalidTransition, refused.to_string()),
                Ok(None) => ServerMessage::Ack { request_id: request_id.to_string(), seq: self.last_seq },
                Ok(Some((status, rush))) => {
                    order.status = status;
                    order.rush = rush;
                    order.updated_at = format_rfc3339_millis(now_ms);
                    tx.execute(
                        "UPDATE orders SET status = ?1, body = ?2 WHERE id = ?3",
                        params![status.as_str(), serde_json::to_string(&order)?, order.id],
                    )?;
                    let seq = self.last_seq + 1;
                    let message = match change {
                        Change::Rush(_) => ServerMessage::OrderUpdated { seq, order },
                        Change::SetStatus(_) | Change::Recall => ServerMessage::OrderStatusChanged {
                            seq,
                            order_id: order.id,
                            status,
                            updated_at: order.updated_at,
                        },
                    };
                    let appended = append_event(&tx, message)?;
                    cutoff = trim_log(&tx, &self.window, &appended)?;
                    event = Some(appended);
                    ServerMessage::Ack { request_id: request_id.to_string(), seq }
                }
            },
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

/// A change the order's status does not allow (answered as `invalid_transition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
enum InvalidTransition {
    #[error("cannot go from {} to {}", from.as_str(), to.as_str())]
    Status { from: OrderStatus, to: OrderStatus },
    #[error("cannot recall an order that is {}", .0.as_str())]
    Recall(OrderStatus),
    #[error("cannot rush an order that is {}", .0.as_str())]
    Rush(OrderStatus),
}

/// The (status, rush) a change leads to; `Ok(None)` when it changes nothing (rush already set).
fn next_state(order: &Order, change: Change) -> Result<Option<(OrderStatus, bool)>, InvalidTransition> {
    let from = order.status;
    match change {
        Change::SetStatus(to) if from.can_set(to) => Ok(Some((to, order.rush))),
        Change::SetStatus(to) => Err(InvalidTransition::Status { from, to }),
        Change::Recall if from.can_recall() => Ok(Some((OrderStatus::Preparing, order.rush))),
        Change::Recall => Err(InvalidTransition::Recall(from)),
        Change::Rush(_) if !from.is_active() => Err(InvalidTransition::Rush(from)),
        Change::Rush(rush) if rush == order.rush => Ok(None),
        Change::Rush(rush) => Ok(Some((from, rush))),
    }
}

fn load_order(conn: &Connection, id: &str) -> Result<Option<Order>, StoreError> {
    let body: Option<String> =
        conn.query_row("SELECT body FROM orders WHERE id = ?1", params![id], |r| r.get(0)).optional()?;
    Ok(match body {
        Some(body) => Some(serde_json::from_str(&body)?),
        None => None,
    })
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
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |store| {
            let _ = tx.send(f(store));
        });
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
        assert_eq!(store.snapshot(None).unwrap().orders.len(), 2);
    }

    #[test]
    fn the_same_idempotency_key_returns_the_same_order_without_a_new_event() {
        let mut store = Store::open(&Location::Memory, events(100)).unwrap();
        let first = create(&mut store, "k", "o1");
        let again = store.create_order("k", "o-other".into(), checked("fries-small"), 2_000).unwrap();
        assert_eq!(again, Created::Existing(first));
        assert_eq!(store.last_seq(), 1);
        assert_eq!(store.snapshot(None).unwrap().orders.len(), 1);
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

    #[test]
    fn status_changes_follow_the_transition_rules() {
        let mut store = Store::open(&Location::Memory, events(100)).unwrap();
        create(&mut store, "k", "o1");
        let bad = store.apply("r1", "o1", Change::SetStatus(OrderStatus::Ready), 2).unwrap();
        assert_eq!((error_code(&bad), bad.event), (ErrorCode::InvalidTransition, None));
        let ok = store.apply("r2", "o1", Change::SetStatus(OrderStatus::Preparing), 3).unwrap();
        assert_eq!(ack_seq(&ok), 2);
        assert!(matches!(
            ServerMessage::parse(&ok.event.unwrap().json).unwrap(),
            ServerMessage::OrderStatusChanged { seq: 2, status: OrderStatus::Preparing, .. }
        ));
        assert_eq!(error_code(&store.apply("r3", "o1", Change::Recall, 4).unwrap()), ErrorCode::InvalidTransition);
        assert_eq!(error_code(&store.apply("r4", "nope", Change::Recall, 4).unwrap()), ErrorCode::NotFound);
        for (i, to) in [OrderStatus::Ready, OrderStatus::Completed].into_iter().enumerate() {
            ack_seq(&store.apply(&format!("s{i}"), "o1", Change::SetStatus(to), 5).unwrap());
        }
        assert!(store.snapshot(None).unwrap().orders.is_empty(), "completed orders leave the snapshot");
        ack_seq(&store.apply("recall", "o1", Change::Recall, 6).unwrap());
        assert_eq!(store.snapshot(None).unwrap().orders[0].status, OrderStatus::Preparing);
    }

    #[test]
    fn a_repeated_request_id_returns_the_first_answer_and_changes_nothing() {
        let mut store = Store::open(&Location::Memory, events(100)).unwrap();
        create(&mut store, "k", "o1");
        let first = store.apply("r", "o1", Change::SetStatus(OrderStatus::Preparing), 2).unwrap();
        let again = store.apply("r", "o1", Change::SetStatus(OrderStatus::Cancelled), 3).unwrap();
        assert_eq!((again.answer, again.event), (first.answer, None));
        assert_eq!(store.snapshot(None).unwrap().orders[0].status, OrderStatus::Preparing);
        assert_eq!(store.last_seq(), 2);
    }

    #[test]
    fn rush_updates_the_order_and_a_no_op_rush_acks_without_an_event() {
        let mut store = Store::open(&Location::Memory, events(100)).unwrap();
        create(&mut store, "k", "o1");
        let rushed = store.apply("r1", "o1", Change::Rush(true), 2).unwrap();
        assert!(matches!(
            ServerMessage::parse(&rushed.event.unwrap().json).unwrap(),
            ServerMessage::OrderUpdated { seq: 2, order } if order.rush
        ));
        let again = store.apply("r2", "o1", Change::Rush(true), 3).unwrap();
        assert_eq!((ack_seq(&again), again.event), (2, None));
        ack_seq(&store.apply("r3", "o1", Change::SetStatus(OrderStatus::Cancelled), 4).unwrap());
        assert_eq!(error_code(&store.apply("r4", "o1", Change::Rush(false), 5).unwrap()), ErrorCode::InvalidTransition);
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
        store.apply("r1", "o2", Change::SetStatus(OrderStatus::Cancelled), 2_000).unwrap();
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
        for (r, (id, to)) in [
            ("o1", OrderStatus::Preparing),
            ("o1", OrderStatus::Ready),
            ("o1", OrderStatus::Completed),
            ("o2", OrderStatus::Cancelled),
            ("o4", OrderStatus::Preparing),
            ("o4", OrderStatus::Ready),
            ("o4", OrderStatus::Completed),
        ]
        .into_iter()
        .enumerate()
        {
            ack_seq(&store.apply(&format!("r{r}"), id, Change::SetStatus(to), 40 * day).unwrap());
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
            store.apply("r", "o1", Change::SetStatus(OrderStatus::Preparing), 2).unwrap();
            store.flush().unwrap();
        }
        let mut store = Store::open(&location, events(100)).unwrap();
        assert_eq!(store.last_seq(), 2);
        assert_eq!(store.recent_events().unwrap().len(), 2);
        assert!(
            matches!(store.create_order("k", "o9".into(), checked("cheeseburger"), 3).unwrap(), Created::Existing(o) if o.id == "o1")
        );
        assert_eq!(store.apply("r", "o1", Change::SetStatus(OrderStatus::Cancelled), 4).unwrap().event, None);
        assert_eq!(create(&mut store, "k2", "o2").number, 2);
        assert_eq!(store.snapshot(None).unwrap().orders[0].status, OrderStatus::Preparing);
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
        let orders = store.snapshot(None).unwrap().orders;
        assert_eq!(orders.len(), 1);
        assert_eq!(orders[0].items[0].name, "Cheeseburger");
        assert!(orders[0].items[0].options.is_empty() && orders[0].totals == Default::default());
        assert_eq!(store.sold_out(), &SoldOut::default());
        assert_eq!(store.set_sold_out(sold(&["cola"], &[]), sold(&["cola"], &[])).unwrap().seq, 2);
        assert_eq!(create(&mut store, "k", "o2").number, 2);
        let recalled = store.apply("r", "o1", Change::SetStatus(OrderStatus::Preparing), 5).unwrap();
        assert_eq!(ack_seq(&recalled), 4, "an old order still takes commands");
    }

    #[test]
    fn snapshots_filter_by_station() {
        let mut store = Store::open(&Location::Memory, events(100)).unwrap();
        create(&mut store, "k1", "o1");
        store.create_order("k2", "o2".into(), checked("fries-small"), 2_000).unwrap();
        let ids = |s: Option<&str>| store.snapshot(s).unwrap().orders.into_iter().map(|o| o.id).collect::<Vec<_>>();
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
}
