//! The kitchen display's per-frame board work, natively (`bench` feature; `cargo xtask bench`
//! runs it): a 1000-order board taking 500 updates a second, read once a frame (60 a second) as the
//! page reads it. Each frame the board is copied (the page publishes a copy), and the screen's kept
//! grid and its new-ticket alerts are brought up to the copy twice: once following the orders the
//! board says changed, once walking every order (what they did before the board said, and still do
//! when it cannot). The two run in turn, frame by frame, so the machine's noise falls on both
//! (the second each frame finds the copy in the cache the first warmed). The updates are the page
//! benchmark's: rush on and off, round robin, so no order is new. Prints one `BENCH {json}` line
//! with the figures per frame, in microseconds.

use std::time::{Duration, Instant};

use restaurant_protocol::{Order, ServerMessage, Snapshot};
use restaurant_web::core::alerts::{AlertsUpdate, NewTicketAlerts};
use restaurant_web::core::board::{Board, BoardConfig, Station, TicketGrid};
use restaurant_web::core::time::Millis;
use serde_json::json;

const ORDERS: usize = 1000;
const UPDATES_PER_FRAME: usize = 8;
const FRAMES: usize = 1800;
const FRAME_MS: u64 = 16;
/// The wall clock at the start (Unix ms): the orders were created over the half hour before.
const START_UNIX_MS: u64 = 1_800_000_000_000;

fn order(n: usize) -> Order {
    let created =
        restaurant_protocol::time::format_rfc3339_millis((START_UNIX_MS - 1_800_000 + n as u64 * 1_700) as i64);
    serde_json::from_value(json!({
        "id": format!("order-{n:04}"),
        "number": n + 1,
        "source": "kiosk",
        "status": "new",
        "items": [
            {"id": format!("{n}-1"), "menu_item_id": "burger", "name": "Burger", "quantity": 2, "station": "grill"},
            {"id": format!("{n}-2"), "menu_item_id": "fries", "name": "Fries", "quantity": 1, "station": "fryer"},
        ],
        "created_at": created,
        "updated_at": created,
    }))
    .expect("a well-formed order")
}

/// The figures of one way of following the board, a sample a frame.
struct Way {
    grid: Vec<Duration>,
    alerts: Vec<Duration>,
}

impl Way {
    fn new() -> Way {
        Way { grid: Vec::with_capacity(FRAMES), alerts: Vec::with_capacity(FRAMES) }
    }

    /// Brings `grid` and `alerts` up to `board`; returns what the alerts said.
    fn run(&mut self, grid: &mut TicketGrid, alerts: &mut NewTicketAlerts, board: &Board, at: Millis) -> AlertsUpdate {
        let started = Instant::now();
        std::hint::black_box(grid.update(board, &Station::Kitchen, at));
        let updated = Instant::now();
        let update = std::hint::black_box(alerts.handle_board(at, board, &Station::Kitchen));
        let done = Instant::now();
        self.grid.push(updated - started);
        self.alerts.push(done - updated);
        update
    }
}

/// `(p50, p99, mean)` in microseconds.
fn stats(samples: &mut [Duration]) -> (f64, f64, f64) {
    samples.sort_unstable();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let at = |q: f64| us(samples[((samples.len() - 1) as f64 * q).round() as usize]);
    let mean = samples.iter().map(|d| us(*d)).sum::<f64>() / samples.len() as f64;
    (at(0.5), at(0.99), mean)
}

fn main() {
    let mut board = Board::new(BoardConfig::default());
    assert!(board.poll_snapshot_request());
    let mut orders: Vec<Order> = (0..ORDERS).map(order).collect();
    board.apply_snapshot(Snapshot { seq: 1, orders: orders.clone(), sold_out: None, recent: vec![] });
    let mut seq = 1;
    let (mut following, mut walking) = (Way::new(), Way::new());
    let (mut follow_grid, mut follow_alerts) = (TicketGrid::default(), NewTicketAlerts::new());
    let (mut walk_grid, mut walk_alerts) = (TicketGrid::default(), NewTicketAlerts::new());
    let mut copies = Vec::with_capacity(FRAMES);
    let mut next = 0;
    for frame in 0..=FRAMES {
        // The updates of a frame: rush on and off, round robin (as the page benchmark's hub sends).
        if frame > 0 {
            for _ in 0..UPDATES_PER_FRAME {
                let order = &mut orders[next % ORDERS];
                order.rush = !order.rush;
                seq += 1;
                board.handle_event(ServerMessage::OrderUpdated { seq, order: order.clone() });
                next += 1;
            }
        }
        let started = Instant::now();
        let published = board.clone();
        if frame > 0 {
            copies.push(started.elapsed());
        }
        // The page's clock moves once a second.
        let at = Millis(START_UNIX_MS + (frame as u64 * FRAME_MS) / 1000 * 1000);
        walk_grid.forget_board();
        walk_alerts.forget_board();
        if frame == 0 {
            // The first look walks the board either way: not counted.
            let _ = Way::new().run(&mut follow_grid, &mut follow_alerts, &published, at);
            let _ = Way::new().run(&mut walk_grid, &mut walk_alerts, &published, at);
            continue;
        }
        let (a, b) = if frame % 2 == 0 {
            (
                following.run(&mut follow_grid, &mut follow_alerts, &published, at),
                walking.run(&mut walk_grid, &mut walk_alerts, &published, at),
            )
        } else {
            let b = walking.run(&mut walk_grid, &mut walk_alerts, &published, at);
            (following.run(&mut follow_grid, &mut follow_alerts, &published, at), b)
        };
        assert_eq!(a, b, "both ways' alerts say the same");
        assert_eq!(follow_grid.display_order(), walk_grid.display_order(), "both ways show the same tickets in order");
        assert_eq!(follow_grid.version(), walk_grid.version(), "and say the same changed");
    }
    let (grid_follow, grid_walk) = (stats(&mut following.grid), stats(&mut walking.grid));
    let (alerts_follow, alerts_walk) = (stats(&mut following.alerts), stats(&mut walking.alerts));
    let copy = stats(&mut copies);
    let line = json!({
        "bench": "kds_board",
        "orders": ORDERS,
        "updates_per_frame": UPDATES_PER_FRAME,
        "frames": FRAMES,
        "grid_follow_us": [grid_follow.0, grid_follow.1, grid_follow.2],
        "grid_walk_us": [grid_walk.0, grid_walk.1, grid_walk.2],
        "alerts_follow_us": [alerts_follow.0, alerts_follow.1, alerts_follow.2],
        "alerts_walk_us": [alerts_walk.0, alerts_walk.1, alerts_walk.2],
        "copy_us": [copy.0, copy.1, copy.2],
    });
    println!("BENCH {line}");
}
