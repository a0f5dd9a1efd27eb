//! The voice peer against a native WebRTC client (str0m as the offerer, like a browser):
//! real HTTP, real UDP, DTLS, SCTP and RTP on 127.0.0.1.

mod voice_client;

use std::time::{Duration, Instant};

use restaurant_hub::voice::{SHUTDOWN_BOUND, VoiceFaults, VoiceSettings};
use serde_json::{Value, json};
use voice_client::*;

/// The tool call among `events`: name, arguments and `call_id`.
fn call_of(events: &[Value]) -> (String, Value, String) {
    let done = of_type(events, "response.function_call_arguments.done")[0];
    let args: Value = serde_json::from_str(done["arguments"].as_str().unwrap()).unwrap();
    (done["name"].as_str().unwrap().to_string(), args, done["call_id"].as_str().unwrap().to_string())
}

/// The kiosk answers `call_id` with `output` and asks for a response: what the peer says.
async fn reply_to(c: &mut Client, call_id: &str, output: Value) -> String {
    c.send(json!({"type": "conversation.item.create", "item": {"type": "function_call_output", "call_id": call_id, "output": output.to_string()}}));
    c.send(json!({"type": "response.create"}));
    let reply = c.events_until("response.done").await;
    assert_eq!(reply.last().unwrap()["response"]["status"], "completed");
    of_type(&reply, "response.output_audio_transcript.done")[0]["transcript"].as_str().unwrap().to_string()
}

/// Named `voice::…` so `cargo test -p restaurant-hub voice` selects them.
mod voice {
    use super::*;

    #[tokio::test]
    async fn webrtc_client_completes_the_sdp_post_and_gets_session_created() {
        let hub = hub().await;
        let mut c = hub.call().await;
        let created = c.next_event(WAIT).await.expect("session.created");
        assert_eq!(created["type"], "session.created");
        assert!(created["event_id"].as_str().unwrap().starts_with("event_"));
        assert_eq!(created["session"]["object"], "realtime.session");
        let tools: Vec<&str> =
            created["session"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert_eq!(tools, ["add_to_order", "remove_from_order", "confirm_order"]);
        assert_eq!(hub.hub.live_calls(), 1);
    }

    #[tokio::test]
    async fn full_turn_gives_transcript_and_add_to_order_call_then_a_spoken_reply() {
        let hub = hub().await;
        hub.say("two cheeseburgers and a large fries").await;
        let mut c = hub.connected().await;
        let events = c.turn(600, "response.done").await;
        let t = types(&events);
        let order = [
            "input_audio_buffer.committed",
            "conversation.item.added",
            "conversation.item.created",
            "conversation.item.input_audio_transcription.delta",
            "conversation.item.input_audio_transcription.completed",
            "conversation.item.done",
            "response.created",
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.done",
        ];
        let positions: Vec<usize> = order.iter().map(|k| t.iter().position(|x| x == k).expect(k)).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "out of order: {t:?}");

        let item_id = events[0]["item_id"].as_str().unwrap();
        let added = of_type(&events, "conversation.item.added")[0];
        assert_eq!((added["item"]["id"].as_str(), added["item"]["role"].as_str()), (Some(item_id), Some("user")));
        let deltas: String = of_type(&events, "conversation.item.input_audio_transcription.delta")
            .iter()
            .inspect(|d| assert_eq!((d["item_id"].as_str(), d["content_index"].as_u64()), (Some(item_id), Some(0))))
            .map(|d| d["delta"].as_str().unwrap())
            .collect();
        assert_eq!(deltas, "two cheeseburgers and a large fries");
        assert!(of_type(&events, "conversation.item.input_audio_transcription.delta").len() > 1);
        let completed = of_type(&events, "conversation.item.input_audio_transcription.completed")[0];
        assert_eq!(completed["transcript"], "two cheeseburgers and a large fries");

        let done = of_type(&events, "response.function_call_arguments.done")[0];
        assert_eq!(done["name"], "add_to_order");
        let call_id = done["call_id"].as_str().unwrap().to_string();
        let streamed: String = of_type(&events, "response.function_call_arguments.delta")
            .iter()
            .map(|d| d["delta"].as_str().unwrap())
            .collect();
        assert_eq!(streamed, done["arguments"].as_str().unwrap());
        let args: Value = serde_json::from_str(done["arguments"].as_str().unwrap()).unwrap();
        assert_eq!(
            args,
            json!({"items": [
                {"name": "Cheeseburger", "quantity": 2, "options": []},
                {"name": "Large Fries", "quantity": 1, "options": []},
            ]})
        );
        assert_eq!(events.last().unwrap()["response"]["status"], "completed");
        assert!(events.iter().all(|e| e["event_id"].is_string()));

        // The kiosk answers the call and asks for a response: a short spoken reply.
        c.send(json!({"type": "conversation.item.create", "item": {"type": "function_call_output", "call_id": call_id, "output": "{\"ok\":true}"}}));
        c.send(json!({"type": "response.create"}));
        let started = Instant::now();
        let reply = c.events_until("response.done").await;
        let t = types(&reply);
        for k in [
            "conversation.item.added",
            "conversation.item.done",
            "response.created",
            "response.output_audio_transcript.delta",
            "response.output_audio_transcript.done",
            "output_audio_buffer.started",
            "output_audio_buffer.stopped",
            "response.done",
        ] {
            assert!(t.contains(&k), "{k} missing from {t:?}");
        }
        assert_eq!(of_type(&reply, "response.output_audio_transcript.done")[0]["transcript"], "Got it. Anything else?");
        assert!(started.elapsed() >= Duration::from_millis(800), "the reply lasts about a second");
        assert!(c.audio_packets_in >= 40, "only {} reply packets arrived", c.audio_packets_in);
    }

