//! What was said, keyed by conversation `item_id`: the customer's transcribed speech and the
//! assistant's replies. Entries are created defensively when a delta arrives for an item whose
//! creation event was missed.

use std::collections::HashMap;

use crate::core::sort;

/// Longest text kept per entry (characters); longer text is truncated.
pub const MAX_TEXT_CHARS: usize = 10_000;
/// Final entries kept; older finals are evicted.
pub const MAX_FINAL_ENTRIES: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Assistant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryStatus {
    Partial,
    Final,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptEntry {
    pub item_id: String,
    pub role: Role,
    pub text: String,
    pub status: EntryStatus,
    /// Creation order.
    seq: u64,
}

/// A change worth showing: the entry's whole current text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptUpdate {
    pub item_id: String,
    pub role: Role,
    pub text: String,
    pub status: EntryStatus,
}

#[derive(Debug, Default)]
pub struct TranscriptMap {
    entries: HashMap<String, TranscriptEntry>,
    next_seq: u64,
}

fn cap(text: &mut String) {
    if let Some((idx, _)) = text.char_indices().nth(MAX_TEXT_CHARS) {
        text.truncate(idx);
    }
}

impl TranscriptMap {
    /// Entries in creation order.
    pub fn entries(&self) -> Vec<&TranscriptEntry> {
        let mut all: Vec<&TranscriptEntry> = self.entries.values().collect();
        sort::sort_by_key(&mut all, |e| e.seq);
        all
    }

    pub fn get(&self, item_id: &str) -> Option<&TranscriptEntry> {
        self.entries.get(item_id)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn entry(&mut self, item_id: &str, role: Role) -> &mut TranscriptEntry {
        let seq = &mut self.next_seq;
        self.entries.entry(item_id.to_string()).or_insert_with(|| {
            *seq += 1;
            TranscriptEntry {
                item_id: item_id.to_string(),
                role,
                text: String::new(),
                status: EntryStatus::Partial,
                seq: *seq,
            }
        })
    }

    /// A conversation item was created: start an empty entry (no-op if it exists).
    pub fn create(&mut self, item_id: &str, role: Role) {
        self.entry(item_id, role);
    }

    /// Appends a streamed piece, creating the entry if its creation event was missed.
    pub fn append(&mut self, item_id: &str, role: Role, delta: &str) -> TranscriptUpdate {
        if !self.entries.contains_key(item_id) {
            log::warn!("[Transcript] delta for unknown item {item_id}: creating the entry");
        }
        let entry = self.entry(item_id, role);
        if entry.status == EntryStatus::Partial {
            entry.text.push_str(delta);
            cap(&mut entry.text);
        }
        update(entry)
    }

    /// The full text is known: replace and mark final (creating the entry if needed).
    pub fn complete(&mut self, item_id: &str, role: Role, text: &str) -> TranscriptUpdate {
        let entry = self.entry(item_id, role);
        entry.text = text.to_string();
        cap(&mut entry.text);
        entry.status = EntryStatus::Final;
        let out = update(entry);
        self.evict_old_finals();
        out
    }

    pub fn fail(&mut self, item_id: &str, role: Role) -> TranscriptUpdate {
        let entry = self.entry(item_id, role);
        entry.status = EntryStatus::Failed;
        update(entry)
    }

    fn evict_old_finals(&mut self) {
        let mut finals: Vec<(u64, String)> = self
            .entries
            .values()
            .filter(|e| e.status == EntryStatus::Final)
            .map(|e| (e.seq, e.item_id.clone()))
            .collect();
        if finals.len() <= MAX_FINAL_ENTRIES {
            return;
        }
        sort::sort(&mut finals);
        let excess = finals.len() - MAX_FINAL_ENTRIES;
        for (_, id) in finals.into_iter().take(excess) {
            self.entries.remove(&id);
        }
    }
}

fn update(entry: &TranscriptEntry) -> TranscriptUpdate {
    TranscriptUpdate {
        item_id: entry.item_id.clone(),
        role: entry.role,
        text: entry.text.clone(),
        status: entry.status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_before_created_creates_the_entry_and_appends() {
        let mut map = TranscriptMap::default();
        map.append("item_123", Role::User, "Hello ");
        assert_eq!(map.get("item_123").unwrap().text, "Hello ");
        let up = map.append("item_123", Role::User, "world");
        assert_eq!(up.text, "Hello world");
        assert_eq!(up.status, EntryStatus::Partial);
    }

    #[test]
    fn completed_without_any_delta_creates_a_final_entry() {
        let mut map = TranscriptMap::default();
        let up = map.complete("i9", Role::User, "Two cheeseburgers");
        assert_eq!(up.status, EntryStatus::Final);
        assert_eq!(map.get("i9").unwrap().text, "Two cheeseburgers");
    }

    #[test]
    fn completed_replaces_streamed_text() {
        let mut map = TranscriptMap::default();
        map.create("i1", Role::User);
        map.append("i1", Role::User, "Too cheese");
        map.complete("i1", Role::User, "Two cheeseburgers");
        assert_eq!(map.get("i1").unwrap().text, "Two cheeseburgers");
        map.append("i1", Role::User, " late");
        assert_eq!(map.get("i1").unwrap().text, "Two cheeseburgers", "finals do not grow");
    }

    #[test]
    fn failed_marks_the_entry() {
        let mut map = TranscriptMap::default();
        map.create("i1", Role::User);
        assert_eq!(map.fail("i1", Role::User).status, EntryStatus::Failed);
    }

    #[test]
    fn text_is_capped_at_10000_chars() {
        let mut map = TranscriptMap::default();
        map.append("i1", Role::User, &"é".repeat(MAX_TEXT_CHARS + 5));
        assert_eq!(map.get("i1").unwrap().text.chars().count(), MAX_TEXT_CHARS);
        map.complete("i2", Role::User, &"a".repeat(MAX_TEXT_CHARS * 2));
        assert_eq!(map.get("i2").unwrap().text.len(), MAX_TEXT_CHARS);
    }

    #[test]
    fn finals_beyond_the_newest_50_are_evicted() {
        let mut map = TranscriptMap::default();
        map.append("partial", Role::User, "still talking");
        for i in 0..60 {
            map.complete(&format!("f{i}"), Role::User, "x");
        }
        assert_eq!(map.len(), MAX_FINAL_ENTRIES + 1);
        assert!(map.get("f9").is_none());
        assert!(map.get("f10").is_some());
        assert!(map.get("partial").is_some(), "partials are not evicted");
        assert_eq!(map.entries()[0].item_id, "partial");
    }
}
