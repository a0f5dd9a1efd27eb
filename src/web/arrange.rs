//! Reordering a container's children in place (see [`crate::core::arrange`]): the fewest elements
//! move, each with `Element.moveBefore` where the browser has it, which keeps a moved element's
//! focus and state; elsewhere with `insertBefore`, giving the focus back to what had it.

use wasm_bindgen::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, Node};

use crate::core::arrange::to_move;
use crate::core::fast_hash::FastMap;
use crate::core::sort;

#[wasm_bindgen(inline_js = "export function childKeys(parent, selector, attribute) {
  const keys = [];
  for (const child of parent.children) keys.push(child.matches(selector) ? child.getAttribute(attribute) : null);
  return JSON.stringify(keys);
}")]
extern "C" {
    /// The `attribute` of each child of `parent` that matches `selector` (`null` for the others),
    /// in document order, as a JSON array: read in one call, where reading them one by one
    /// would cost several calls into the browser per child, with a string each way.
    #[wasm_bindgen(js_name = childKeys, catch)]
    fn child_keys(parent: &Element, selector: &str, attribute: &str) -> Result<String, JsValue>;
}

/// Puts the children of `parent` that match `selector` in the order of `keys` (their values of
/// `attribute`), moving as few as possible. Other children, and children whose key is not in
/// `keys` or repeats an earlier child's, are left where they are; keys with no child are skipped.
/// Returns how many elements moved; `None` when the children could not be read or an element
/// could not be moved (logged): they may not stand in that order then.
///
/// The children's keys are read in one call; only the elements that move, and the ones they move
/// before, are fetched.
pub fn arrange(parent: &Element, selector: &str, attribute: &str, keys: &[&str]) -> Option<usize> {
    let children_keys: Vec<Option<String>> = match child_keys(parent, selector, attribute)
        .map_err(|e| super::js_error_message(&e))
        .and_then(|json| serde_json::from_str(&json).map_err(|e| e.to_string()))
    {
        Ok(keys) => keys,
        Err(e) => {
            log::error!("[Arrange] the children's {attribute} could not be read: {e}");
            return None;
        }
    };
    let placed = ranked(children_keys.iter().map(Option::as_deref), keys);
    let children = parent.children();
    move_into_place(parent, placed, |index| children.item(u32::try_from(index).ok()?))
}

/// [`arrange`] for children whose order is known already: `current` is the keys (values of
/// `attribute`) of the last children of `parent`, in document order (what the last arrangement
/// left, when nothing has added to `parent` since; other children come before them). Nothing is
/// read but the elements that move and the ones they move before, each taken by its place and
/// checked by its key. `None` when one of those is not what `current` says (it is not the
/// document's order; nothing has moved then), or when a move failed: [`arrange`] will read the
/// order.
pub fn arrange_known(parent: &Element, attribute: &str, current: &[&str], keys: &[&str]) -> Option<usize> {
    let placed = ranked(current.iter().map(|&key| Some(key)), keys);
    let children = parent.children();
    let first = usize::try_from(children.length()).ok()?.checked_sub(current.len())?;
    move_into_place(parent, placed, |position| {
        let element = children.item(u32::try_from(first + position).ok()?)?;
        (element.get_attribute(attribute).as_deref() == Some(current[position])).then_some(element)
    })
}

/// Each child taking part, as (its place among `now`, its rank in `keys`), in document order:
/// those whose key is in `keys`, the first child with each key.
fn ranked<'a>(now: impl Iterator<Item = Option<&'a str>>, keys: &[&str]) -> Vec<(usize, usize)> {
    let rank: FastMap<&str, usize> = keys.iter().enumerate().map(|(i, &k)| (k, i)).collect();
    let mut seen = vec![false; keys.len()];
    now.enumerate()
        .filter_map(|(place, key)| Some((place, *rank.get(key?)?)))
        .filter(|&(_, r)| !std::mem::replace(&mut seen[r], true))
        .collect()
}

/// Moves the fewest of the `placed` children (see [`ranked`]) to put them in rank order. `fetch`
/// gives the element at a place; every element a move needs is fetched before the first move
/// (the collections it reads are live). `None`, with nothing moved, when `fetch` finds none, or
/// when a move failed.
fn move_into_place(
    parent: &Element,
    placed: Vec<(usize, usize)>,
    fetch: impl Fn(usize) -> Option<Element>,
) -> Option<usize> {
    let ranks: Vec<usize> = placed.iter().map(|&(_, r)| r).collect();
    let moves = to_move(&ranks);
    if !moves.contains(&true) {
        return Some(0);
    }
    // Where the last of them goes: after the last one now, before what follows it.
    let tail: Option<Node> = fetch(placed.last()?.0)?.next_sibling();
    let mut by_rank: Vec<(usize, usize, bool)> =
        placed.into_iter().zip(moves).map(|((place, r), moved)| (r, place, moved)).collect();
    sort::sort_by_key(&mut by_rank, |&(r, _, _)| r);
    // Each move: the element, and what it goes before (the next in rank, or the tail).
    let mut planned: Vec<(Element, Option<Node>)> = Vec::new();
    let mut next: Option<usize> = None;
    for &(_, place, must_move) in by_rank.iter().rev() {
        if must_move {
            let before = match next {
                Some(next) => Some(Node::from(fetch(next)?)),
                None => tail.clone(),
            };
            planned.push((fetch(place)?, before));
        }
        next = Some(place);
    }
    carry_out(parent, &planned)
}

/// Carries out the planned moves, every one even after a failure; `None` when one failed.
fn carry_out(parent: &Element, planned: &[(Element, Option<Node>)]) -> Option<usize> {
    let moved = planned.iter().filter(|(element, before)| move_before(parent, element, before.as_ref())).count();
    (moved == planned.len()).then_some(moved)
}

/// `parent.moveBefore(element, before)`, or `insertBefore` and the focus given back; `false`
/// when the element could not be moved (logged).
fn move_before(parent: &Element, element: &Element, before: Option<&Node>) -> bool {
    let before_value: JsValue = before.map_or(JsValue::NULL, |b| b.clone().into());
    let move_fn = js_sys::Reflect::get(parent, &JsValue::from_str("moveBefore"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    if let Some(move_fn) = move_fn {
        match move_fn.call2(parent, element, &before_value) {
            Ok(_) => return true,
            Err(e) => log::warn!("[Arrange] moveBefore failed ({}): inserting instead", super::js_error_message(&e)),
        }
    }
    let focused = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
        .filter(|active| element.contains(Some(active)));
    if let Err(e) = parent.insert_before(element, before) {
        log::error!("[Arrange] an element could not be moved: {}", super::js_error_message(&e));
        return false;
    }
    if let Some(active) = focused.and_then(|a| a.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = active.focus();
    }
    true
}
