//! A fast, unkeyed hash for the maps a screen looks up on every change: the ticket cache (by an
//! order's address) and the cards on screen (by order id).
//!
//! The standard hasher's keyed rounds cost more than the rest of such a lookup, in wasm most of
//! all. Its keys defend a map against inputs chosen to collide; these maps hold only what the
//! restaurant's own hub sent, at most a few thousand entries.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// Multiplies in each word (the golden-ratio constant spreads the bits), eight bytes at a time,
/// after the length.
#[derive(Debug, Default, Clone, Copy)]
pub struct FastHasher(u64);

const K: u64 = 0x9E37_79B9_7F4A_7C15;

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        // The length first: the last word is padded with zeros, and a zero word leaves a zero
        // state as it was.
        self.add(bytes.len() as u64);
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_usize(&mut self, n: usize) {
        // All of it (a length, a discriminant, an address): `finish` brings well mixed bits
        // down, so the aligned addresses' zero low bits do not crowd the buckets.
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        // A product's high bits are its best mixed, and the table indexes by the low ones: the
        // rotation brings the middle-high bits down (what `rustc-hash` does too).
        self.0.rotate_left(26)
    }
}

pub type FastBuild = BuildHasherDefault<FastHasher>;
pub type FastMap<K, V> = HashMap<K, V, FastBuild>;
pub type FastSet<K> = HashSet<K, FastBuild>;

#[cfg(test)]
mod tests {
    use std::hash::{BuildHasher, Hash};

    use super::*;

    fn hash(value: impl Hash) -> u64 {
        FastBuild::default().hash_one(value)
    }

    #[test]
    fn strings_differing_anywhere_hash_apart() {
        let id = "3f2c9a6e-8d41-4b7a-9c55-0e1f2a3b4c5d";
        let mut seen = HashSet::new();
        seen.insert(hash(id));
        for at in 0..id.len() {
            let mut changed = id.as_bytes().to_vec();
            changed[at] ^= 1;
            assert!(seen.insert(hash(std::str::from_utf8(&changed).unwrap())), "byte {at}");
        }
        // Trailing zero bytes and a shorter key are not confused.
        assert_ne!(hash("ab"), hash("ab\0"));
        assert_ne!(hash(""), hash("\0"));
    }

    #[test]
    fn a_map_keyed_by_ids_or_addresses_spreads_its_keys() {
        let ids: Vec<String> = (0..5000).map(|n| format!("order-{n:05}")).collect();
        let hashes: HashSet<u64> = ids.iter().map(|id| hash(id.as_str())).collect();
        assert_eq!(hashes.len(), ids.len());
        // Aligned addresses land in different buckets of a small table, and small numbers (enum
        // discriminants, lengths) hash apart.
        let small: HashSet<u64> = (0..64usize).map(hash).collect();
        assert_eq!(small.len(), 64);
        let buckets: HashSet<u64> = (0..64usize).map(|n| hash(0x10_0000 + n * 16) & 63).collect();
        assert!(buckets.len() > 32, "{} of 64 buckets", buckets.len());
        // The ids fill a table's buckets as random keys would (about 1016 of 1024 for 5000).
        let id_buckets: HashSet<u64> = ids.iter().map(|id| hash(id.as_str()) & 1023).collect();
        assert!(id_buckets.len() > 990, "{} of 1024 buckets", id_buckets.len());
        let mut map: FastMap<String, usize> = FastMap::default();
        ids.iter().enumerate().for_each(|(n, id)| {
            map.insert(id.clone(), n);
        });
        assert!(ids.iter().enumerate().all(|(n, id)| map[id.as_str()] == n));
    }
}
