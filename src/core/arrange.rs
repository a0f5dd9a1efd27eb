//! Reordering a list in place with the fewest moves: the elements whose desired ranks form a
//! longest increasing subsequence of the current order stay where they are, every other element
//! moves once. A kitchen display puts a rushed ticket first by moving that one element, not the
//! tickets between its old and new place (what a keyed list's diff does) and not by the grid's
//! `order` property, which makes the browser lay out every ticket on screen again.

/// Which elements must move, given each element's desired rank in its current order (ranks are
/// distinct). `true` marks an element to move; the others already stand in their desired relative
/// order, and no smaller set of moves can reorder the list.
#[must_use]
pub fn to_move(ranks: &[usize]) -> Vec<bool> {
    // Patience sorting: `tails[k]` is the index (in `ranks`) of the smallest last rank of an
    // increasing run of length k + 1; `back[i]` the index before `i` in the run ending at `i`.
    let mut tails: Vec<usize> = Vec::new();
    let mut back: Vec<Option<usize>> = vec![None; ranks.len()];
    for (i, &rank) in ranks.iter().enumerate() {
        let k = tails.partition_point(|&t| ranks[t] < rank);
        back[i] = k.checked_sub(1).map(|k| tails[k]);
        if k == tails.len() {
            tails.push(i);
        } else {
            tails[k] = i;
        }
    }
    let mut moves = vec![true; ranks.len()];
    let mut at = tails.last().copied();
    while let Some(i) = at {
        moves[i] = false;
        at = back[i];
    }
    moves
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Applies the plan as the page does: the desired order from last to first, each moved
    /// element put just before the one that follows it (or at the end).
    fn apply(current: &[usize]) -> (Vec<usize>, usize) {
        let moves = to_move(current);
        let mut list: Vec<usize> = current.to_vec();
        let mut desired: Vec<usize> = current.to_vec();
        desired.sort_unstable();
        let mut moved = 0;
        let mut next: Option<usize> = None;
        for &rank in desired.iter().rev() {
            let i = current.iter().position(|&r| r == rank).unwrap();
            if moves[i] {
                moved += 1;
                list.retain(|&r| r != rank);
                let at = next.map_or(list.len(), |n| list.iter().position(|&r| r == n).unwrap());
                list.insert(at, rank);
            }
            next = Some(rank);
        }
        (list, moved)
    }

    #[test]
    fn an_ordered_list_moves_nothing() {
        assert_eq!(to_move(&[0, 1, 2, 3]), vec![false; 4]);
        assert!(to_move(&[]).is_empty());
    }

    #[test]
    fn one_ticket_rushed_to_the_front_is_the_only_one_moved() {
        // The ticket at the back now ranks first: the others keep their place.
        assert_eq!(to_move(&[1, 2, 3, 4, 0]), vec![false, false, false, false, true]);
        // And back again from the front.
        assert_eq!(to_move(&[4, 0, 1, 2, 3]), vec![true, false, false, false, false]);
    }

    #[test]
    fn a_reversed_list_keeps_one_element() {
        assert_eq!(to_move(&[3, 2, 1, 0]).iter().filter(|&&m| !m).count(), 1);
    }

    proptest! {
        /// Any permutation ends in the desired order, with exactly n − LIS moves.
        #[test]
        fn the_plan_sorts_any_permutation_with_the_fewest_moves(
            ranks in (0usize..40).prop_flat_map(|n| Just((0..n).collect::<Vec<_>>()).prop_shuffle())
        ) {
            let (list, moved) = apply(&ranks);
            let mut sorted = ranks.clone();
            sorted.sort_unstable();
            prop_assert_eq!(&list, &sorted);
            // The longest increasing subsequence, by the quadratic definition.
            let mut best = vec![1usize; ranks.len()];
            for i in 0..ranks.len() {
                for j in 0..i {
                    if ranks[j] < ranks[i] {
                        best[i] = best[i].max(best[j] + 1);
                    }
                }
            }
            let lis = best.iter().copied().max().unwrap_or(0);
            prop_assert_eq!(moved, ranks.len() - lis);
        }
    }
}
