//! `/kiosk`: what a customer touches — order by voice (push-to-talk) or by touch, then submit.

mod cart;
mod item_sheet;
mod menu;
pub mod pairing;
pub mod voice_button;

use std::rc::Rc;

use leptos::prelude::*;
use restaurant_protocol::{Menu, MenuItem, OrderSource};

use self::cart::CartPanel;
use self::item_sheet::ItemSheetDialog;
use self::menu::MenuPanel;
use self::pairing::PairingScreen;
use self::voice_button::VoiceButton;
use super::call::CallPanel;
use super::shell::{ConnectionBanner, InsecureContextNotice, PageShell};
use crate::core::cart::{LineKey, LineRequest};
use crate::core::config::VoiceMode;
use crate::core::item_sheet::ItemSheet;
use crate::core::voice::{OrderAction, Timeouts, TurnState};
use crate::hooks::config::use_runtime_config;
use crate::hooks::device_pairing::{UseDevicePairingReturn, use_device_pairing};
use crate::hooks::kiosk_call::use_kiosk_call;
use crate::hooks::kiosk_cart::use_kiosk_cart;
use crate::hooks::live_menu::use_live_menu;
use crate::hooks::media_access::use_media_access;
use crate::hooks::order_quote::use_order_quote;
use crate::hooks::order_submit::use_order_submit;
use crate::hooks::voice_session::{UseVoiceSessionOptions, use_voice_session};
use crate::web::http;
use crate::web::realtime::{HttpTransport, VoiceTransport};

/// Loads the menu, then shows the kiosk.
#[component]
pub fn KioskPage() -> impl IntoView {
    let config = use_runtime_config();
    let device = use_device_pairing(&config.api_base, config.mode);
    let menu_url = format!("{}/api/v1/menu", config.api_base);
    let menu = LocalResource::new(move || {
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
        <Suspense fallback=|| view! { <p class="boot" data-testid="menu-loading">"Loading the menu…"</p> }>
            {move || {
                menu.get().map(|result| match result {
                    Ok(menu) => {
                        let transport: Rc<dyn VoiceTransport> = Rc::new(HttpTransport {
                            token_url: token_url.clone(),
                            realtime_url: realtime_url.clone(),
                            device_token: Rc::new(move || device.current_token()),
                        });
                        view! { <KioskView menu=menu transport voice_mode timeouts=Timeouts::default() device/> }.into_any()
                    }
                    Err(e) => {
                        log::error!("[Kiosk] menu could not be loaded: {e}");
                        view! {
                            <div class="config-error" role="alert" data-testid="menu-error">
                                <h1>"The menu could not be loaded"</h1>
                                <p>{e}</p>
                                <button class="btn" data-testid="menu-retry" on:click=move |_| menu.refetch()>"Retry"</button>
                            </div>
                        }
                        .into_any()
                    }
                })
            }}
        </Suspense>
    }
}

/// The kiosk for a loaded menu. `transport` and `timeouts` are injectable (tests answer the SDP
/// in-page and shorten the timeouts; the core is never edited for that), and so are the device
/// pairing (created here when not given) and `window.isSecureContext` (read when not given).
#[component]
pub fn KioskView(
    menu: Menu,
    transport: Rc<dyn VoiceTransport>,
    voice_mode: VoiceMode,
    timeouts: Timeouts,
    #[prop(optional)] device: Option<UseDevicePairingReturn>,
    #[prop(optional)] secure_context: Option<bool>,
) -> impl IntoView {
    let config = use_runtime_config();
    let device = device.unwrap_or_else(|| use_device_pairing(&config.api_base, config.mode));
    let media = use_media_access(secure_context);
    let cart = use_kiosk_cart();
    let submit = use_order_submit(&config.api_base, cart, device);
    let used_voice = RwSignal::new(false);
    let reviewing = RwSignal::new(false);
    let on_order = Callback::new(move |action: OrderAction| match action {
        OrderAction::Checkout => submit.submit(OrderSource::Voice),
        OrderAction::Review | OrderAction::Confirm => reviewing.set(true),
        OrderAction::Cancel => cart.clear(),
    });
    let on_unpaired = Callback::new(move |sent_token: Option<String>| device.report_unpaired(sent_token));
    let voice = use_voice_session(
        menu.clone(),
        cart,
        UseVoiceSessionOptions {
            transport,
            mode: voice_mode,
            prefetch_token: true,
            on_event: None,
            timeouts,
            on_order,
            media: media.clone(),
            on_unpaired: Some(on_unpaired),
        },
    );
    let call = use_kiosk_call(&config.ws_url, media.clone(), device);
    let quote = use_order_quote(&config.api_base, cart, device);
    let on_menu = Callback::new(move |menu: Menu| {
        voice.set_menu(menu);
        quote.menu_changed();
    });
    let live = use_live_menu(&config.ws_url, menu, device, on_menu);
    let menu = live.menu();
    // The item sheet: a new line of a tapped item, or a cart line being edited.
    let sheet = RwSignal::new(None::<ItemSheet>);
    let on_pick = Callback::new(move |item: MenuItem| {
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
    Effect::new(move |_| {
        if state.get() == TurnState::Recording {
            used_voice.set(true);
        }
    });
    let source = Signal::derive(move || if used_voice.get() { OrderSource::Voice } else { OrderSource::Kiosk });
    let banner = voice.banner();
    let transcript = voice.transcript();
    let problem = voice.problem();
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
            <div class="kiosk-layout" class:reviewing=move || reviewing.get() hidden=needs_pairing>
                <div class="kiosk-left">
                    <section class="kiosk-voice" aria-label="Order by voice" data-testid="voice-panel">
                        <InsecureContextNotice access=media.clone()/>
                        <VoiceButton voice mode=voice_mode/>
                        <Show when=move || problem.with(Option::is_some)>
                            <div class="voice-error" role="alert" data-testid="voice-error">
                                <strong data-testid="voice-error-title">{move || problem.get().map(|p| p.title).unwrap_or_default()}</strong>
                                <p>{move || problem.get().map(|p| p.help).unwrap_or_default()}</p>
                                <button class="btn" data-testid="voice-retry" on:click=move |_| {
                                    voice.dismiss_problem();
                                    voice.force_reset();
                                    voice.connect();
                                }>
                                    {move || if state.get() == TurnState::Disconnected || state.get() == TurnState::Error { "Reconnect" } else { "Try again" }}
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
                        <button class="btn link small" data-testid="voice-reset" on:click=move |_| voice.force_reset()>
                            "Reset voice"
                        </button>
                    </section>
                    <MenuPanel menu on_pick/>
                </div>
                <CartPanel cart submit quote menu source on_edit/>
                <Show when=move || sheet.with(Option::is_some)>
                    <ItemSheetDialog sheet cart menu/>
                </Show>
            </div>
        </PageShell>
    }
}
