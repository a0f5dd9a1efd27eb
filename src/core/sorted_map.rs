//! A map kept as one vector sorted by key: the pages' ordered maps.
//!
//! The maps the pages keep are small (stations, item names, the outbox's orders) or are mostly
//! read and copied (the board's 1000 active orders, copied for the page on every frame it
//! changed). A `BTreeMap` compiles its node code (search, insert with splits, remove with merges,
//! clone, drop) again for every key and value type, about 5–7 KB of wasm each. Here that is a
//! binary search and `Vec`'s own insert and remove. A copy is one allocation, where a tree's is
//! one per node. Inserting or removing in the middle moves the entries after it: at 1000 orders
//! that is 24 KB of memory moved, once per order placed or taken off.
//!
//! Iteration is in ascending key order, as with `BTreeMap`, and the API is the part of it the
//! pages use.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Index;

/// Entries sorted by key, each key once.
#[derive(Clone, PartialEq, Eq)]
pub struct SortedMap<K, V> {
    entries: Vec<(K, V)>,
}

/// A set kept as one sorted vector.
pub type SortedSet<K> = SortedMap<K, ()>;

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        SortedMap { entries: Vec::new() }
    }
}

impl<K, V> SortedMap<K, V> {
    pub const fn new() -> Self {
        SortedMap { entries: Vec::new() }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// The entries in ascending key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> + ExactSizeIterator {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The entries in ascending key order, values mutable.
    pub fn iter_mut(&mut self) -> impl DoubleEndedIterator<Item = (&K, &mut V)> + ExactSizeIterator {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator {
        self.entries.iter().map(|(_, v)| v)
    }

    /// The values in ascending key order, taken out of the map.
    pub fn into_values(self) -> impl DoubleEndedIterator<Item = V> + ExactSizeIterator {
        self.entries.into_iter().map(|(_, v)| v)
    }

    /// The entry with the smallest key.
    pub fn first(&self) -> Option<(&K, &V)> {
        self.entries.first().map(|(k, v)| (k, v))
    }
}

impl<K: Ord, V> SortedMap<K, V> {
    /// `Ok(position)` of `key`, or `Err(position)` where it would go.
    fn find<Q>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).ok().map(|at| &self.entries[at].1)
    }

    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).ok().map(|at| &mut self.entries[at].1)
    }

    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).is_ok()
    }

    /// Puts `value` under `key`, returning the value it replaced. A key already here is kept.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(at) => Some(std::mem::replace(&mut self.entries[at].1, value)),
            Err(at) => {
                self.entries.insert(at, (key, value));
                None
            }
        }
    }

    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).ok().map(|at| self.entries.remove(at).1)
    }

    /// The value under `key`, made with `V::default()` under `owned(key)` when missing: the
    /// owned key is only made for a new entry. `owned` must give a key equal to `key`.
    pub fn entry_or_default<Q>(&mut self, key: &Q, owned: impl FnOnce(&Q) -> K) -> &mut V
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
        V: Default,
    {
        let at = match self.find(key) {
            Ok(at) => at,
            Err(at) => {
                let made = owned(key);
                debug_assert!(made.borrow() == key, "SortedMap::entry_or_default: the owned key differs");
                self.entries.insert(at, (made, V::default()));
                at
            }
        };
        &mut self.entries[at].1
    }

    /// Splits off the entries with keys at or above `key`, as `BTreeMap::split_off` does.
    pub fn split_off<Q>(&mut self, key: &Q) -> Self
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let at = self.entries.partition_point(|(k, _)| k.borrow() < key);
        SortedMap { entries: self.entries.split_off(at) }
    }
}

impl<K: Ord> SortedMap<K, ()> {
    /// Adds `key` to the set; `false` when it was already there (as `BTreeSet::insert`).
    pub fn insert_key(&mut self, key: K) -> bool {
        self.insert(key, ()).is_none()
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for SortedMap<K, V> {
    /// As `BTreeMap`'s: a key given twice keeps its last value.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut entries: Vec<(K, V)> = iter.into_iter().collect();
        if !entries.is_sorted_by(|a, b| a.0 < b.0) {
            // Stable, so of equal keys the last given is last.
            crate::core::sort::sort_by(&mut entries, |a, b| a.0.cmp(&b.0));
            let mut kept: Vec<(K, V)> = Vec::with_capacity(entries.len());
            for entry in entries {
                match kept.last_mut() {
                    Some(last) if last.0 == entry.0 => *last = entry,
                    _ => kept.push(entry),
                }
            }
            entries = kept;
        }
        SortedMap { entries }
    }
}

impl<K: Ord, V> Extend<(K, V)> for SortedMap<K, V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (key, value) in iter {
            self.insert(key, value);
        }
    }
}

