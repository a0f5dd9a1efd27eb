//! Two in-page `RTCPeerConnection`s wired to each other: the WebRTC test harness.
//!
//! ICE candidates are forwarded between the two as they are gathered (handlers owned here and
//! detached on drop), and `negotiate()` runs the offer/answer exchange in-page, so no signalling
//! server is needed.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    RtcIceCandidateInit, RtcPeerConnection, RtcPeerConnectionIceEvent, RtcSdpType, RtcSessionDescriptionInit,
};

type IceHandler = Closure<dyn FnMut(RtcPeerConnectionIceEvent)>;

/// Chrome refuses a page more than 500 `RTCPeerConnection`s that are not yet garbage-collected,
/// closed or not, so a test that makes hundreds collects garbage as it goes. The test browser
/// exposes `gc` (`--js-flags=--expose-gc` in `webdriver.json`); returns whether it ran.
pub fn collect_closed_peers() -> bool {
    let global = js_sys::global();
    match js_sys::Reflect::get(&global, &"gc".into()).map(|gc| gc.dyn_into::<js_sys::Function>()) {
        Ok(Ok(gc)) => gc.call0(&global).is_ok(),
        _ => false,
    }
}

pub struct Loopback {
    pub offerer: RtcPeerConnection,
    pub answerer: RtcPeerConnection,
    _ice: [IceHandler; 2],
}

fn forward_ice_to(target: RtcPeerConnection) -> IceHandler {
    Closure::new(move |event: RtcPeerConnectionIceEvent| {
        let Some(candidate) = event.candidate() else {
            return;
        };
        let init = RtcIceCandidateInit::new(&candidate.candidate());
        init.set_sdp_mid(candidate.sdp_mid().as_deref());
        init.set_sdp_m_line_index(candidate.sdp_m_line_index());
        // Fire-and-forget: a failed candidate shows up as a failed connection in the test.
        let _ = target.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init));
    })
}

impl Loopback {
    pub fn new() -> Loopback {
        let offerer = RtcPeerConnection::new().expect("RTCPeerConnection");
        let answerer = RtcPeerConnection::new().expect("RTCPeerConnection");
        let to_answerer = forward_ice_to(answerer.clone());
        let to_offerer = forward_ice_to(offerer.clone());
        offerer.set_onicecandidate(Some(to_answerer.as_ref().unchecked_ref()));
        answerer.set_onicecandidate(Some(to_offerer.as_ref().unchecked_ref()));
        Loopback { offerer, answerer, _ice: [to_answerer, to_offerer] }
    }

    /// Offer from `offerer`, answer from `answerer`, both descriptions applied.
    pub async fn negotiate(&self) -> Result<(), JsValue> {
        let offer = JsFuture::from(self.offerer.create_offer()).await?;
        let offer_sdp = js_sys::Reflect::get(&offer, &"sdp".into())?.as_string().unwrap_or_default();
        let answer_sdp = answer_offer(&self.answerer, &offer_sdp).await?;
        let local = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
        local.set_sdp(&offer_sdp);
        JsFuture::from(self.offerer.set_local_description(&local)).await?;
        let remote = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
        remote.set_sdp(&answer_sdp);
        JsFuture::from(self.offerer.set_remote_description(&remote)).await?;
        Ok(())
    }
}

/// Applies `offer_sdp` to `pc` and returns its answer SDP (also applied locally).
pub async fn answer_offer(pc: &RtcPeerConnection, offer_sdp: &str) -> Result<String, JsValue> {
    let remote = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
    remote.set_sdp(offer_sdp);
    JsFuture::from(pc.set_remote_description(&remote)).await?;
    let answer = JsFuture::from(pc.create_answer()).await?;
    let answer_sdp = js_sys::Reflect::get(&answer, &"sdp".into())?.as_string().unwrap_or_default();
    let local = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
    local.set_sdp(&answer_sdp);
    JsFuture::from(pc.set_local_description(&local)).await?;
    Ok(answer_sdp)
}

impl Drop for Loopback {
    fn drop(&mut self) {
        self.offerer.set_onicecandidate(None);
        self.answerer.set_onicecandidate(None);
        self.offerer.close();
        self.answerer.close();
    }
}