    #[tokio::test]
    async fn empty_audio_commit_gives_the_openai_error_and_no_transcript() {
        let hub = hub().await;
        let mut c = hub.connected().await;
        c.send(json!({"type": "input_audio_buffer.commit", "event_id": "evt_1"}));
        let e = c.next_event(WAIT).await.unwrap();
        assert_eq!(e["type"], "error");
        assert_eq!(e["error"]["type"], "invalid_request_error");
        assert_eq!(e["error"]["code"], "input_audio_buffer_commit_empty");
        assert_eq!(
            e["error"]["message"],
            "Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has 0.00ms of audio."
        );
        assert_eq!(e["error"]["event_id"], "evt_1");
        let later = c.quiet_for(Duration::from_millis(500)).await;
        assert!(later.is_empty(), "nothing may follow the error: {:?}", types(&later));
    }

    #[tokio::test]
    async fn a_few_packets_under_100ms_are_still_an_empty_buffer() {
        let hub = hub().await;
        let mut c = hub.connected().await;
        let events = c.turn(60, "error").await;
        assert_eq!(types(&events), ["error"]);
        assert!(events[0]["error"]["message"].as_str().unwrap().contains("only has 60.00ms"));
    }

    #[tokio::test]
    async fn missing_garbage_reused_and_expired_tokens_get_401() {
        let hub = hub().await;
        let (_, offer, _) = Client::new().await;
        for token in [None, Some("ek_nope")] {
            let r = hub.post_offer(token, "application/sdp", offer.clone()).await;
            assert_eq!(r.status(), 401);
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["error"]["code"], "invalid_api_key");
        }
        let token = hub.token().await;
        assert_eq!(hub.post_offer(Some(&token), "application/sdp", offer.clone()).await.status(), 201);
        let (_, offer2, _) = Client::new().await;
        assert_eq!(hub.post_offer(Some(&token), "application/sdp", offer2.clone()).await.status(), 401, "single use");
        // A short-lived token on a hub of its own, so the tokens above cannot expire on a busy
        // machine. The hub minted it before its answer arrived, so the sleep outlasts its life.
        let short =
            start_hub(VoiceSettings { token_ttl: Duration::from_millis(300), ..VoiceSettings::default() }).await;
        let expiring = short.token().await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        let r = short.post_offer(Some(&expiring), "application/sdp", offer2).await;
        assert_eq!(r.status(), 401);
        assert_eq!(r.json::<Value>().await.unwrap()["error"]["message"], "token expired");
    }

    #[tokio::test]
    async fn bad_sdp_gets_400_and_leaves_the_token_usable() {
        let hub = hub().await;
        let token = hub.token().await;
        let (_, offer, _) = Client::new().await;
        for (content_type, body) in [
            ("application/sdp", "not sdp at all".to_string()),
            ("application/sdp", "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n".to_string()),
            ("application/json", offer.clone()),
            ("application/sdp", offer.replace("m=application", "m=nothing")),
        ] {
            let r = hub.post_offer(Some(&token), content_type, body).await;
            assert_eq!(r.status(), 400);
            assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "invalid_offer");
        }
        assert_eq!(hub.post_offer(Some(&token), "application/sdp", offer).await.status(), 201);
    }

    #[tokio::test]
    async fn drop_item_created_knob_sends_only_the_ga_item_added() {
        let hub = hub().await;
        hub.set_faults(json!({"drop_item_created": true})).await;
        hub.say("a cola").await;
        let mut c = hub.connected().await;
        let events = c.turn(300, "response.done").await;
        assert!(of_type(&events, "conversation.item.created").is_empty());
        assert_eq!(of_type(&events, "conversation.item.added").len(), 1);
        assert!(!of_type(&events, "conversation.item.input_audio_transcription.completed").is_empty());
    }

    #[tokio::test]
    async fn no_transcripts_knob_still_calls_the_tool() {
        let hub = hub().await;
        hub.set_faults(json!({"no_transcripts": true})).await;
        hub.say("a vanilla shake").await;
        let mut c = hub.connected().await;
        let events = c.turn(300, "response.done").await;
        assert!(!types(&events).iter().any(|t| t.contains("input_audio_transcription")), "{:?}", types(&events));
        let done = of_type(&events, "response.function_call_arguments.done")[0];
        assert_eq!(done["arguments"], r#"{"items":[{"name":"Vanilla Shake","options":[],"quantity":1}]}"#);
    }

    #[tokio::test]
    async fn answer_latency_knob_delays_the_answer_sdp() {
        let hub = hub().await;
        hub.set_faults(json!({"answer_latency_ms": {"min": 300, "max": 350}})).await;
        let token = hub.token().await;
        let (_, offer, _) = Client::new().await;
        let t0 = Instant::now();
        assert_eq!(hub.post_offer(Some(&token), "application/sdp", offer).await.status(), 201);
        let took = t0.elapsed();
        // At least the knob's minimum; the upper bound only has to rule out a forgotten knob.
        assert!(took >= Duration::from_millis(300) && took < WAIT, "{took:?}");
    }

    #[tokio::test]
    async fn close_after_knob_ends_the_call() {
        const CLOSE_AFTER: Duration = Duration::from_millis(1000);
        let hub = hub().await;
        hub.set_faults(json!({"close_after_ms": CLOSE_AFTER.as_millis() as u64})).await;
        // The hub starts its countdown when the channel opens, which is after this instant.
        let before_open = Instant::now();
        let mut c = hub.connected().await;
        c.quiet_for(Duration::from_millis(100)).await;
        let (live, checked_after) = (hub.hub.live_calls(), before_open.elapsed());
        // Only a look taken before the countdown can have run out proves anything.
        if checked_after < CLOSE_AFTER {
            assert_eq!(live, 1, "still open before the deadline");
        }
        let until = Instant::now() + WAIT;
        while (hub.hub.live_calls() > 0 || !c.channel_closed) && Instant::now() < until {
            c.pump(Instant::now() + Duration::from_millis(20)).await;
        }
        assert_eq!(hub.hub.live_calls(), 0, "the call ended");
        assert!(before_open.elapsed() >= CLOSE_AFTER, "ended {:?} after the offer", before_open.elapsed());
        assert!(c.channel_closed, "the client sees its channel close");
    }

    #[tokio::test]
    async fn bad_fault_and_utterance_bodies_are_400() {
        let hub = hub().await;
        for body in [json!({"bogus": 1}), json!({"answer_latency_ms": {"min": 5, "max": 1}})] {
            let r = hub.http.post(format!("{}/api/v1/dev/voice-faults", hub.base)).json(&body).send().await.unwrap();
            assert_eq!(r.status(), 400);
        }
        for body in [json!({"text": "  "}), json!({"nope": 1})] {
            let r = hub.http.post(format!("{}/api/v1/dev/utterances", hub.base)).json(&body).send().await.unwrap();
            assert_eq!(r.status(), 400);
            assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "bad_request");
        }
        let faults: VoiceFaults =
            hub.http.get(format!("{}/api/v1/dev/voice-faults", hub.base)).send().await.unwrap().json().await.unwrap();
        assert_eq!(faults, VoiceFaults::default(), "a refused body changes nothing");
    }

    #[tokio::test]
    async fn fault_statuses_outside_400_to_599_are_refused_with_a_message() {
        let hub = hub().await;
        hub.set_faults(json!({"token_status": 503})).await;
        for (body, says) in [
            (json!({"token_status": 200}), "token_status must be an HTTP error status from 400 to 599, got 200"),
            (json!({"token_status": 399}), "from 400 to 599, got 399"),
            (json!({"sdp_status": 600}), "sdp_status must be an HTTP error status from 400 to 599, got 600"),
            (json!({"sdp_status": 503, "sdp_hang": true}), "sdp_status and sdp_hang cannot both be set"),
            (json!({"token_status": 70000}), "token_status"),
            (json!({"sdp_status": "503"}), "sdp_status"),
            (json!({"sdp_hang": "yes"}), "sdp_hang"),
        ] {
            let r = hub.http.post(format!("{}/api/v1/dev/voice-faults", hub.base)).json(&body).send().await.unwrap();
            assert_eq!(r.status(), 400, "{body}");
            let error: Value = r.json().await.unwrap();
            assert_eq!(error["error"]["code"], "bad_request");
            let message = error["error"]["message"].as_str().unwrap();
            assert!(message.contains(says), "{body}: {message}");
        }
        let faults: Value =
            hub.http.get(format!("{}/api/v1/dev/voice-faults", hub.base)).send().await.unwrap().json().await.unwrap();
        assert_eq!(
            faults,
            json!({"answer_latency_ms": null, "drop_item_created": false, "no_transcripts": false, "close_after_ms": null,
                   "token_status": 503, "sdp_status": null, "sdp_hang": false}),
            "a refused body changes nothing"
        );
    }

    #[tokio::test]
    async fn token_status_knob_answers_openai_style_errors_and_mints_no_token() {
        let hub = hub().await;
        let url = format!("{}/api/v1/realtime/session", hub.base);
        for (status, code, message) in [
            (401, "invalid_api_key", "Incorrect API key provided."),
            (429, "rate_limit_exceeded", "Rate limit reached for requests. Please try again in a few seconds."),
            (500, "server_error", "The server had an error while processing your request."),
            (503, "service_unavailable", "The voice service is temporarily unavailable."),
            (502, "server_error", "The voice service failed (502 Bad Gateway)."),
            (403, "request_refused", "The voice service refused the request (403 Forbidden)."),
        ] {
            hub.set_faults(json!({"token_status": status})).await;
            // The fault is state: every request answers it until it is changed.
            for _ in 0..2 {
                let r = hub.http.post(&url).send().await.unwrap();
                assert_eq!(r.status(), status);
                let kind = if status < 500 { "invalid_request_error" } else { "server_error" };
                let body: Value = r.json().await.unwrap();
                assert_eq!(body, json!({"error": {"type": kind, "code": code, "message": message}}));
            }
            assert_eq!(hub.hub.outstanding_tokens(), 0, "no token minted under {status}");
        }
        hub.set_faults(json!({})).await;
        hub.token().await;
        assert_eq!(hub.hub.outstanding_tokens(), 1);
    }

    #[tokio::test]
    async fn sdp_status_knob_refuses_offers_and_leaves_the_token_usable() {
        let hub = hub().await;
        let token = hub.token().await;
        let (_, offer, _) = Client::new().await;
        for (status, code, message) in [
            (400, "invalid_offer", "Invalid SDP offer."),
            (503, "service_unavailable", "The voice service is temporarily unavailable."),
            (401, "invalid_api_key", "Incorrect API key provided."),
            (500, "server_error", "The server had an error while processing your request."),
        ] {
            hub.set_faults(json!({"sdp_status": status})).await;
            for _ in 0..2 {
                let r = hub.post_offer(Some(&token), "application/sdp", offer.clone()).await;
                assert_eq!(r.status(), status);
                assert_eq!(
                    r.json::<Value>().await.unwrap()["error"],
                    json!({
                        "type": if status < 500 { "invalid_request_error" } else { "server_error" },
                        "code": code, "message": message,
                    })
                );
            }
            assert_eq!(hub.hub.live_calls(), 0);
        }
        // Authentication comes first: a request without a token is refused as before.
        let r = hub.post_offer(None, "application/sdp", offer.clone()).await;
        assert_eq!(r.status(), 401);
        assert_eq!(r.json::<Value>().await.unwrap()["error"]["message"], "missing bearer token");
        hub.set_faults(json!({})).await;
        assert_eq!(
            hub.post_offer(Some(&token), "application/sdp", offer).await.status(),
            201,
            "the token was not used"
        );
        assert_eq!(hub.hub.live_calls(), 1);
    }

    #[tokio::test]
    async fn a_hung_sdp_answer_blocks_no_other_request_nor_a_normal_call_after_it() {
        // One call slot: a hang that took it would keep the normal call below out.
        let hub = start_hub(VoiceSettings { max_calls: 1, ..VoiceSettings::default() }).await;
        hub.set_faults(json!({"sdp_hang": true})).await;
        let token = hub.token().await;
        let (_, offer, _) = Client::new().await;
        let request = hub
            .http
            .post(format!("{}/v1/realtime/calls", hub.base))
            .header("Content-Type", "application/sdp")
            .bearer_auth(&token)
            .body(offer);
        let hung = tokio::spawn(async move { request.send().await.unwrap() });
        let until = Instant::now() + WAIT;
        while hub.hub.held_offers() == 0 && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(hub.hub.held_offers(), 1, "the offer is held");

        // Other requests are answered meanwhile.
        let t0 = Instant::now();
        let faults: VoiceFaults =
            hub.http.get(format!("{}/api/v1/dev/voice-faults", hub.base)).send().await.unwrap().json().await.unwrap();
        assert!(faults.sdp_hang);
        hub.token().await;
        assert!(t0.elapsed() < Duration::from_secs(1), "took {:?}", t0.elapsed());

        // Cleared: the next offer is answered and its call runs, while the first still hangs.
        hub.set_faults(json!({})).await;
        let mut c = hub.connected().await;
        assert_eq!(hub.hub.live_calls(), 1);
        hub.say("a cola").await;
        let events = c.turn(200, "response.done").await;
        assert_eq!(of_type(&events, "response.function_call_arguments.done")[0]["name"], "add_to_order");
        assert!(!hung.is_finished(), "the hung answer is still held");
        assert_eq!(hub.hub.held_offers(), 1);

        // Shutting down ends it.
        hub.hub.shutdown().await;
        let r = tokio::time::timeout(WAIT, hung).await.expect("answered at shutdown").unwrap();
        assert_eq!(r.status(), 503);
        assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "shutting_down");
        assert_eq!(hub.hub.held_offers(), 0);
    }

    #[tokio::test]
    async fn a_hung_sdp_answer_ends_with_504_at_its_bound_or_when_the_client_leaves() {
        const HANG: Duration = Duration::from_millis(400);
        let hub = start_hub(VoiceSettings { sdp_hang_for: HANG, ..VoiceSettings::default() }).await;
        hub.set_faults(json!({"sdp_hang": true})).await;
        let token = hub.token().await;
        let (_, offer, _) = Client::new().await;
        let t0 = Instant::now();
        let r = hub.post_offer(Some(&token), "application/sdp", offer.clone()).await;
        let took = t0.elapsed();
        assert_eq!(r.status(), 504);
        assert!(took >= HANG && took < WAIT, "{took:?}");
        assert_eq!(
            r.json::<Value>().await.unwrap(),
            json!({"error": {"type": "server_error", "code": "timeout", "message": "The voice service did not answer in time."}})
        );
        assert_eq!(hub.hub.held_offers(), 0);

        // A client that gives up first frees the held request.
        let gave_up = hub
            .http
            .post(format!("{}/v1/realtime/calls", hub.base))
            .header("Content-Type", "application/sdp")
            .bearer_auth(&token)
            .body(offer.clone())
            .timeout(Duration::from_millis(100))
            .send()
            .await;
        assert!(gave_up.unwrap_err().is_timeout());
        let until = Instant::now() + HANG;
        while hub.hub.held_offers() > 0 && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(hub.hub.held_offers(), 0, "released before its bound");

        hub.set_faults(json!({})).await;
        assert_eq!(
            hub.post_offer(Some(&token), "application/sdp", offer).await.status(),
            201,
            "the token was not used"
        );
    }

    #[tokio::test]
    async fn the_spoken_reply_reads_back_the_kiosk_and_a_spoken_yes_places_the_order() {
        let hub = hub().await;
        for text in ["two cheeseburgers and a large fries", "that's all", "no, wait", "yes please"] {
            hub.say(text).await;
        }
        let mut c = hub.connected().await;
        let (name, _, id) = call_of(&c.turn(300, "response.done").await);
        assert_eq!(name, "add_to_order");
        let added =
            json!({"ok": true, "message": "Added 2 × Cheeseburger, 1 × Fries (Large).", "order": {"items": []}});
        assert_eq!(reply_to(&mut c, &id, added).await, "Added 2 × Cheeseburger, 1 × Fries (Large). Anything else?");

        let (name, args, id) = call_of(&c.turn(300, "response.done").await);
        assert_eq!((name.as_str(), args), ("confirm_order", json!({"action": "checkout"})));
        let question = "That's 2 × Cheeseburger and 1 × Fries (Large), $22.47. Shall I place it?";
        let asks = json!({"ok": true, "needs_confirmation": true, "message": question, "order": {"total": "$22.47"}});
        assert_eq!(reply_to(&mut c, &id, asks).await, question);

        // "No, wait": no tool call, a question back.
        let events = c.turn(300, "response.done").await;
        assert!(of_type(&events, "response.function_call_arguments.done").is_empty(), "{:?}", types(&events));
        assert_eq!(
            of_type(&events, "response.output_audio_transcript.done")[0]["transcript"],
            "Okay, what would you like to change?"
        );

        let (name, args, id) = call_of(&c.turn(300, "response.done").await);
        assert_eq!((name.as_str(), args), ("confirm_order", json!({"action": "checkout"})));
        let placed = json!({"ok": true, "placed": true, "message": "Placing the order.", "order": {}});
        assert_eq!(reply_to(&mut c, &id, placed).await, "Great, your order is on its way to the kitchen.");
    }

    #[tokio::test]
    async fn barge_in_cancels_the_playing_reply_and_the_next_turn_is_normal() {
        let hub = hub().await;
        hub.say("hello there").await;
        hub.say("a vanilla shake").await;
        let mut c = hub.connected().await;
        let playing = c.turn(300, "output_audio_buffer.started").await;
        let response_id = playing.last().unwrap()["response_id"].clone();

        // The customer presses to talk: the kiosk cancels the response and clears the audio.
        c.send(json!({"type": "response.cancel"}));
        c.send(json!({"type": "output_audio_buffer.clear", "event_id": "evt_clear"}));
        // The transcript of what was already spoken may still arrive before the cancel lands.
        let events: Vec<Value> = c
            .events_until("response.done")
            .await
            .into_iter()
            .filter(|e| e["type"] != "response.output_audio_transcript.delta")
            .collect();
        assert_eq!(types(&events), ["output_audio_buffer.cleared", "response.done"]);
        assert_eq!(events[0]["response_id"], response_id);
        let response = &events[1]["response"];
        assert_eq!((&response["id"], response["status"].as_str()), (&response_id, Some("cancelled")));
        assert_eq!(response["status_details"]["reason"], "client_cancelled");
        // The clear found nothing playing any more.
        assert_eq!(c.next_event(WAIT).await.unwrap()["type"], "output_audio_buffer.cleared");
        // Playback stops: a late packet or two at most, and no stopped/done for the reply.
        c.quiet_for(Duration::from_millis(100)).await;
        let packets = c.audio_packets_in;
        let later = c.quiet_for(Duration::from_millis(500)).await;
        assert!(later.is_empty(), "{:?}", types(&later));
        assert!(c.audio_packets_in <= packets + 2, "{} packets after the cancel", c.audio_packets_in - packets);

        c.send(json!({"type": "response.cancel", "event_id": "evt_cancel_again"}));
        let e = c.next_event(WAIT).await.unwrap();
        assert_eq!(
            (e["error"]["code"].as_str(), e["error"]["event_id"].as_str()),
            (Some("response_cancel_not_active"), Some("evt_cancel_again"))
        );

        // `turn` clears the input buffer, then commits: a normal next turn.
        let events = c.turn(300, "response.done").await;
        assert!(!types(&events).contains(&"error"), "{:?}", types(&events));
        let done = of_type(&events, "response.function_call_arguments.done")[0];
        assert_eq!(done["arguments"], r#"{"items":[{"name":"Vanilla Shake","options":[],"quantity":1}]}"#);
        assert_eq!(events.last().unwrap()["response"]["status"], "completed");
    }

    #[tokio::test]
    async fn dev_endpoints_are_off_outside_dev_mode() {
        let hub = start_hub(VoiceSettings { dev_mode: false, ..VoiceSettings::default() }).await;
        let r = hub
            .http
            .post(format!("{}/api/v1/dev/utterances", hub.base))
            .json(&json!({"text": "a cola"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        let r = hub.http.get(format!("{}/api/v1/dev/voice-faults", hub.base)).send().await.unwrap();
        assert_eq!(r.status(), 404);
    }

    #[tokio::test]
    async fn manual_turns_wait_for_response_create_and_one_response_at_a_time() {
        let hub = hub().await;
        let mut c = hub.connected().await;
        c.send(json!({"type": "session.update", "session": {"type": "realtime", "audio": {"input": {"turn_detection": null}}}}));
        let updated = c.next_event(WAIT).await.unwrap();
        assert_eq!(updated["type"], "session.updated");
        assert_eq!(updated["session"]["audio"]["input"]["turn_detection"], Value::Null);
        assert_eq!(updated["session"]["audio"]["input"]["transcription"]["model"], "gpt-4o-mini-transcribe");

        hub.say("hello there").await;
        let events = c.turn(300, "conversation.item.done").await;
        assert!(of_type(&events, "response.created").is_empty());
        assert!(c.quiet_for(Duration::from_millis(300)).await.is_empty(), "no response without response.create");

        // Nothing on the menu: a spoken reply, which stays active while it plays.
        c.send(json!({"type": "response.create"}));
        // The transcript goes out as the reply is spoken, from its start.
        let reply = c.events_until("response.output_audio_transcript.delta").await;
        assert!(types(&reply).contains(&"output_audio_buffer.started"));
        assert!(
            of_type(&reply, "response.output_audio_transcript.delta")[0]["delta"]
                .as_str()
                .unwrap()
                .starts_with("Sorry")
        );
        c.send(json!({"type": "response.create", "event_id": "evt_second"}));
        let e = c.events_until("error").await;
        assert_eq!(e.last().unwrap()["error"]["code"], "conversation_already_has_active_response");
        c.send(json!({"type": "response.cancel"}));
        let done = c.events_until("response.done").await;
        assert_eq!(done.last().unwrap()["response"]["status"], "cancelled");
        c.send(json!({"type": "response.cancel"}));
        assert_eq!(c.events_until("error").await.last().unwrap()["error"]["code"], "response_cancel_not_active");
    }

    #[tokio::test]
    async fn malformed_client_events_get_errors_and_the_call_continues() {
        let hub = hub().await;
        let mut c = hub.connected().await;
        let id = c.channel.unwrap();
        assert!(c.rtc.channel(id).unwrap().write(false, b"{not json").unwrap());
        assert_eq!(c.next_event(WAIT).await.unwrap()["error"]["code"], "invalid_json");
        c.send(json!({"type": "no.such.event"}));
        assert_eq!(c.next_event(WAIT).await.unwrap()["error"]["code"], "invalid_value");
        c.send(json!({"type": "conversation.item.create", "item": {"type": "function_call_output"}}));
        assert_eq!(c.next_event(WAIT).await.unwrap()["error"]["code"], "missing_required_parameter");
        c.send(json!({"type": "input_audio_buffer.clear"}));
        assert_eq!(c.next_event(WAIT).await.unwrap()["type"], "input_audio_buffer.cleared");
    }

    #[tokio::test]
    async fn shutdown_closes_live_calls_within_the_bound() {
        let hub = hub().await;
        let mut clients = Vec::new();
        for _ in 0..3 {
            clients.push(hub.connected().await);
        }
        assert_eq!(hub.hub.live_calls(), 3);
        let t0 = Instant::now();
        assert_eq!(hub.hub.shutdown().await, 0, "every call ended within SHUTDOWN_BOUND");
        // `shutdown` gives up at the bound; the margin is for a busy machine.
        assert!(t0.elapsed() < SHUTDOWN_BOUND + Duration::from_secs(1), "took {:?}", t0.elapsed());
        let (_, offer, _) = Client::new().await;
        let token = hub.token().await;
        assert_eq!(hub.post_offer(Some(&token), "application/sdp", offer).await.status(), 503);
    }

    #[tokio::test]
    async fn channel_open_time_over_20_calls() {
        let hub = hub().await;
        let mut times = Vec::new();
        for _ in 0..20 {
            let token = hub.token().await;
            let (mut c, offer, pending) = Client::new().await;
            let t0 = Instant::now();
            let r = hub.post_offer(Some(&token), "application/sdp", offer).await;
            c.accept(pending, &r.text().await.unwrap());
            let e = c.next_event(WAIT).await.expect("session.created");
            assert_eq!(e["type"], "session.created");
            times.push(t0.elapsed());
        }
        times.sort();
        let median = times[times.len() / 2];
        let max = *times.last().unwrap();
        println!("[voice] channel open (SDP POST -> session.created), 20 calls: median {median:?}, max {max:?}");
        assert!(max < WAIT);
    }
}
