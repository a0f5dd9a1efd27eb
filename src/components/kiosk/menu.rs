//! The touch menu: categories of item buttons with description, price, allergens and a live
//! "Sold out" mark. Built once per menu; availability follows the live menu in place.

use leptos::prelude::*;
use restaurant_protocol::{Menu, MenuItem, format_price};

/// Calls `on_pick` with the item a customer taps (never a sold-out one).
#[component]
pub fn MenuPanel(#[prop(into)] menu: Signal<Menu>, on_pick: Callback<MenuItem>) -> impl IntoView {
    // The layout depends on which items there are, not on what is sold out.
    let layout = Memo::new(move |_| {
        menu.with(|m| {
            let mut categories: Vec<(String, Vec<String>)> = Vec::new();
            for item in &m.items {
                match categories.iter_mut().find(|(c, _)| c == &item.category) {
                    Some((_, ids)) => ids.push(item.id.clone()),
                    None => categories.push((item.category.clone(), vec![item.id.clone()])),
                }
            }
            categories
        })
    });
    let item = move |id: &str| menu.with(|m| m.item(id).cloned());
    view! {
        <section class="kiosk-menu" aria-labelledby="menu-heading" data-testid="menu">
            <h2 id="menu-heading" class="menu-heading">"Menu"</h2>
            {move || {
                layout
                    .get()
                    .into_iter()
                    .map(|(category, ids)| {
                        view! {
                            <h3 class="menu-category">{category}</h3>
                            <div class="menu-grid">
                                {ids
                                    .into_iter()
                                    .filter_map(|id| item(&id))
                                    .map(|first| {
                                        let id = first.id.clone();
                                        let sold_out = {
                                            let id = id.clone();
                                            move || item(&id).is_some_and(|i| !i.available)
                                        };
                                        let pick = {
                                            let id = id.clone();
                                            move |_| {
                                                if let Some(item) = item(&id).filter(|i| i.available) {
                                                    on_pick.run(item);
                                                }
                                            }
                                        };
                                        let allergens = first.allergens.iter().map(|a| a.label()).collect::<Vec<_>>().join(", ");
                                        let has_options = !first.modifier_groups.is_empty();
                                        let sold = sold_out.clone();
                                        view! {
                                            <button
                                                class="menu-item"
                                                class:sold-out=sold_out.clone()
                                                data-testid="menu-item"
                                                data-item-id=id
                                                data-has-options=has_options.to_string()
                                                data-available=move || (!sold()).to_string()
                                                aria-disabled=move || sold_out().to_string()
                                                on:click=pick
                                            >
                                                <span class="menu-item-name">{first.name.clone()}</span>
                                                {(!first.description.is_empty()).then(|| view! {
                                                    <span class="menu-item-desc">{first.description.clone()}</span>
                                                })}
                                                <span class="menu-item-price">{format_price(i64::from(first.price_cents))}</span>
                                                {(!allergens.is_empty()).then(|| view! {
                                                    <span class="menu-item-allergens" data-testid="menu-item-allergens">
                                                        "Contains: " {allergens}
                                                    </span>
                                                })}
                                                <Show when=sold.clone()>
                                                    <span class="sold-out-badge" data-testid="sold-out">"Sold out"</span>
                                                </Show>
                                            </button>
                                        }
                                    })
                                    .collect_view()}
                            </div>
                        }
                    })
                    .collect_view()
            }}
        </section>
    }
}
