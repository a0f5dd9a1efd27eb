//! An in-page stand-in for the Realtime API's WebRTC endpoint: a second `RTCPeerConnection` that
//! answers an offer (after an optional delay, like network latency) and sends its first events
//! the instant the client's data channel opens on its side.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Event, MessageEvent, RtcDataChannel, RtcDataChannelEvent, RtcIceGatheringState, RtcPeerConnection};

use super::rtc::answer_offer;

/// Answers one client event with the server events to send back.
pub type Respond = Rc<dyn Fn(&str) -> Vec<String>>;
pub type ChannelHandlers = Rc<RefCell<Vec<Closure<dyn FnMut(Event)>>>>;
pub type MessageHandler = Rc<RefCell<Option<Closure<dyn FnMut(MessageEvent)>>>>;

pub const SESSION_CREATED: &str =
    r#"{"type":"session.created","event_id":"evt_1","session":{"id":"sess_1","object":"realtime.session"}}"#;
pub const ITEM_CREATED: &str = r#"{"type":"conversation.item.created","event_id":"evt_2","previous_item_id":null,"item":{"id":"item_1","object":"realtime.item","type":"message","role":"user","content":[]}}"#;

pub struct FakeRealtime {
    pub pc: RtcPeerConnection,
    /// Frames the client sent on its channel.
    pub received: Rc<RefCell<Vec<String>>>,
    /// What this side did: its channel arrived, and how many greeting frames it sent (for
    /// telling a lost frame from one never sent when a session fails).
    pub channel_seen: Rc<std::cell::Cell<bool>>,
    pub greeted: Rc<std::cell::Cell<u32>>,
    /// How many times an unanswered greeting was sent again.
    pub resent: Rc<std::cell::Cell<u32>>,
    channel: Rc<RefCell<Option<RtcDataChannel>>>,
    _on_channel: Closure<dyn FnMut(RtcDataChannelEvent)>,
    _channel_handlers: ChannelHandlers,
    _message_handler: MessageHandler,
}

impl FakeRealtime {
    /// `greeting`: frames sent as soon as the channel is open on this side.
    pub fn new(greeting: Vec<String>) -> FakeRealtime {
        FakeRealtime::with_responder(greeting, Rc::new(|_: &str| Vec::new()), None)
    }