impl<K, V> IntoIterator for SortedMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;

    /// The entries in ascending key order.
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a, K, V> IntoIterator for &'a SortedMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (K, V)>, fn(&'a (K, V)) -> (&'a K, &'a V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

impl<K, V, Q> Index<&Q> for SortedMap<K, V>
where
    K: Ord + Borrow<Q>,
    Q: Ord + ?Sized,
{
    type Output = V;

    /// # Panics
    /// When `key` is not in the map, as `BTreeMap`'s index does.
    fn index(&self, key: &Q) -> &V {
        match self.get(key) {
            Some(value) => value,
            None => panic!("SortedMap: no entry for the key"),
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for SortedMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: serde::Serialize, V: serde::Serialize> serde::Serialize for SortedMap<K, V> {
    /// As a JSON object (a map), in key order.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, u16),
        Remove(u8),
        Bump(u8),
        SplitOff(u8),
        Extend(Vec<(u8, u16)>),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (any::<u8>(), any::<u16>()).prop_map(|(k, v)| Op::Insert(k % 64, v)),
            2 => any::<u8>().prop_map(|k| Op::Remove(k % 64)),
            2 => any::<u8>().prop_map(|k| Op::Bump(k % 64)),
            1 => any::<u8>().prop_map(|k| Op::SplitOff(k % 64)),
            1 => proptest::collection::vec((0u8..64, any::<u16>()), 0..8).prop_map(Op::Extend),
        ]
    }

    proptest! {
        /// Every operation gives what `BTreeMap`'s gives, and the map reads the same after it.
        #[test]
        fn behaves_as_a_btree_map(ops in proptest::collection::vec(op(), 0..200)) {
            let (mut ours, mut tree) = (SortedMap::<u8, u16>::new(), BTreeMap::<u8, u16>::new());
            for op in ops {
                match op {
                    Op::Insert(k, v) => prop_assert_eq!(ours.insert(k, v), tree.insert(k, v)),
                    Op::Remove(k) => prop_assert_eq!(ours.remove(&k), tree.remove(&k)),
                    Op::Bump(k) => {
                        *ours.entry_or_default(&k, |k| *k) += 1;
                        *tree.entry(k).or_default() += 1;
                    }
                    Op::SplitOff(k) => {
                        let (a, b) = (ours.split_off(&k), tree.split_off(&k));
                        prop_assert_eq!(a.into_iter().collect::<Vec<_>>(), b.into_iter().collect::<Vec<_>>());
                    }
                    Op::Extend(entries) => {
                        ours.extend(entries.clone());
                        tree.extend(entries);
                    }
                }
                prop_assert_eq!(ours.len(), tree.len());
                prop_assert_eq!(ours.iter().collect::<Vec<_>>(), tree.iter().collect::<Vec<_>>());
                for k in 0..64u8 {
                    prop_assert_eq!(ours.get(&k), tree.get(&k));
                    prop_assert_eq!(ours.contains_key(&k), tree.contains_key(&k));
                }
            }
        }

        /// Collected from any list, a key given twice keeps its last value, as in `BTreeMap`.
        #[test]
        fn collects_as_a_btree_map(entries in proptest::collection::vec((0u8..32, any::<u16>()), 0..100)) {
            let ours: SortedMap<u8, u16> = entries.iter().copied().collect();
            let tree: BTreeMap<u8, u16> = entries.into_iter().collect();
            prop_assert_eq!(ours.into_iter().collect::<Vec<_>>(), tree.into_iter().collect::<Vec<_>>());
        }
    }

    #[test]
    fn looks_up_borrowed_keys_and_serializes_as_an_object() {
        let mut map: SortedMap<String, u32> = SortedMap::new();
        *map.entry_or_default("b", str::to_string) += 2;
        *map.entry_or_default("a", str::to_string) += 1;
        *map.entry_or_default("b", |_| unreachable!("the key is there")) += 1;
        assert_eq!(map["b"], 3);
        assert_eq!(map.get("c"), None);
        assert_eq!(serde_json::to_string(&map).unwrap(), r#"{"a":1,"b":3}"#);
        assert_eq!(format!("{map:?}"), r#"{"a": 1, "b": 3}"#);
    }

    #[test]
    fn a_set_says_whether_a_key_was_new() {
        let mut set: SortedSet<&str> = SortedSet::new();
        assert!(set.insert_key("x"));
        assert!(!set.insert_key("x"));
        assert!(set.contains_key("x"));
        assert_eq!(set.len(), 1);
    }
}
