//! Abuse of the voice peer: each limit is attempted against a real peer (HTTP, UDP, DTLS, SCTP on
//! 127.0.0.1) and refused with the documented status or event, and the peer keeps serving.

mod voice_client;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use restaurant_hub::voice::VoiceSettings;
use serde_json::{Value, json};
use str0m::crypto::CryptoProvider;
use str0m::ice::{StunMessage, TransId};
use tokio::net::UdpSocket;
use tokio::sync::watch;
use voice_client::*;

/// `a=<name>:<value>` of an SDP.
fn sdp_attribute<'a>(sdp: &'a str, name: &str) -> &'a str {
    let prefix = format!("a={name}:");
    sdp.lines().find_map(|l| l.strip_prefix(&prefix)).unwrap_or_else(|| panic!("no a={name} in {sdp}")).trim()
}

/// Waits until the hub has no live call; returns when that was seen, or `None` after `within`.
async fn all_calls_ended(hub: &Hub, within: Duration) -> Option<Instant> {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if hub.hub.live_calls() == 0 {
            return Some(Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

/// Named `voice::…` so `cargo test -p restaurant-hub voice` selects them.
mod voice {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_offers_cannot_race_past_the_call_capacity() {
        const CAPACITY: usize = 3;
        const OFFERS: usize = 10;
        let settings =
            VoiceSettings { max_calls: CAPACITY, idle_timeout: Duration::from_secs(2), ..VoiceSettings::default() };
        let hub = start_hub(settings).await;
        // A slow answer holds every offer between its capacity check and its call existing.
        hub.set_faults(json!({"answer_latency_ms": 300})).await;

        let mut tokens = Vec::new();
        let mut offers = Vec::new();
        for _ in 0..OFFERS {
            tokens.push(hub.token().await);
            offers.push(Client::new().await.1);
        }
        let answers = join_all(
            tokens
                .iter()
                .zip(&offers)
                .map(|(token, offer)| hub.post_offer(Some(token), "application/sdp", offer.clone())),
        )
        .await;
        let mut refused_tokens = Vec::new();
        let mut created = 0;
        for (response, token) in answers.into_iter().zip(&tokens) {
            match response.status().as_u16() {
                201 => created += 1,
                503 => {
                    let body: Value = response.json().await.unwrap();
                    assert_eq!(
                        body,
                        json!({"error": {"type": "server_error", "code": "busy", "message": "no capacity for another call"}})
                    );
                    refused_tokens.push(token.clone());
                }
                other => panic!("unexpected {other}: {}", response.text().await.unwrap()),
            }
        }
        assert_eq!(created, CAPACITY, "exactly the capacity is answered");
        assert_eq!(hub.hub.live_calls(), CAPACITY);

        // Nobody connects: the calls end at their idle timeout and free their slots.
        assert!(all_calls_ended(&hub, WAIT).await.is_some(), "{} calls still live", hub.hub.live_calls());
        hub.set_faults(json!({})).await;
        // A refused offer did not use its token up.
        for token in refused_tokens.iter().take(CAPACITY) {
            let r = hub.post_offer(Some(token), "application/sdp", Client::new().await.1).await;
            assert_eq!(r.status(), 201, "a freed slot is usable again");
        }
        let token = hub.token().await;
        let r = hub.post_offer(Some(&token), "application/sdp", Client::new().await.1).await;
        assert_eq!(r.status(), 503, "and the capacity still holds");
    }

    #[tokio::test]
    async fn unauthenticated_udp_does_not_keep_an_abandoned_call_alive() {
        const IDLE: Duration = Duration::from_secs(4);
        let hub = start_hub(VoiceSettings { idle_timeout: IDLE, ..VoiceSettings::default() }).await;
        let token = hub.token().await;
        let (mut c, offer, pending) = Client::new().await;
        let client_ufrag = sdp_attribute(&offer, "ice-ufrag").to_string();
        let r = hub.post_offer(Some(&token), "application/sdp", offer).await;
        assert_eq!(r.status(), 201);
        let answer = r.text().await.unwrap();
        c.accept(pending, &answer);
        assert_eq!(c.next_event(WAIT).await.unwrap()["type"], "session.created");

        // A client that is there but says nothing keeps the call: its ICE checks are authenticated.
        c.quiet_for(IDLE + Duration::from_secs(1)).await;
        assert_eq!(hub.hub.live_calls(), 1, "a quiet client is not idle");

        // The call's port, from the answer's host candidate: `candidate:… udp <prio> <ip> <port> typ host`.
        let candidate: Vec<&str> = sdp_attribute(&answer, "candidate").split_whitespace().collect();
        let call_addr: std::net::SocketAddr = format!("{}:{}", candidate[4], candidate[5]).parse().unwrap();
        let hub_ufrag = sdp_attribute(&answer, "ice-ufrag");

        // A STUN check to the call's username, signed with a guessed password.
        let username = format!("{hub_ufrag}:{client_ufrag}");
        let forged_check = {
            let crypto = CryptoProvider::get_default().unwrap();
            let message = StunMessage::binding_request(&username, TransId::new(), true, 7, 1_000, true);
            let mut buf = vec![0u8; 1500];
            let n = message
                .to_bytes(Some(&b"not-the-password-0000000"[..]), &mut buf, |k, p| {
                    crypto.sha1_hmac_provider.sha1_hmac(k, p)
                })
                .unwrap();
            buf.truncate(n);
            buf
        };
        let junk: [Vec<u8>; 4] = [
            forged_check,
            // DTLS application data, RTP and bytes of no protocol.
            [&[23u8, 0xfe, 0xfd][..], &[0u8; 40]].concat(),
            [&[0x80u8, 111, 0, 1][..], &[0u8; 160]].concat(),
            vec![0xAB; 64],
        ];

        // The real client goes away; a stranger, and the client's own (now silent) address, send junk.
        let stranger = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let gone = Instant::now();
        let mut sent = 0;
        while hub.hub.live_calls() > 0 && gone.elapsed() < IDLE + Duration::from_secs(3) {
            let packet = &junk[sent % junk.len()];
            stranger.send_to(packet, call_addr).await.unwrap();
            c.socket.send_to(packet, call_addr).await.unwrap();
            sent += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let ended_after = gone.elapsed();
        assert_eq!(hub.hub.live_calls(), 0, "junk kept the call alive for {ended_after:?} ({sent} rounds)");
        // Its last authenticated packet came at most a few seconds before the client left.
        assert!(ended_after <= IDLE + Duration::from_secs(1), "ended {ended_after:?} after the client left");
        assert!(sent >= 5, "the junk was sent while the call was live ({sent} rounds)");
    }

    #[tokio::test]
    async fn a_call_ends_at_its_maximum_length_with_an_error_event() {
        const MAX: Duration = Duration::from_secs(2);
        let hub = start_hub(VoiceSettings { max_call: MAX, ..VoiceSettings::default() }).await;
        let offered = Instant::now();
        let mut c = hub.connected().await;
        let e = c.events_until("error").await;
        let error = &e.last().unwrap()["error"];
        assert_eq!(
            (error["type"].as_str(), error["code"].as_str()),
            (Some("invalid_request_error"), Some("session_expired"))
        );
        assert_eq!(error["message"], "Your session hit the maximum duration of 2 seconds.");
        let until = Instant::now() + WAIT;
        while (hub.hub.live_calls() > 0 || !c.channel_closed) && Instant::now() < until {
            c.pump(Instant::now() + Duration::from_millis(20)).await;
        }
        assert!(c.channel_closed, "the client sees its channel close");
        assert_eq!(hub.hub.live_calls(), 0, "the call ended");
        assert!(offered.elapsed() >= MAX, "ended after {:?}", offered.elapsed());
        // The hub takes new calls.
        hub.connected().await;
    }

    #[tokio::test]
    async fn an_oversized_session_update_is_refused_and_the_call_continues() {
        let hub = hub().await;
        let mut c = hub.connected().await;
        c.send(json!({"type": "session.update", "session": {"instructions": "Be brief."}}));
        let before = c.next_event(WAIT).await.unwrap();
        assert_eq!(before["type"], "session.updated");

        let big = "x".repeat(17 * 1024);
        c.send(json!({"type": "session.update", "event_id": "evt_big", "session": {"instructions": big}}));
        let e = c.next_event(WAIT).await.unwrap();
        assert_eq!(e["type"], "error");
        assert_eq!(
            (e["error"]["type"].as_str(), e["error"]["code"].as_str(), e["error"]["event_id"].as_str()),
            (Some("invalid_request_error"), Some("session_update_too_large"), Some("evt_big"))
        );
        let message = e["error"]["message"].as_str().unwrap();
        assert!(message.contains("the limit is 16384 bytes"), "{message}");

        c.send(json!({"type": "session.update", "session": {}}));
        let after = c.next_event(WAIT).await.unwrap();
        assert_eq!(after["type"], "session.updated");
        assert_eq!(after["session"], before["session"], "the refused update changed nothing");
        c.send(json!({"type": "input_audio_buffer.clear"}));
        assert_eq!(c.next_event(WAIT).await.unwrap()["type"], "input_audio_buffer.cleared");
    }

    #[tokio::test]
    async fn an_oversized_client_event_of_any_type_is_refused_and_the_call_continues() {
        let hub = hub().await;
        let mut c = hub.connected().await;
        let text = "y".repeat(70 * 1024);
        c.send(json!({"type": "conversation.item.create", "event_id": "evt_huge", "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}}));
        let e = c.next_event(WAIT).await.unwrap();
        assert_eq!((e["type"].as_str(), e["error"]["code"].as_str()), (Some("error"), Some("event_too_large")));
        assert!(c.quiet_for(Duration::from_millis(300)).await.is_empty(), "nothing else answers it");
        c.send(json!({"type": "input_audio_buffer.clear"}));
        assert_eq!(c.next_event(WAIT).await.unwrap()["type"], "input_audio_buffer.cleared");
    }

    /// A stand-in for OpenAI's `client_secrets` that answers only when released.
    struct SlowUpstream {
        url: String,
        in_flight: Arc<AtomicUsize>,
        most_in_flight: Arc<AtomicUsize>,
        release: watch::Sender<bool>,
    }

    type UpstreamState = (Arc<AtomicUsize>, Arc<AtomicUsize>, watch::Receiver<bool>);

    async fn mint_when_released(
        axum::extract::State((in_flight, most, mut gate)): axum::extract::State<UpstreamState>,
    ) -> axum::Json<Value> {
        let n = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        most.fetch_max(n, Ordering::SeqCst);
        let _ = gate.wait_for(|open| *open).await;
        in_flight.fetch_sub(1, Ordering::SeqCst);
        axum::Json(json!({"value": "ek_from_upstream", "expires_at": 4_000_000_000u64}))
    }

    async fn slow_upstream() -> SlowUpstream {
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most_in_flight = Arc::new(AtomicUsize::new(0));
        let release = watch::Sender::new(false);
        let state = (Arc::clone(&in_flight), Arc::clone(&most_in_flight), release.subscribe());
        let app = axum::Router::new().route("/v1/realtime/client_secrets", axum::routing::post(mint_when_released));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app.with_state(state)).await });
        SlowUpstream { url: format!("http://{addr}/v1/realtime/client_secrets"), in_flight, most_in_flight, release }
    }

    #[tokio::test]
    async fn token_requests_to_openai_beyond_the_cap_get_429_with_retry_after() {
        const CAP: usize = 2;
        let upstream = slow_upstream().await;
        let hub = start_hub(VoiceSettings {
            openai_api_key: Some("sk-test".into()),
            client_secrets_url: upstream.url.clone(),
            max_mint_requests: CAP,
            ..VoiceSettings::default()
        })
        .await;
        let url = format!("{}/api/v1/realtime/session", hub.base);
        let waiting: Vec<_> = (0..CAP)
            .map(|_| {
                let (http, url) = (hub.http.clone(), url.clone());
                tokio::spawn(async move { http.post(url).send().await.unwrap() })
            })
            .collect();
        let until = Instant::now() + WAIT;
        while upstream.in_flight.load(Ordering::SeqCst) < CAP && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(upstream.in_flight.load(Ordering::SeqCst), CAP);

        // Full: answered at once, never queued.
        for _ in 0..3 {
            let t0 = Instant::now();
            let r = hub.http.post(&url).send().await.unwrap();
            assert!(t0.elapsed() < Duration::from_secs(1), "refused without waiting ({:?})", t0.elapsed());
            assert_eq!(r.status(), 429);
            assert_eq!(r.headers()["retry-after"], "1");
            let body: Value = r.json().await.unwrap();
            assert_eq!(
                (body["error"]["type"].as_str(), body["error"]["code"].as_str()),
                (Some("invalid_request_error"), Some("too_many_requests"))
            );
        }
        assert_eq!(upstream.most_in_flight.load(Ordering::SeqCst), CAP, "OpenAI never saw more than the cap");

        upstream.release.send_replace(true);
        for w in waiting {
            let r = w.await.unwrap();
            assert_eq!(r.status(), 200);
            assert_eq!(r.json::<Value>().await.unwrap()["value"], "ek_from_upstream");
        }
        let r = hub.http.post(&url).send().await.unwrap();
        assert_eq!(r.status(), 200, "the slots are free again");
    }

    #[tokio::test]
    async fn the_token_status_fault_answers_before_openai_is_asked() {
        let upstream = slow_upstream().await;
        let hub = start_hub(VoiceSettings {
            openai_api_key: Some("sk-test".into()),
            client_secrets_url: upstream.url.clone(),
            ..VoiceSettings::default()
        })
        .await;
        upstream.release.send_replace(true);
        hub.set_faults(json!({"token_status": 429})).await;
        let url = format!("{}/api/v1/realtime/session", hub.base);
        for _ in 0..3 {
            let r = hub.http.post(&url).send().await.unwrap();
            assert_eq!(r.status(), 429);
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["error"]["code"], "rate_limit_exceeded");
            assert!(!body.to_string().contains("sk-test"));
        }
        assert_eq!(upstream.most_in_flight.load(Ordering::SeqCst), 0, "OpenAI was never asked");
        hub.set_faults(json!({})).await;
        let r = hub.http.post(&url).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap()["value"], "ek_from_upstream");
        assert_eq!(upstream.most_in_flight.load(Ordering::SeqCst), 1);
    }
}
