//! One sort for every list the pages sort.
//!
//! Each `sort_by` with its own comparator or element type compiles its own copy of the standard
//! library's sort into the wasm, 2–3 KB each, and the pages sort in over a dozen places. Here the
//! comparator is called through `dyn`: one copy sorts the list's positions, and the list is then
//! put in that order, in place. Equal items keep their order, as with `slice::sort_by`. The
//! busiest caller is the KDS grid, sorted again when a ticket is rushed: in a CPU profile of 300
//! tickets at 100 rushes a second, this sort with its comparisons was 0.5 % of the samples.

use std::cmp::Ordering;

/// Sorts `items` by `cmp`; equal items keep their order.
pub fn sort_by<T>(items: &mut [T], mut cmp: impl FnMut(&T, &T) -> Ordering) {
    if items.len() < 2 {
        return;
    }
    let mut order: Vec<usize> = (0..items.len()).collect();
    sort_positions(&mut order, &mut |a, b| cmp(&items[a], &items[b]));
    permute(items, &mut order);
}

/// Sorts `items` in ascending order; equal items keep their order.
pub fn sort<T: Ord>(items: &mut [T]) {
    sort_by(items, T::cmp);
}

/// Sorts `items` by `key`; items with equal keys keep their order.
pub fn sort_by_key<T, K: Ord>(items: &mut [T], mut key: impl FnMut(&T) -> K) {
    sort_by(items, |a, b| key(a).cmp(&key(b)));
}

/// The one instance of the standard sort: positions by `cmp`, ties by position (so stable).
#[inline(never)]
fn sort_positions(order: &mut [usize], cmp: &mut dyn FnMut(usize, usize) -> Ordering) {
    order.sort_unstable_by(|&a, &b| cmp(a, b).then(a.cmp(&b)));
}

/// Puts `items` in `order` (the new position `k` holds the item that was at `order[k]`), one
/// cycle of the permutation at a time. `order` is used up: each visited entry is set to its own
/// position, which also marks the cycles done.
fn permute<T>(items: &mut [T], order: &mut [usize]) {
    for start in 0..items.len() {
        let mut at = start;
        loop {
            let from = order[at];
            order[at] = at;
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn short_lists_and_ties() {
        let mut empty: Vec<u8> = Vec::new();
        sort(&mut empty);
        assert!(empty.is_empty());
        let mut one = vec![7];
        sort(&mut one);
        assert_eq!(one, [7]);
        let mut pairs = vec![(2, 'a'), (1, 'b'), (2, 'c'), (1, 'd')];
        sort_by_key(&mut pairs, |p| p.0);
        assert_eq!(pairs, [(1, 'b'), (1, 'd'), (2, 'a'), (2, 'c')]);
    }

    #[test]
    fn a_permutation_of_one_long_cycle() {
        // Each item one place on: one cycle through the whole list.
        let mut items: Vec<u32> = (1..100).chain([0]).collect();
        sort(&mut items);
        assert_eq!(items, (0..100).collect::<Vec<_>>());
    }

    proptest! {
        /// The same order as the standard library's stable sort, ties included.
        #[test]
        fn as_the_standard_stable_sort(items in proptest::collection::vec((0u8..8, any::<u16>()), 0..200)) {
            let mut ours = items.clone();
            sort_by(&mut ours, |a, b| a.0.cmp(&b.0));
            let mut std = items;
            std.sort_by_key(|a| a.0);
            prop_assert_eq!(ours, std);
        }
    }
}
