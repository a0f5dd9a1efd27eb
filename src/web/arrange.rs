//! Reordering a container's children in place (see [`crate::core::arrange`]): the fewest elements
//! move, each with `Element.moveBefore` where the browser has it, which keeps a moved element's
//! focus and state; elsewhere with `insertBefore`, giving the focus back to what had it.

use std::collections::{HashMap, HashSet};

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, Node};

use crate::core::arrange::to_move;

/// Puts the children of `parent` that match `selector` in the order of `keys` (their values of
/// `attribute`), moving as few as possible. Other children, and children whose key is not in
/// `keys` or repeats an earlier child's, are left where they are; keys with no child are skipped.
/// Returns how many elements moved.
pub fn arrange(parent: &Element, selector: &str, attribute: &str, keys: &[&str]) -> usize {
    let rank: HashMap<&str, usize> = keys.iter().enumerate().map(|(i, &k)| (k, i)).collect();
    let children = parent.children();
    let mut placed: Vec<(Element, usize)> = Vec::with_capacity(keys.len());
    let mut seen = HashSet::with_capacity(keys.len());
    let mut last: Option<Element> = None;
    for i in 0..children.length() {
        let Some(child) = children.item(i) else { continue };
        if !child.matches(selector).unwrap_or(false) {
            continue;
        }
        if let Some(&r) = child.get_attribute(attribute).as_deref().and_then(|key| rank.get(key))
            && seen.insert(r)
        {
            last = Some(child.clone());
            placed.push((child, r));
        }
    }
    let ranks: Vec<usize> = placed.iter().map(|(_, r)| *r).collect();
    let moves = to_move(&ranks);
    if !moves.contains(&true) {
        return 0;
    }
    // Where the last of them goes: after the last one now, before what follows it.
    let tail: Option<Node> = last.and_then(|l| l.next_sibling());
    let mut by_rank: Vec<(usize, Element, bool)> =
        placed.into_iter().zip(moves).map(|((element, r), moved)| (r, element, moved)).collect();
    by_rank.sort_unstable_by_key(|(r, _, _)| *r);
    let mut next: Option<Node> = tail;
    let mut moved = 0;
    for (_, element, must_move) in by_rank.into_iter().rev() {
        if must_move {
            move_before(parent, &element, next.as_ref());
            moved += 1;
        }
        next = Some(element.unchecked_into());
    }
    moved
}

/// `parent.moveBefore(element, before)`, or `insertBefore` and the focus given back.
fn move_before(parent: &Element, element: &Element, before: Option<&Node>) {
    let before_value: JsValue = before.map_or(JsValue::NULL, |b| b.clone().into());
    let move_fn = js_sys::Reflect::get(parent, &JsValue::from_str("moveBefore"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    if let Some(move_fn) = move_fn {
        match move_fn.call2(parent, element, &before_value) {
            Ok(_) => return,
            Err(e) => log::warn!("[Arrange] moveBefore failed ({}): inserting instead", super::js_error_message(&e)),
        }
    }
    let focused = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
        .filter(|active| element.contains(Some(active)));
    if let Err(e) = parent.insert_before(element, before) {
        log::error!("[Arrange] an element could not be moved: {}", super::js_error_message(&e));
        return;
    }
    if let Some(active) = focused.and_then(|a| a.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = active.focus();
    }
}
