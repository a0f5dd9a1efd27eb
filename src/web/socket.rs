//! RAII WebSocket. Handlers are attached in the constructor, before the socket can fire anything;
//! `Drop` detaches them and closes with 1000. Every construction increments
//! `window.__dbgWS.connectCount`; `window.__dbgWS.openSockets` counts live wrappers.

use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{CloseEvent, Event, MessageEvent, WebSocket};

use super::debug::bump_counter;
use crate::core::link::{AttemptId, SocketCommand, SocketInput};
use crate::core::time::Millis;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketEvent {
    Open,
    /// A text frame. Binary frames are logged and dropped (the protocol is text only).
    Message(String),
    Close {
        code: u16,
        reason: String,
        was_clean: bool,
    },
    Error,
}

#[must_use = "dropping the socket closes it"]
pub struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

impl Socket {
    /// Opens `url`; every event goes to `on_event`, synchronously, from the first one on.
    pub fn open(url: &str, on_event: impl Fn(SocketEvent) + 'static) -> Result<Socket, String> {
        let ws = WebSocket::new(url)
            .map_err(|e| format!("cannot open WebSocket to {url}: {}", super::js_error_message(&e)))?;
        bump_counter("__dbgWS", "connectCount", 1.0);
        bump_counter("__dbgWS", "openSockets", 1.0);
        let sink: Rc<dyn Fn(SocketEvent)> = Rc::new(on_event);

        let s = sink.clone();
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_: Event| s(SocketEvent::Open));
        let s = sink.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| match e.data().as_string() {
            Some(text) => s(SocketEvent::Message(text)),
            None => log::error!("[Socket] dropped a non-text frame"),
        });
        let s = sink.clone();
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            s(SocketEvent::Close { code: e.code(), reason: e.reason(), was_clean: e.was_clean() })
        });
        let s = sink;
        let on_error = Closure::<dyn FnMut(Event)>::new(move |_: Event| s(SocketEvent::Error));

        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        ws.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(Socket { ws, _on_open: on_open, _on_message: on_message, _on_close: on_close, _on_error: on_error })
    }

    pub fn is_open(&self) -> bool {
        self.ws.ready_state() == WebSocket::OPEN
    }

    pub fn send(&self, text: &str) -> Result<(), String> {
        if !self.is_open() {
            return Err("socket is not open".into());
        }
        self.ws.send_with_str(text).map_err(|e| super::js_error_message(&e))
    }

    /// Closes with `code`; handlers stay attached, so the `Close` event still arrives.
    pub fn close(&self, code: u16, reason: &str) {
        if let Err(e) = self.ws.close_with_code_and_reason(code, reason) {
            log::error!("[Socket] close({code}) failed: {}", super::js_error_message(&e));
        }
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        self.ws.set_onerror(None);
        let state = self.ws.ready_state();
        if state == WebSocket::CONNECTING || state == WebSocket::OPEN {
            let _ = self.ws.close_with_code_and_reason(1000, "client closed");
        }
        bump_counter("__dbgWS", "openSockets", -1.0);
    }
}

/// The socket of a link's current attempt (`core::link` numbers them). A new attempt replaces
/// whatever socket is left; a frame to send or a close for an attempt that is no longer current
/// is dropped; a socket that closes by itself is forgotten. Incoming events carry their attempt
/// to the machine, whose link ignores stale ones. `component` prefixes the log lines.
#[must_use = "dropping it closes the current socket"]
pub struct AttemptSocket {
    current: Option<(AttemptId, Socket)>,
    component: &'static str,
}

impl AttemptSocket {
    pub fn new(component: &'static str) -> AttemptSocket {
        AttemptSocket { current: None, component }
    }

    /// Opens `url` for `attempt`. Every event goes to `on_event`, which hands it back to
    /// [`AttemptSocket::deliver`] together with the machine that owns the attempt.
    fn open(&mut self, url: &str, attempt: AttemptId, on_event: impl Fn(SocketEvent) + 'static) -> Result<(), String> {
        self.current = None;
        self.current = Some((attempt, Socket::open(url, on_event)?));
        Ok(())
    }

    /// Carries out one of the link's socket commands. `Open` connects to `url`, handing every
    /// event to the sink `on_event(attempt)` makes; an error names the attempt that could not
    /// open, for the machine's `handle_socket_error`.
    pub fn execute<F: Fn(SocketEvent) + 'static>(
        &mut self,
        command: SocketCommand,
        url: &str,
        on_event: impl FnOnce(AttemptId) -> F,
    ) -> Result<(), (AttemptId, String)> {
        match command {
            SocketCommand::Open { attempt } => self.open(url, attempt, on_event(attempt)).map_err(|e| (attempt, e)),
            SocketCommand::Send { attempt, text } => {
                self.send(attempt, &text);
                Ok(())
            }
            SocketCommand::Close { attempt, code, reason } => {
                self.close(attempt, code, &reason);
                Ok(())
            }
        }
    }

    /// Feeds one event of `attempt`'s socket to `machine`.
    pub fn deliver(&mut self, machine: &mut impl SocketInput, now: Millis, attempt: AttemptId, event: SocketEvent) {
        match event {
            SocketEvent::Open => machine.handle_socket_opened(now, attempt),
            SocketEvent::Message(text) => machine.handle_frame(now, attempt, &text),
            SocketEvent::Close { code, .. } => {
                if self.is_current(attempt) {
                    self.current = None;
                }
                machine.handle_socket_closed(now, attempt, code)
            }
            SocketEvent::Error => machine.handle_socket_error(now, attempt),
        }
    }

    fn send(&self, attempt: AttemptId, text: &str) {
        match &self.current {
            Some((current, socket)) if *current == attempt => {
                if let Err(e) = socket.send(text) {
                    log::error!("[{}] send on attempt {} failed: {e}", self.component, attempt.0);
                }
            }
            _ => log::warn!("[{}] frame for closed attempt {} dropped", self.component, attempt.0),
        }
    }

    /// Closes `attempt`'s socket (if it is still the current one) and forgets it.
    fn close(&mut self, attempt: AttemptId, code: u16, reason: &str) {
        if self.is_current(attempt)
            && let Some((_, socket)) = self.current.take()
        {
            socket.close(code, reason);
        }
    }

    fn is_current(&self, attempt: AttemptId) -> bool {
        self.current.as_ref().is_some_and(|(current, _)| *current == attempt)
    }
}
