//! The item sheet: a modal dialog to choose an item's options, quantity and allergies (required
//! groups first, defaults chosen, the price following), then add it or update the cart line it
//! was opened from. What may be added is [`ItemSheet::check`]'s decision, the menu's own rule.

use leptos::html::Dialog;
use leptos::prelude::*;
use restaurant_protocol::{Allergen, Menu, format_price};

use crate::core::item_sheet::{GroupView, ItemSheet, OptionView};
use crate::hooks::kiosk_cart::KioskCart;
use crate::web::dialog::ModalDialog;

/// "+$1.00", "−$0.50", or nothing for a free option.
fn price_delta(cents: i32) -> String {
    match cents {
        0 => String::new(),
        c if c > 0 => format!("+{}", format_price(i64::from(c))),
        c => format!("−{}", format_price(-i64::from(c))),
    }
}

fn allergen_list(allergens: &[Allergen]) -> String {
    allergens.iter().map(|a| a.label()).collect::<Vec<_>>().join(", ")
}

/// One group, built once per item: what changes with each tap (chosen, disabled, satisfied) is
/// read from `views`, so the control the customer just used keeps its focus.
#[component]
fn GroupFieldset(
    index: usize,
    shape: (String, Vec<String>),
    views: Memo<Vec<GroupView>>,
    sheet: RwSignal<Option<ItemSheet>>,
) -> impl IntoView {
    let group = move |f: fn(&GroupView) -> String| views.with(|v| v.get(index).map(f).unwrap_or_default());
    let option = move |o: usize, f: fn(&OptionView) -> bool| {
        views.with(|v| v.get(index).and_then(|g| g.options.get(o)).is_some_and(f))
    };
    let single = views.with_untracked(|v| v.get(index).is_some_and(|g| g.single));
    let input_type = if single { "radio" } else { "checkbox" };
    let (group_id, option_ids) = shape;
    let name = format!("group-{group_id}");
    view! {
        <fieldset
            class="sheet-group"
            data-testid="sheet-group"
            data-group-id=group_id
            data-required=move || group(|g| g.required.to_string())
            data-satisfied=move || group(|g| g.satisfied.to_string())
        >
            <legend>
                <span class="sheet-group-name">{move || group(|g| g.name.clone())}</span>
                " "
                <span class="sheet-group-rule">{move || group(|g| g.rule.clone())}</span>
            </legend>
            <div class="sheet-options">
                {option_ids
                    .into_iter()
                    .enumerate()
                    .map(|(o, id)| {
                        let input_id = format!("sheet-option-{id}");
                        let label_for = input_id.clone();
                        let text = move |f: fn(&OptionView) -> String| {
                            views.with(|v| v.get(index).and_then(|g| g.options.get(o)).map(f).unwrap_or_default())
                        };
                        let toggled = id.clone();
                        view! {
                            <label
                                class="sheet-option"
                                class:selected=move || option(o, |x| x.selected)
                                class:sold-out=move || option(o, |x| x.sold_out)
                                data-testid="sheet-option"
                                data-option-id=id
                                for=label_for
                            >
                                <input
                                    type=input_type
                                    id=input_id
                                    name=name.clone()
                                    prop:checked=move || option(o, |x| x.selected)
                                    disabled=move || option(o, |x| x.disabled)
                                    on:change=move |_| sheet.update(|s| {
                                        if let Some(s) = s {
                                            s.toggle(&toggled);
                                        }
                                    })
                                />
                                <span class="sheet-option-name">{move || text(|x| x.name.clone())}</span>
                                <span class="sheet-option-price">{move || text(|x| price_delta(x.price_cents))}</span>
                                <Show when=move || option(o, |x| x.sold_out)>
                                    <span class="sold-out-badge">"Sold out"</span>
                                </Show>
                            </label>
                        }
                    })
                    .collect_view()}
            </div>
        </fieldset>
    }
}

