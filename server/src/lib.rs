//! The hub: the local backend the kiosk and KDS pages talk to.
//!
//! It serves the built pages (`/kiosk` the kiosk's, `/kds` the KDS's, any other path the chooser's), the runtime
//! `config.json`, the HTTP API under `/api/v1` (menu, PIN sign-in, orders) and the order-feed
//! WebSocket at `/ws` (which also carries the staff call signalling), backed by a SQLite store. See `docs/protocol.md`.
//!
//! [`Hub`] owns everything that lives as long as the server: the store thread, the feed, the
//! connection tasks. Other modules can `.merge()` their routes into [`Hub::router`] and observe
//! [`Hub::shutdown_token`] / spawn owned tasks on [`Hub::tasks`] before [`Hub::serve`].

mod api;
mod auth;
mod call;
mod devices;
mod error;
mod feed;
mod fsutil;
mod guard;
mod hub;
pub mod limits;
mod load;
mod menu;
mod orders;
pub mod pins;
mod settings;
mod state;
mod static_files;
mod store;
mod sync;
pub mod tls;
pub mod voice;
mod ws;

pub use guard::QUOTES_PER_MINUTE;
pub use hub::{Hub, Listeners, RunningHub, SHUTDOWN_GRACE, StartError, run, shutdown_signal};
pub use settings::{Limits, Mode, Secret, Settings, TlsSetting};
pub use state::AppState;