    /// Like [`FakeRealtime::new`], and every frame the client sends is answered with the frames
    /// `respond` returns for it (a scripted Realtime server). With `resend_after_ms`, a greeting
    /// the client has not answered after that long is sent again (at most 3 times).
    pub fn with_responder(greeting: Vec<String>, respond: Respond, resend_after_ms: Option<u32>) -> FakeRealtime {
        let pc = RtcPeerConnection::new().expect("RTCPeerConnection");
        let received: Rc<RefCell<Vec<String>>> = Rc::default();
        let channel: Rc<RefCell<Option<RtcDataChannel>>> = Rc::default();
        let handlers: ChannelHandlers = Rc::default();
        let message_handler: MessageHandler = Rc::default();
        let channel_seen: Rc<std::cell::Cell<bool>> = Rc::default();
        let greeted: Rc<std::cell::Cell<u32>> = Rc::default();
        let resent: Rc<std::cell::Cell<u32>> = Rc::default();
        let on_channel = {
            let (channel, handlers, message_handler, received) =
                (channel.clone(), handlers.clone(), message_handler.clone(), received.clone());
            let (seen, greeted, resent) = (channel_seen.clone(), greeted.clone(), resent.clone());
            Closure::<dyn FnMut(RtcDataChannelEvent)>::new(move |e: RtcDataChannelEvent| {
                seen.set(true);
                let dc = e.channel();
                let log = received.clone();
                let (reply_on, respond) = (dc.clone(), respond.clone());
                let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |m: MessageEvent| {
                    let text = m.data().as_string().unwrap_or_default();
                    for reply in respond(&text) {
                        let _ = reply_on.send_with_str(&reply);
                    }
                    log.borrow_mut().push(text)
                });
                dc.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
                *message_handler.borrow_mut() = Some(on_message);
                let greet = {
                    let dc = dc.clone();
                    let greeting = greeting.clone();
                    let (greeted, resent, heard) = (greeted.clone(), resent.clone(), received.clone());
                    move || {
                        for frame in &greeting {
                            if dc.send_with_str(frame).is_ok() {
                                greeted.set(greeted.get() + 1);
                            }
                        }
                        let Some(after_ms) = resend_after_ms else { return };
                        // Chrome, with both peers in one page, now and then accepts a send on an
                        // open channel and never delivers it (about once in 500 sessions on a
                        // loaded machine: the client's channel is open, a `message` listener
                        // attached when it was created sees nothing, no error anywhere). A client
                        // answers the greeting at once; if it has said nothing, say it again
                        // (same event ids: a client applies an event once).
                        let (dc, greeting, resent, heard) =
                            (dc.clone(), greeting.clone(), resent.clone(), heard.clone());
                        wasm_bindgen_futures::spawn_local(async move {
                            for _ in 0..3 {
                                gloo_timers::future::TimeoutFuture::new(after_ms).await;
                                if !heard.borrow().is_empty() || dc.ready_state() != web_sys::RtcDataChannelState::Open
                                {
                                    return;
                                }
                                web_sys::console::warn_1(
                                    &"[FakeRealtime] no answer to the greeting; sending it again".into(),
                                );
                                resent.set(resent.get() + 1);
                                for frame in &greeting {
                                    let _ = dc.send_with_str(frame);
                                }
                            }
                        });
                    }
                };
                if dc.ready_state() == web_sys::RtcDataChannelState::Open {
                    greet();
                } else {
                    let on_open = Closure::<dyn FnMut(Event)>::new(move |_: Event| greet());
                    dc.set_onopen(Some(on_open.as_ref().unchecked_ref()));
                    handlers.borrow_mut().push(on_open);
                }
                *channel.borrow_mut() = Some(dc);
            })
        };
        pc.set_ondatachannel(Some(on_channel.as_ref().unchecked_ref()));
        FakeRealtime {
            pc,
            received,
            channel_seen,
            greeted,
            resent,
            channel,
            _on_channel: on_channel,
            _channel_handlers: handlers,
            _message_handler: message_handler,
        }
    }

    /// Answers `offer_sdp` after `delay_ms`, returning an answer that carries this side's ICE
    /// candidates (like a server's answer does), so the client needs no trickle.
    pub async fn answer(&self, offer_sdp: &str, delay_ms: u32) -> Result<String, JsValue> {
        answer_offer(&self.pc, offer_sdp).await?;
        let gathered = super::wait_until(std::time::Duration::from_secs(5), || {
            self.pc.ice_gathering_state() == RtcIceGatheringState::Complete
        })
        .await;
        if !gathered {
            return Err("ICE gathering did not complete".into());
        }
        if delay_ms > 0 {
            super::sleep(delay_ms).await;
        }
        Ok(self.pc.local_description().map(|d| d.sdp()).unwrap_or_default())
    }

    pub fn send(&self, frame: &str) -> bool {
        self.channel.borrow().as_ref().is_some_and(|dc| dc.send_with_str(frame).is_ok())
    }

    /// Bytes queued on this side's channel and its state (diagnostics).
    pub fn channel_state(&self) -> String {
        match self.channel.borrow().as_ref() {
            Some(dc) => format!("{:?}, {} bytes buffered", dc.ready_state(), dc.buffered_amount()),
            None => "no channel".into(),
        }
    }

    pub fn close_channel(&self) {
        if let Some(dc) = self.channel.borrow().as_ref() {
            dc.close();
        }
    }
}

impl Drop for FakeRealtime {
    fn drop(&mut self) {
        self.pc.set_ondatachannel(None);
        if let Some(dc) = self.channel.borrow().as_ref() {
            dc.set_onmessage(None);
            dc.set_onopen(None);
            dc.close();
        }
        self.pc.close();
    }
}