/// The open sheet (`sheet` is `Some`); closes by setting it to `None`. Follows `menu` while open:
/// an option that sells out meanwhile is dropped from the choice.
#[component]
pub fn ItemSheetDialog(
    sheet: RwSignal<Option<ItemSheet>>,
    cart: KioskCart,
    #[prop(into)] menu: Signal<Menu>,
) -> impl IntoView {
    let dialog_ref = NodeRef::<Dialog>::new();
    let modal = StoredValue::new_local(None::<ModalDialog>);
    let close = move || sheet.set(None);
    Effect::new(move |_| {
        if let Some(dialog) = dialog_ref.get() {
            modal.set_value(ModalDialog::show(dialog, move || {
                let _ = sheet.try_set(None);
            }));
        }
    });
    on_cleanup(move || {
        // Closes the dialog and gives focus back to the item (or cart line) that opened it.
        let _ = modal.try_update_value(|m| m.take());
    });
    Effect::new(move |_| {
        let menu = menu.get();
        sheet.update(|s| {
            if let Some(s) = s
                && let Some(item) = menu.item(&s.item().id).cloned()
                && &item != s.item()
            {
                s.refresh(item);
            }
        });
    });

    let views = Memo::new(move |_| sheet.with(|s| s.as_ref().map(ItemSheet::groups).unwrap_or_default()));
    // Which groups and options there are: changes only with the item, so the controls stay put.
    let shape = Memo::new(move |_| {
        views.with(|v| {
            v.iter()
                .map(|g| (g.id.clone(), g.options.iter().map(|o| o.id.clone()).collect::<Vec<_>>()))
                .collect::<Vec<_>>()
        })
    });
    let read = move |f: fn(&ItemSheet) -> String| sheet.with(|s| s.as_ref().map(f).unwrap_or_default());
    let failed = RwSignal::new(None::<String>);
    let problem = move || sheet.with(|s| s.as_ref().and_then(|s| s.check().err()).map(|p| p.to_string()));
    // A new choice clears what the cart last refused.
    Effect::new(move |_| {
        sheet.track();
        failed.set(None);
    });
    let editing = move || sheet.with(|s| s.as_ref().is_some_and(|s| s.editing().is_some()));
    let add = move |_| {
        let Some(current) = sheet.get_untracked() else { return };
        let request = current.request();
        let result = match current.editing() {
            Some(key) => cart.replace(key, current.item(), &request),
            None => cart.add(current.item(), &request),
        };
        match result {
            Ok(_) => close(),
            // The cart refused (a line would go over 99, or it is gone): say so in the sheet.
            Err(e) => failed.set(Some(e.to_string())),
        }
    };
    let title_id = "item-sheet-title";

    view! {
        <dialog class="item-sheet" node_ref=dialog_ref aria-labelledby=title_id data-testid="item-sheet">
            <header class="sheet-header">
                <h2 id=title_id data-testid="sheet-title">{move || read(|s| s.item().name.clone())}</h2>
                <p class="sheet-description">{move || read(|s| s.item().description.clone())}</p>
                <Show when=move || sheet.with(|s| s.as_ref().is_some_and(|s| !s.item().allergens.is_empty()))>
                    <p class="sheet-allergens" data-testid="sheet-allergens">
                        "Contains: " {move || read(|s| allergen_list(&s.item().allergens))}
                    </p>
                </Show>
            </header>
            <div class="sheet-body">
                {move || {
                    shape
                        .get()
                        .into_iter()
                        .enumerate()
                        .map(|(index, shape)| view! { <GroupFieldset index shape views sheet/> })
                        .collect_view()
                }}
                <details class="sheet-allergies" data-testid="sheet-allergies">
                    <summary>"Food allergy? Tell the kitchen"</summary>
                    <div class="sheet-options">
                        {Allergen::ALL
                            .into_iter()
                            .map(|allergen| {
                                let id = format!("sheet-allergy-{}", allergen.as_str());
                                let label_for = id.clone();
                                view! {
                                    <label class="sheet-option" for=label_for data-testid="sheet-allergy" data-allergen=allergen.as_str()>
                                        <input
                                            type="checkbox"
                                            id=id
                                            prop:checked=move || sheet.with(|s| s.as_ref().is_some_and(|s| s.allergies().contains(&allergen)))
                                            on:change=move |_| sheet.update(|s| {
                                                if let Some(s) = s {
                                                    s.toggle_allergy(allergen);
                                                }
                                            })
                                        />
                                        <span>{allergen.label()}</span>
                                    </label>
                                }
                            })
                            .collect_view()}
                    </div>
                </details>
                <label class="sheet-note">
                    "Note for the kitchen"
                    <textarea
                        data-testid="sheet-note"
                        maxlength="500"
                        rows="2"
                        prop:value=move || read(|s| s.note().to_string())
                        on:input=move |ev| {
                            let text = event_target_value(&ev);
                            sheet.update(|s| {
                                if let Some(s) = s {
                                    s.set_note(&text);
                                }
                            })
                        }
                    ></textarea>
                </label>
            </div>
            <footer class="sheet-footer">
                <div class="cart-item-qty" role="group" aria-label="Quantity">
                    <button class="btn qty" data-testid="sheet-dec" aria-label="One less"
                        on:click=move |_| sheet.update(|s| if let Some(s) = s { s.set_quantity(s.quantity().saturating_sub(1)) })>"−"</button>
                    <span data-testid="sheet-qty" aria-live="polite">{move || sheet.with(|s| s.as_ref().map_or(1, ItemSheet::quantity))}</span>
                    <button class="btn qty" data-testid="sheet-inc" aria-label="One more"
                        on:click=move |_| sheet.update(|s| if let Some(s) = s { s.set_quantity(s.quantity() + 1) })>"+"</button>
                </div>
                <p class="sheet-problem" data-testid="sheet-problem" role="status">{move || failed.get().or_else(problem).unwrap_or_default()}</p>
                <button class="btn" data-testid="sheet-cancel" on:click=move |_| close()>"Cancel"</button>
                <button class="btn primary" data-testid="sheet-add" disabled=move || problem().is_some() on:click=add>
                    {move || if editing() { "Update order" } else { "Add to order" }}
                    " · "
                    <span data-testid="sheet-price">{move || format_price(sheet.with(|s| s.as_ref().map_or(0, ItemSheet::total_cents)))}</span>
                </button>
            </footer>
        </dialog>
    }
}
