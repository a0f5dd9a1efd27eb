//! `/kiosk`: what a customer touches — order by voice (push-to-talk) or by touch, then submit.

mod cart;
mod item_sheet;
mod menu;
pub mod pairing;
pub mod voice_button;

use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use restaurant_protocol::{Menu, MenuItem, OrderSource};

use self::cart::CartPanel;
use self::item_sheet::ItemSheetDialog;
use self::menu::MenuPanel;
use self::pairing::PairingScreen;
use self::voice_button::VoiceButton;
use super::call::CallPanel;
use super::shell::{ConnectionBanner, InsecureContextNotice, PageShell};
use crate::core::cart::{CartLine, LineKey, LineRequest};
use crate::core::config::VoiceMode;
use crate::core::customer::{CustomerConfig, Notice, Phase};
use crate::core::item_sheet::ItemSheet;
use crate::core::submit::SubmitState;
use crate::core::voice::{OrderAction, Timeouts, TurnState};
use crate::hooks::config::use_runtime_config;
use crate::hooks::customer_session::{UseCustomerSessionOptions, use_customer_session};
use crate::hooks::device_pairing::{UseDevicePairingReturn, use_device_pairing};
use crate::hooks::kiosk_call::use_kiosk_call;
use crate::hooks::kiosk_cart::use_kiosk_cart;
use crate::hooks::live_menu::use_live_menu;
use crate::hooks::load::use_load;
use crate::hooks::media_access::use_media_access;
use crate::hooks::order_quote::use_order_quote;
use crate::hooks::order_submit::use_order_submit;
use crate::hooks::voice_session::{UseVoiceSessionOptions, VoiceEvent, use_voice_session};
use crate::web::http;
use crate::web::realtime::{HttpTransport, VoiceTransport};

/// Loads the menu, then shows the kiosk.
#[component]
pub fn KioskPage() -> impl IntoView {
    let config = use_runtime_config();
    let device = use_device_pairing(&config.api_base, config.mode);
    let menu_url = format!("{}/api/v1/menu", config.api_base);
    let menu = use_load(move || {
        let url = menu_url.clone();
        async move {
            let r = http::get(&url).await.map_err(|e| e.to_string())?;
            if !r.is_success() {
                return Err(format!("HTTP {}", r.status));
            }
            serde_json::from_str::<Menu>(&r.body).map_err(|e| format!("unreadable menu: {e}"))
        }
    });
    let (token_url, realtime_url, voice_mode) = (config.token_url, config.realtime_url, config.voice_mode);
    view! {
        {move || match menu.get() {
            None => view! { <p class="boot" data-testid="menu-loading">"Loading the menu…"</p> }.into_any(),
            Some(Ok(menu)) => {
                let transport: Rc<dyn VoiceTransport> = Rc::new(HttpTransport {
                    token_url: token_url.clone(),
                    realtime_url: realtime_url.clone(),
                    device_token: Rc::new(move || device.current_token()),
                });
                view! { <KioskView menu=menu transport voice_mode timeouts=Timeouts::default() device/> }.into_any()
            }
            Some(Err(e)) => {
                log::error!("[Kiosk] menu could not be loaded: {e}");
                view! {
                    <div class="config-error" role="alert" data-testid="menu-error">
                        <h1>"The menu could not be loaded"</h1>
                        <p>{e}</p>
                        <button class="btn" data-testid="menu-retry" on:click=move |_| menu.reload()>"Retry"</button>
                    </div>
                }
                .into_any()
            }
        }}
    }
}

