//! WebSocket close codes of the order feed (`/ws`), used by the hub and the pages alike.
//!
//! 1000–1011 are RFC 6455's; 4000–4999 are the application's own (see `docs/protocol.md`).

/// A normal, intentional close.
pub const NORMAL: u16 = 1000;
/// The hub is shutting down.
pub const GOING_AWAY: u16 = 1001;
/// A frame over [`crate::MAX_WS_FRAME_BYTES`].
pub const TOO_BIG: u16 = 1009;
/// An internal error while applying a command (it may be resent with the same `request_id`).
pub const INTERNAL_ERROR: u16 = 1011;
/// A page gives up on a socket (connect or heartbeat timeout, socket error).
pub const UNRESPONSIVE: u16 = 4000;
/// Authentication failed (after an `auth_failed` frame).
pub const AUTH_FAILED: u16 = 4001;
/// The hub heard nothing from the connection within its heartbeat timeout.
pub const IDLE: u16 = 4002;
/// No accepted `hello` within the hub's hello deadline (10 s by default): reconnect and send it.
pub const HELLO_TIMEOUT: u16 = 4003;
