//! A native WebRTC client of the voice peer (str0m as the offerer, like a browser) and a hub to
//! call, shared by the voice test files (each includes it with `mod voice_client;`).
#![allow(dead_code)] // each test file uses its own share of the helpers

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use restaurant_hub::voice::{MenuSource, VoiceHub, VoiceSettings, bundled_menu};
use serde_json::{Value, json};
use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::channel::ChannelId;
use str0m::format::Codec;
use str0m::media::{Direction, Frequency, MediaKind, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;

/// Generous bound for anything that should happen "now".
pub const WAIT: Duration = Duration::from_secs(5);
/// A 20 ms CELT frame; the peer counts its duration from the TOC byte.
pub const OPUS_FRAME: [u8; 3] = [0xF8, 0xFF, 0xFE];

pub struct Hub {
    pub base: String,
    pub hub: VoiceHub,
    pub http: reqwest::Client,
}

pub async fn start_hub(settings: VoiceSettings) -> Hub {
    let hub = VoiceHub::new(settings, MenuSource::fixed(bundled_menu()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app: axum::Router = axum::Router::new().merge(hub.router());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Hub { base: format!("http://{addr}"), hub, http: reqwest::Client::new() }
}

pub async fn hub() -> Hub {
    start_hub(VoiceSettings::default()).await
}

impl Hub {
    pub async fn token(&self) -> String {
        let r = self.http.post(format!("{}/api/v1/realtime/session", self.base)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["model"], "gpt-realtime");
        assert!(body["expires_at"].as_u64().unwrap() > 1_700_000_000);
        body["value"].as_str().unwrap().to_string()
    }

    pub async fn post_offer(&self, token: Option<&str>, content_type: &str, sdp: String) -> reqwest::Response {
        let mut req =
            self.http.post(format!("{}/v1/realtime/calls", self.base)).header("Content-Type", content_type).body(sdp);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    pub async fn set_faults(&self, faults: Value) {
        let r = self.http.post(format!("{}/api/v1/dev/voice-faults", self.base)).json(&faults).send().await.unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }

    pub async fn say(&self, text: &str) {
        let r = self
            .http
            .post(format!("{}/api/v1/dev/utterances", self.base))
            .json(&json!({ "text": text }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    }

    /// A client that has completed the SDP exchange.
    pub async fn call(&self) -> Client {
        let token = self.token().await;
        let (mut client, offer, pending) = Client::new().await;
        let r = self.post_offer(Some(&token), "application/sdp", offer).await;
        assert_eq!(r.status(), 201);
        assert_eq!(r.headers()["content-type"], "application/sdp");
        assert!(r.headers()["location"].to_str().unwrap().starts_with("/v1/realtime/calls/rtc_"));
        client.accept(pending, &r.text().await.unwrap());
        client
    }

    /// A client whose `oai-events` channel is open, with `session.created` consumed.
    pub async fn connected(&self) -> Client {
        let mut c = self.call().await;
        let created = c.next_event(WAIT).await.expect("session.created");
        assert_eq!(created["type"], "session.created");
        c
    }
}

pub struct Client {
    pub rtc: Rtc,
    pub socket: UdpSocket,
    pub local: SocketAddr,
    pub channel: Option<ChannelId>,
    pub mid: Mid,
    pub inbox: VecDeque<Value>,
    pub audio_packets_in: usize,
    /// Inbound audio payloads with their arrival time (the first few thousand).
    pub audio_in: Vec<(Instant, Vec<u8>)>,
    pub channel_closed: bool,
    pub rtp_time: u64,
}

impl Client {
    pub async fn new() -> (Client, String, SdpPendingOffer) {
        str0m::crypto::from_feature_flags().install_process_default();
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let local = socket.local_addr().unwrap();
        let mut rtc = Rtc::new(Instant::now());
        rtc.add_local_candidate(Candidate::host(local, "udp").unwrap());
        let mut api = rtc.sdp_api();
        let mid = api.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
        api.add_channel("oai-events".into());
        let (offer, pending) = api.apply().unwrap();
        let client = Client {
            rtc,
            socket,
            local,
            channel: None,
            mid,
            inbox: VecDeque::new(),
            audio_packets_in: 0,
            audio_in: Vec::new(),
            channel_closed: false,
            rtp_time: 0,
        };
        (client, offer.to_sdp_string(), pending)
    }

    pub fn accept(&mut self, pending: SdpPendingOffer, answer: &str) {
        let answer = SdpAnswer::from_sdp_string(answer).unwrap();
        self.rtc.sdp_api().accept_answer(pending, answer).unwrap();
    }

    /// Drives the peer until `until`, or until a server event arrives.
    pub async fn pump(&mut self, until: Instant) {
        let mut buf = vec![0u8; 2000];
        while self.inbox.is_empty() && Instant::now() < until {
            let deadline = loop {
                match self.rtc.poll_output() {
                    Ok(Output::Timeout(t)) => break t,
                    Ok(Output::Transmit(t)) => {
                        let _ = self.socket.send_to(&t.contents, t.destination).await;
                    }
                    Ok(Output::Event(e)) => self.on_event(e),
                    Err(_) => return,
                }
            };
            if !self.inbox.is_empty() {
                return;
            }
            tokio::select! {
                r = self.socket.recv_from(&mut buf) => {
                    let Ok((n, source)) = r else { continue };
                    let contents = buf[..n].try_into().unwrap();
                    let input = Input::Receive(Instant::now(), Receive { proto: Protocol::Udp, source, destination: self.local, contents });
                    let _ = self.rtc.handle_input(input);
                }
                _ = tokio::time::sleep_until(deadline.min(until).into()) => {
                    let _ = self.rtc.handle_input(Input::Timeout(Instant::now()));
                }
            }
        }
    }

    pub fn on_event(&mut self, e: Event) {
        match e {
            Event::ChannelOpen(id, label) if label == "oai-events" => self.channel = Some(id),
            Event::ChannelData(d) => {
                let v: Value = serde_json::from_slice(&d.data).expect("server events are JSON");
                self.inbox.push_back(v);
            }
            Event::ChannelClose(_) => self.channel_closed = true,
            Event::MediaData(m) => {
                self.audio_packets_in += 1;
                if self.audio_in.len() < 10_000 {
                    self.audio_in.push((Instant::now(), m.data.to_vec()));
                }
            }
            _ => {}
        }
    }

    pub async fn next_event(&mut self, within: Duration) -> Option<Value> {
        self.pump(Instant::now() + within).await;
        self.inbox.pop_front()
    }

    /// Every event up to and including the first of type `kind`.
    pub async fn events_until(&mut self, kind: &str) -> Vec<Value> {
        let mut seen = Vec::new();
        loop {
            let e = self.next_event(WAIT).await.unwrap_or_else(|| panic!("no {kind}; got {:?}", types(&seen)));
            let done = e["type"] == kind;
            seen.push(e);
            if done {
                return seen;
            }
        }
    }

    /// Drives the peer for `d` and returns the events that arrived meanwhile.
    pub async fn quiet_for(&mut self, d: Duration) -> Vec<Value> {
        let until = Instant::now() + d;
        let mut seen = Vec::new();
        while Instant::now() < until {
            self.pump(until).await;
            seen.extend(self.inbox.drain(..));
        }
        seen
    }

    pub fn send(&mut self, event: Value) {
        let id = self.channel.expect("channel open");
        let accepted = self.rtc.channel(id).unwrap().write(false, event.to_string().as_bytes()).unwrap();
        assert!(accepted);
    }

    /// Sends `ms` of audio as 20 ms Opus packets in real time.
    pub async fn send_audio(&mut self, ms: u64) {
        let mut next = Instant::now();
        for _ in 0..ms / 20 {
            let writer = self.rtc.writer(self.mid).expect("audio writer");
            let pt = writer.payload_params().find(|p| p.spec().codec == Codec::Opus).unwrap().pt();
            writer
                .write(
                    pt,
                    Instant::now(),
                    MediaTime::new(self.rtp_time, Frequency::FORTY_EIGHT_KHZ),
                    OPUS_FRAME.to_vec(),
                )
                .unwrap();
            self.rtp_time += 960;
            next += Duration::from_millis(20);
            self.pump(next).await;
        }
    }

    /// Sends 48 kHz mono `pcm` as 20 ms Opus packets in real time, like a microphone.
    pub async fn send_speech(&mut self, pcm: &[i16]) {
        let mut encoder = restaurant_hub::voice::speech::codec::OpusEncoder::new().expect("libopus");
        let mut next = Instant::now();
        for frame in pcm.chunks(960) {
            let packet = encoder.encode(frame).unwrap();
            let writer = self.rtc.writer(self.mid).expect("audio writer");
            let pt = writer.payload_params().find(|p| p.spec().codec == Codec::Opus).unwrap().pt();
            writer
                .write(pt, Instant::now(), MediaTime::new(self.rtp_time, Frequency::FORTY_EIGHT_KHZ), packet)
                .unwrap();
            self.rtp_time += 960;
            next += Duration::from_millis(20);
            self.pump(next).await;
        }
    }

    /// Sends audio, then a commit; returns events through `kind`.
    pub async fn turn(&mut self, audio_ms: u64, kind: &str) -> Vec<Value> {
        self.send(json!({"type": "input_audio_buffer.clear"}));
        assert_eq!(self.next_event(WAIT).await.unwrap()["type"], "input_audio_buffer.cleared");
        self.send_audio(audio_ms).await;
        // Let the last packets land before the commit overtakes them.
        self.quiet_for(Duration::from_millis(100)).await;
        self.send(json!({"type": "input_audio_buffer.commit", "event_id": "evt_commit"}));
        self.events_until(kind).await
    }
}

pub fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap_or("?")).collect()
}

pub fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}