/// The kiosk for a loaded menu. `transport` and `timeouts` are injectable (tests answer the SDP
/// in-page and shorten the timeouts; the core is never edited for that), and so are the device
/// pairing (created here when not given), `window.isSecureContext` (read when not given) and the
/// customer session's times (from the runtime configuration when not given).
#[component]
pub fn KioskView(
    menu: Menu,
    transport: Rc<dyn VoiceTransport>,
    voice_mode: VoiceMode,
    timeouts: Timeouts,
    #[prop(optional)] device: Option<UseDevicePairingReturn>,
    #[prop(optional)] secure_context: Option<bool>,
    #[prop(optional)] customer: Option<CustomerConfig>,
    /// Keep a voice token ready (the default); off only to measure what it saves.
    #[prop(optional)]
    prefetch_token: Option<bool>,
) -> impl IntoView {
    let config = use_runtime_config();
    let device = device.unwrap_or_else(|| use_device_pairing(&config.api_base, config.mode));
    let media = use_media_access(secure_context);
    let cart = use_kiosk_cart();
    let submit = use_order_submit(&config.api_base, cart, device);
    let used_voice = RwSignal::new(false);
    let reviewing = RwSignal::new(false);
    // The cart the assistant asked "Shall I place it?" about (the question stands while the cart
    // is unchanged).
    let asked = RwSignal::new(None::<Vec<CartLine>>);
    // The item sheet: a new line of a tapped item, or a cart line being edited.
    let sheet = RwSignal::new(None::<ItemSheet>);
    let on_clear = Callback::new(move |()| {
        cart.clear();
        sheet.set(None);
        reviewing.set(false);
        asked.set(None);
        used_voice.set(false);
        // Leaves a number screen or a refusal; an order still on its way is kept and sent.
        submit.acknowledge();
    });
    let customer_config = customer.unwrap_or(CustomerConfig {
        idle: Duration::from_secs(config.kiosk_idle_secs.into()),
        warning: Duration::from_secs(config.kiosk_warning_secs.into()),
        ..CustomerConfig::default()
    });
    let customer = use_customer_session(UseCustomerSessionOptions {
        config: customer_config,
        voice_enabled: media.allows_microphone(),
        on_clear,
    });
    let on_order = Callback::new(move |action: OrderAction| match action {
        OrderAction::Checkout => {
            asked.set(None);
            submit.submit(OrderSource::Voice);
        }
        OrderAction::Confirm => {
            asked.set(cart.with(|c| c.lines().to_vec()));
            reviewing.set(true);
        }
        OrderAction::Review => reviewing.set(true),
        OrderAction::Cancel => {
            asked.set(None);
            reviewing.set(false);
            cart.clear();
        }
    });
    let on_unpaired = Callback::new(move |sent_token: Option<String>| device.report_unpaired(sent_token));
    let on_event = Callback::new(move |event: VoiceEvent| customer.voice_event(event));
    let voice = use_voice_session(
        menu.clone(),
        cart,
        UseVoiceSessionOptions {
            transport,
            mode: voice_mode,
            prefetch_token: prefetch_token.unwrap_or(true),
            on_event: Some(on_event),
            timeouts,
            on_order,
            media: media.clone(),
            on_unpaired: Some(on_unpaired),
        },
    );
    customer.bind_voice(voice);
    let call = use_kiosk_call(&config.ws_url, media.clone(), device);
    let quote = use_order_quote(&config.api_base, cart, device);
    let on_menu = Callback::new(move |menu: Menu| {
        voice.set_menu(menu);
        quote.menu_changed();
    });
    let live = use_live_menu(&config.ws_url, menu, device, on_menu);
    let menu = live.menu();
    let on_pick = Callback::new(move |item: MenuItem| {
        customer.touched();
        if item.modifier_groups.is_empty() {
            let _ = cart.add(&item, &LineRequest::plain(1));
        } else {
            sheet.set(Some(ItemSheet::new(item)));
        }
    });
    let on_edit = Callback::new(move |key: LineKey| {
        let line = cart.with(|c| c.line(&key).cloned()).flatten();
        let item = menu.with_untracked(|m| m.item(&key.item_id).cloned());
        if let (Some(line), Some(item)) = (line, item) {
            sheet.set(Some(ItemSheet::edit(item, &line)));
        }
    });
    let on_new_order = Callback::new(move |()| customer.start_over());
    let on_connect = Callback::new(move |()| customer.connect_voice());
    let needs_pairing = move || device.state().get().needs_pairing();
    let header_extra = ViewFn::from(move || {
        view! {
            <button
                class="btn call-staff"
                data-testid="call-staff-button"
                disabled=move || !call.available() || call.view().with(|v| v.state.is_active())
                on:click=move |_| call.call(None)
            >
                "Call staff"
            </button>
            <CallPanel call/>
        }
    });
    let state = voice.state();
    let speaking = voice.speaking();
    let transcript = voice.transcript();
    let lines = cart.lines();
    Effect::new(move |_| {
        if state.get() == TurnState::Recording {
            used_voice.set(true);
        }
    });
    // The idle timer waits while the customer talks or the assistant answers, and restarts on
    // every word and every change to the order.
    Effect::new(move |_| {
        let busy = matches!(
            state.get(),
            TurnState::Recording | TurnState::Committing | TurnState::AwaitingTranscript | TurnState::AwaitingResponse
        ) || speaking.get();
        customer.set_busy(busy);
    });
    Effect::new(move |first: Option<()>| {
        transcript.track();
        lines.track();
        if first.is_some() {
            customer.activity();
        }
    });
    // Whose order is on its way: the customer ordering when it was first sent. Its number is
    // shown to that customer (or on the attract screen), never over the next customer's order.
    let submit_state = submit.state();
    let generation = customer.generation();
    let order_of = StoredValue::new(None::<u64>);
    Effect::new(move |was: Option<SubmitState>| {
        let state = submit_state.get();
        let first_send = matches!(state, SubmitState::Sending { attempt: 1 })
            && !matches!(was, Some(SubmitState::Sending { .. } | SubmitState::Retrying { .. }));
        if first_send {
            order_of.set_value(Some(generation.get_untracked()));
        }
        if matches!(state, SubmitState::Sent { .. }) && !matches!(was, Some(SubmitState::Sent { .. }) | None) {
            let theirs = order_of.get_value().is_none_or(|g| g == generation.get_untracked());
            if theirs || customer.phase().get_untracked() == Phase::Attract {
                customer.placed();
            } else {
                log::info!("[Kiosk] the previous customer's order was placed; the next customer goes on ordering");
                submit.acknowledge();
            }
        }
        state
    });
    // A second order cannot go while one is on its way: the assistant says so instead of
    // promising it, and the next customer is told why their order waits.
    let pending = Signal::derive(move || {
        submit_state.with(|s| {
            matches!(s, SubmitState::Sending { .. } | SubmitState::Retrying { .. } | SubmitState::WaitingForPairing)
        })
    });
    Effect::new(move |_| {
        let reason = pending
            .get()
            .then(|| "an order is still being sent; it can be placed once that one is through".to_string());
        voice.set_order_blocked(reason);
    });
    let previous_pending =
        Signal::derive(move || pending.get() && order_of.get_value().is_some_and(|g| g != generation.get()));
    // The number screen belongs to the customer who ordered: hands-free listening stops there.
    let phase_signal = customer.phase();
    Effect::new(move |_| {
        if phase_signal.get() == Phase::Placed && voice_mode == VoiceMode::Vad {
            voice.set_muted(true);
        }
    });
    let source = Signal::derive(move || if used_voice.get() { OrderSource::Voice } else { OrderSource::Kiosk });
    let asking = Signal::derive(move || asked.with(|a| a.as_ref().is_some_and(|a| lines.with(|l| l == a))));
    let banner = voice.banner();
    let problem = voice.problem();
    let phase = customer.phase();
    let notice = customer.notice();
    let countdown = customer.countdown();
    view! {
        <PageShell
            page="kiosk"
            title="Order here"
            header_extra=header_extra
            banner=ViewFn::from(move || view! {
                <ConnectionBanner state=Signal::derive(move || banner.get().as_str()) text=Signal::derive(move || banner.get().text().to_string())/>
            })
        >
            <Show when=needs_pairing>
                <PairingScreen device/>
            </Show>
            <Show when=move || phase.get() == Phase::Attract && !needs_pairing()>
                <AttractScreen on_start=Callback::new(move |()| customer.start()) voice=voice.available()/>
            </Show>
            <div
                class="kiosk-layout"
                class:reviewing=move || reviewing.get()
                class:placed=move || phase.get() == Phase::Placed
                data-testid="kiosk-layout"
                data-phase=move || phase.get().as_str()
                hidden=needs_pairing
                on:pointerdown=move |_| customer.activity()
                on:keydown=move |_| customer.activity()
            >
                <div class="kiosk-left">
                    <section class="kiosk-voice" aria-label="Order by voice" data-testid="voice-panel">
                        <InsecureContextNotice access=media.clone()/>
                        <VoiceButton voice mode=voice_mode on_connect blocked=Signal::derive(move || phase.get() == Phase::Placed)/>
                        <Show when=move || notice.with(Option::is_some)>
                            <p class="voice-notice" role="status" data-testid="voice-notice" data-state=move || notice.get().map(Notice::as_str).unwrap_or_default()>
                                {move || notice.get().map(Notice::text).unwrap_or_default()}
                            </p>
                        </Show>
                        <Show when=move || problem.with(Option::is_some)>
                            <div class="voice-error" role="alert" data-testid="voice-error">
                                <strong data-testid="voice-error-title">{move || problem.get().map(|p| p.title).unwrap_or_default()}</strong>
                                <p data-testid="voice-error-help">{move || problem.get().map(|p| p.help).unwrap_or_default()}</p>
                                <button class="btn" data-testid="voice-retry" on:click=move |_| {
                                    voice.dismiss_problem();
                                    // Connected (a turn went wrong): the customer just talks again.
                                    if matches!(state.get_untracked(), TurnState::Disconnected | TurnState::Error) {
                                        customer.connect_voice();
                                    }
                                }>
                                    {move || if state.get() == TurnState::Disconnected || state.get() == TurnState::Error { "Reconnect" } else { "OK" }}
                                </button>
                            </div>
                        </Show>
                        <ol class="voice-transcript" data-testid="voice-transcript" aria-live="polite">
                            {move || transcript.get().into_iter().map(|line| view! {
                                <li
                                    class="transcript-line"
                                    class:customer=line.from_customer
                                    class:assistant=!line.from_customer
                                    class:partial=!line.is_final
                                    class:failed=line.failed
                                    data-testid=if line.from_customer { "transcript-customer" } else { "assistant-reply" }
                                    data-final=line.is_final.to_string()
                                >
                                    {if line.failed && line.text.is_empty() { "(not understood)".to_string() } else { line.text }}
                                </li>
                            }).collect_view()}
                        </ol>
                        <div class="voice-actions">
                            <button class="btn link small" data-testid="voice-reset" on:click=move |_| voice.force_reset()>
                                "Reset voice"
                            </button>
                            <button class="btn link small" data-testid="start-over" on:click=move |_| customer.start_over()>
                                "Start over"
                            </button>
                        </div>
                    </section>
                    <MenuPanel menu on_pick/>
                </div>
                <CartPanel cart submit quote menu source on_edit on_new_order asking previous_pending/>
                <Show when=move || sheet.with(Option::is_some)>
                    <ItemSheetDialog sheet cart menu/>
                </Show>
            </div>
            <Show when=move || phase.get() == Phase::Warning>
                <div class="idle-warning-backdrop">
                    <div class="idle-warning" role="alertdialog" aria-modal="true" aria-labelledby="idle-warning-title" data-testid="idle-warning">
                        <h2 id="idle-warning-title">"Are you still there?"</h2>
                        <p>
                            "Starting over in " <strong data-testid="idle-countdown">{move || countdown.get().unwrap_or(0)}</strong> " s"
                        </p>
                        <div class="idle-warning-actions">
                            <button class="btn primary" data-testid="still-here" on:click=move |_| customer.still_here()>"I'm still here"</button>
                            <button class="btn" data-testid="start-over-now" on:click=move |_| customer.start_over()>"Start over"</button>
                        </div>
                    </div>
                </div>
            </Show>
        </PageShell>
    }
}

/// What an idle kiosk shows: one big target that starts a customer's session.
#[component]
fn AttractScreen(on_start: Callback<()>, voice: bool) -> impl IntoView {
    view! {
        <button class="attract" data-testid="attract-start" on:click=move |_| on_start.run(())>
            <span class="attract-title">"Tap to start"</span>
            <span class="attract-sub">{if voice { "— or order by voice" } else { "and order by touch" }}</span>
        </button>
    }
}
