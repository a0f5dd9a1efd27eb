//! Keyboard and bump-bar control of a kitchen screen: which key does what, and which ticket is
//! selected while the grid of tickets changes under it.
//!
//! Cooks work the KDS with no mouse or touch: from a keyboard, or from a USB bump bar (a keypad that
//! sends ordinary key presses, digits for its numbered buttons). [`action_for`] turns a key press
//! into a [`KeyAction`]; [`TicketSelection::apply`] turns that action into a selection change and,
//! for the actions that do something to an order, an [`Effect`] for the page to carry out.
//!
//! # Keys
//!
//! Keys are the DOM `KeyboardEvent.key` values. Letters work in either case. Tab is not used: it
//! stays with the browser's focus order.
//!
//! | Key | Action |
//! |---|---|
//! | `ArrowLeft`, `ArrowUp` | previous ticket |
//! | `ArrowRight`, `ArrowDown` | next ticket |
//! | `Home` | first ticket |
//! | `End` | last ticket |
//! | `PageUp` | previous page (selects its first ticket) |
//! | `PageDown` | next page (selects its first ticket) |
//! | `s` | start the selected ticket |
//! | `Enter`, `b`, Space | bump the selected ticket |
//! | `1` … `9` | bump the 1st … 9th ticket of the visible page (a bump bar's numbered buttons) |
//! | `o` | bump the oldest ticket |
//! | `r` | recall the last bumped ticket |
//! | `u` | rush the selected ticket |
//! | `v`, `Delete` | void the selected ticket (asks for confirmation) |
//! | `?`, `h` | show / hide this help |
//! | `Escape` | cancel |
//!
//! While a void confirmation is open only `Enter`, `y` (confirm) and `Escape`, `n`, `Backspace`
//! (cancel) work; while the help is open only `?`, `h` and `Escape` (close it) work. No key acts
//! while a text field has focus.
//!
//! Pure: the page passes the key and the grid in (as a [`Grid`] of ticket ids in display order),
//! and carries out the [`Effect`]s that come back.

/// What a key press asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAction {
    /// Select the previous ticket.
    Previous,
    /// Select the next ticket.
    Next,
    /// Select the first ticket.
    First,
    /// Select the last ticket.
    Last,
    /// Go to the previous page and select its first ticket.
    PagePrevious,
    /// Go to the next page and select its first ticket.
    PageNext,
    /// Start the selected ticket.
    Start,
    /// Bump the selected ticket.
    BumpSelected,
    /// Bump the oldest ticket.
    BumpOldest,
    /// Recall the last bumped ticket.
    RecallLast,
    /// Rush the selected ticket.
    Rush,
    /// Void the selected ticket (after a confirmation).
    Void,
    /// Confirm the open void confirmation.
    Confirm,
    /// Cancel: close the open void confirmation.
    Cancel,
    /// Show or hide the key help.
    ToggleHelp,
    /// Bump the n-th (1-based) ticket of the visible page.
    BumpPosition(u8),
}

impl KeyAction {
    /// The action's kebab-case name (`"bump-selected"`); every [`KeyAction::BumpPosition`] is
    /// `"bump-position"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAction::Previous => "previous",
            KeyAction::Next => "next",
            KeyAction::First => "first",
            KeyAction::Last => "last",
            KeyAction::PagePrevious => "page-previous",
            KeyAction::PageNext => "page-next",
            KeyAction::Start => "start",
            KeyAction::BumpSelected => "bump-selected",
            KeyAction::BumpOldest => "bump-oldest",
            KeyAction::RecallLast => "recall-last",
            KeyAction::Rush => "rush",
            KeyAction::Void => "void",
            KeyAction::Confirm => "confirm",
            KeyAction::Cancel => "cancel",
            KeyAction::ToggleHelp => "toggle-help",
            KeyAction::BumpPosition(_) => "bump-position",
        }
    }
}

/// The state of the screen a key press lands on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyContext {
    /// A text field has focus: its keys are its own.
    pub text_field_focused: bool,
    /// A void confirmation is open (see [`TicketSelection::confirming`]).
    pub confirming: bool,
    /// The key help is open.
    pub help_open: bool,
}

/// The action of a key press (`key` is the DOM `KeyboardEvent.key` value), or `None` when the key
/// does nothing on this screen: the page lets the browser have those, and prevents the default of
/// the others (so Space and the arrows do not scroll).
///
/// The caller ignores key presses with Ctrl, Alt or Meta held before asking (they belong to the
/// browser and the system); Shift is allowed, so `S` and `?` work. The keys are in the module's
/// table. A focused text field takes every key; an open void confirmation only its confirm and
/// cancel keys; an open help only the keys that close it.
#[must_use]
pub fn action_for(key: &str, ctx: KeyContext) -> Option<KeyAction> {
    if ctx.text_field_focused {
        return None;
    }
    if ctx.confirming {
        return match key {
            "Enter" | "y" | "Y" => Some(KeyAction::Confirm),
            "Escape" | "n" | "N" | "Backspace" => Some(KeyAction::Cancel),
            _ => None,
        };
    }
    if ctx.help_open {
        return match key {
            "?" | "Escape" | "h" | "H" => Some(KeyAction::ToggleHelp),
            _ => None,
        };
    }
    let action = match key {
        "ArrowLeft" | "ArrowUp" => KeyAction::Previous,
        "ArrowRight" | "ArrowDown" => KeyAction::Next,
        "Home" => KeyAction::First,
        "End" => KeyAction::Last,
        "PageUp" => KeyAction::PagePrevious,
        "PageDown" => KeyAction::PageNext,
        "s" | "S" => KeyAction::Start,
        "Enter" | "b" | "B" | " " => KeyAction::BumpSelected,
        "o" | "O" => KeyAction::BumpOldest,
        "r" | "R" => KeyAction::RecallLast,
        "u" | "U" => KeyAction::Rush,
        "v" | "V" | "Delete" => KeyAction::Void,
        "?" | "h" | "H" => KeyAction::ToggleHelp,
        "Escape" => KeyAction::Cancel,
        _ => match key.as_bytes() {
            &[digit @ b'1'..=b'9'] => KeyAction::BumpPosition(digit - b'0'),
            _ => return None,
        },
    };
    Some(action)
}

/// The tickets of the screen as the page shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid<'a> {
    /// Ticket ids in display order (rush tickets first), without duplicates.
    pub ids: &'a [&'a str],
    /// The oldest ticket (the target of [`KeyAction::BumpOldest`]), which is not necessarily the
    /// first in display order.
    pub oldest: Option<&'a str>,
    /// Tickets per page; 0 is treated as 1.
    pub page_size: usize,
}

impl Grid<'_> {
    fn page_size(&self) -> usize {
        self.page_size.max(1)
    }

    fn position(&self, id: &str) -> Option<usize> {
        self.ids.iter().position(|i| *i == id)
    }

    fn contains(&self, id: &str) -> bool {
        self.position(id).is_some()
    }
}

/// What the page does after a key action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Start this ticket.
    Start(String),
    /// Bump this ticket.
    Bump(String),
    /// Recall the last bumped ticket.
    RecallLast,
    /// Rush this ticket.
    Rush(String),
    /// Open the void confirmation for this ticket.
    AskVoid(String),
    /// Void this ticket (confirmed) and close the confirmation.
    Void(String),
    /// Close the void confirmation without voiding.
    CloseConfirm,
    /// Show or hide the key help.
    ToggleHelp,
}

/// The selected ticket of the grid, kept by id across live updates, and the page on screen.
///
/// Whenever the grid is not empty a ticket is selected, and it is on the current page. The page
/// passes every grid change to [`TicketSelection::sync`]; [`TicketSelection::select`] and
/// [`TicketSelection::apply`] sync to the grid they are given first, so a change the page has not
/// synced yet is never missed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TicketSelection {
    /// The selected ticket; `None` only while the grid is empty (or before the first sync).
    selected: Option<String>,
    /// Where the selected ticket was when last seen: the fallback when it leaves the grid.
    index: usize,
    /// The page on screen, 0-based; always the selected ticket's page.
    page: usize,
    /// The ticket whose void confirmation is open.
    confirming: Option<String>,
}

impl TicketSelection {
    /// Nothing selected, first page, no confirmation open.
    #[must_use]
    pub fn new() -> TicketSelection {
        TicketSelection::default()
    }

    /// The grid changed: keep the selected ticket by id wherever it moved; if it is gone, select
    /// the ticket now at its old index (or the last one if the list got shorter); nothing when the
    /// grid is empty. The page follows the selected ticket (and so stays within the page count).
    /// A void confirmation whose ticket left the grid is dropped: the page closes its dialog when
    /// [`TicketSelection::confirming`] turns `None`.
    pub fn sync(&mut self, grid: &Grid<'_>) {
        if self.confirming.as_deref().is_some_and(|id| !grid.contains(id)) {
            self.confirming = None;
        }
        let Some(last) = grid.ids.len().checked_sub(1) else {
            self.selected = None;
            self.index = 0;
            self.page = 0;
            return;
        };
        let index = match self.selected.as_deref().and_then(|id| grid.position(id)) {
            Some(index) => index,
            None => self.index.min(last),
        };
        self.set(index, grid);
    }

    /// The selected ticket.
    #[must_use]
    pub fn selected(&self) -> Option<&str> {
        self.selected.as_deref()
    }

    /// The ticket whose void confirmation is open.
    #[must_use]
    pub fn confirming(&self) -> Option<&str> {
        self.confirming.as_deref()
    }

    /// The page on screen, 0-based.
    #[must_use]
    pub fn page(&self) -> usize {
        self.page
    }

    /// How many pages `len` tickets fill, at least 1 (an empty grid still shows its one page);
    /// a `page_size` of 0 is treated as 1.
    #[must_use]
    pub fn page_count(len: usize, page_size: usize) -> usize {
        len.div_ceil(page_size.max(1)).max(1)
    }

    /// Select this ticket (a tap on it) and go to its page; an id not in the grid is ignored.
    pub fn select(&mut self, id: &str, grid: &Grid<'_>) {
        self.sync(grid);
        if let Some(index) = grid.position(id) {
            self.set(index, grid);
        }
    }

    /// Carry out a key action on `grid`: moves change the selection and return `None`; the others
    /// return what the page must do.
    ///
    /// - With nothing selected, [`KeyAction::Next`] and [`KeyAction::First`] select the first
    ///   ticket, [`KeyAction::Previous`] and [`KeyAction::Last`] the last;
    ///   [`KeyAction::PageNext`] the first ticket of the first page, [`KeyAction::PagePrevious`]
    ///   the first ticket of the last page. Moves stop at the ends: no wrapping, and a page move
    ///   with no page beyond does nothing.
    /// - [`KeyAction::Start`], [`KeyAction::BumpSelected`], [`KeyAction::Rush`] and
    ///   [`KeyAction::Void`] act on the selected ticket, and do nothing when none is selected, or
    ///   when the selected ticket has left the grid (the ticket taking its place was never shown
    ///   selected, so it is not acted on).
    /// - [`KeyAction::Void`] opens a confirmation ([`Effect::AskVoid`]); while it is open only
    ///   [`KeyAction::Confirm`] ([`Effect::Void`], or [`Effect::CloseConfirm`] if the ticket has
    ///   left the grid) and [`KeyAction::Cancel`] ([`Effect::CloseConfirm`]) do anything, and
    ///   both close it. With no confirmation open they do nothing.
    /// - [`KeyAction::BumpOldest`] bumps [`Grid::oldest`]; [`KeyAction::BumpPosition`] the n-th
    ///   ticket of the current page (nothing when there is none).
    #[must_use = "the effect is the caller's to carry out"]
    pub fn apply(&mut self, action: KeyAction, grid: &Grid<'_>) -> Option<Effect> {
        let before = self.selected.clone();
        let confirming = self.confirming.take();
        self.sync(grid);
        if let Some(id) = confirming {
            return match action {
                KeyAction::Confirm if grid.contains(&id) => Some(Effect::Void(id)),
                KeyAction::Confirm | KeyAction::Cancel => Some(Effect::CloseConfirm),
                _ => {
                    self.confirming = Some(id).filter(|id| grid.contains(id));
                    None
                }
            };
        }
        let len = grid.ids.len();
        let size = grid.page_size();
        // The selected ticket, if it is the one the page showed selected.
        let target = self.selected.clone().filter(|id| before.as_deref() == Some(id.as_str()));
        match action {
            KeyAction::Previous | KeyAction::Next | KeyAction::First | KeyAction::Last => {
                if len > 0 {
                    let index = match (action, before.is_some()) {
                        (KeyAction::First, _) | (KeyAction::Next, false) => 0,
                        (KeyAction::Last, _) | (KeyAction::Previous, false) => len - 1,
                        (KeyAction::Previous, true) => self.index.saturating_sub(1),
                        _ => (self.index + 1).min(len - 1),
                    };
                    self.set(index, grid);
                }
                None
            }
            KeyAction::PagePrevious | KeyAction::PageNext => {
                let pages = TicketSelection::page_count(len, size);
                let page = match (action, before.is_some()) {
                    (KeyAction::PageNext, false) => Some(0),
                    (KeyAction::PagePrevious, false) => Some(pages - 1),
                    (KeyAction::PageNext, true) => Some(self.page + 1).filter(|p| *p < pages),
                    _ => self.page.checked_sub(1),
                };
                if let Some(page) = page.filter(|_| len > 0) {
                    self.set(page * size, grid);
                }
                None
            }
            KeyAction::Start => target.map(Effect::Start),
            KeyAction::BumpSelected => target.map(Effect::Bump),
            KeyAction::Rush => target.map(Effect::Rush),
            KeyAction::Void => {
                self.confirming = target.clone();
                target.map(Effect::AskVoid)
            }
            KeyAction::Confirm | KeyAction::Cancel => None,
            KeyAction::BumpOldest => grid.oldest.filter(|id| grid.contains(id)).map(|id| Effect::Bump(id.to_owned())),
            KeyAction::BumpPosition(n) => {
                let offset = usize::from(n).checked_sub(1).filter(|offset| *offset < size)?;
                grid.ids.get(self.page * size + offset).map(|id| Effect::Bump((*id).to_owned()))
            }
            KeyAction::RecallLast => Some(Effect::RecallLast),
            KeyAction::ToggleHelp => Some(Effect::ToggleHelp),
        }
    }

    /// Select the ticket at `index` (in the grid) and go to its page.
    fn set(&mut self, index: usize, grid: &Grid<'_>) {
        self.selected = grid.ids.get(index).map(|id| (*id).to_owned());
        self.index = index;
        self.page = index / grid.page_size();
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const NORMAL: KeyContext = KeyContext { text_field_focused: false, confirming: false, help_open: false };
    const CONFIRMING: KeyContext = KeyContext { text_field_focused: false, confirming: true, help_open: false };
    const HELP: KeyContext = KeyContext { text_field_focused: false, confirming: false, help_open: true };

    /// Every key the map knows, and a few it does not.
    const KEYS: &[&str] = &[
        "ArrowLeft",
        "ArrowUp",
        "ArrowRight",
        "ArrowDown",
        "Home",
        "End",
        "PageUp",
        "PageDown",
        "s",
        "S",
        "Enter",
        "b",
        "B",
        " ",
        "o",
        "O",
        "r",
        "R",
        "u",
        "U",
        "v",
        "V",
        "Delete",
        "?",
        "h",
        "H",
        "Escape",
        "y",
        "Y",
        "n",
        "N",
        "Backspace",
        "0",
        "1",
        "5",
        "9",
        "10",
        "Tab",
        "a",
        "x",
        "F1",
        "Shift",
        "",
    ];

    fn grid<'a>(ids: &'a [&'a str], page_size: usize) -> Grid<'a> {
        Grid { ids, oldest: None, page_size }
    }

    /// A selection synced to `ids` with `selected` selected.
    fn selecting(selected: &str, ids: &[&str], page_size: usize) -> TicketSelection {
        let mut s = TicketSelection::new();
        s.select(selected, &grid(ids, page_size));
        assert_eq!(s.selected(), Some(selected));
        s
    }

    fn bump(id: &str) -> Option<Effect> {
        Some(Effect::Bump(id.to_owned()))
    }

    // --- Key → action ---

    #[test]
    fn the_key_map() {
        use KeyAction::*;
        let table: &[(&str, KeyAction)] = &[
            ("ArrowLeft", Previous),
            ("ArrowUp", Previous),
            ("ArrowRight", Next),
            ("ArrowDown", Next),
            ("Home", First),
            ("End", Last),
            ("PageUp", PagePrevious),
            ("PageDown", PageNext),
            ("s", Start),
            ("S", Start),
            ("Enter", BumpSelected),
            ("b", BumpSelected),
            ("B", BumpSelected),
            (" ", BumpSelected),
            ("o", BumpOldest),
            ("O", BumpOldest),
            ("r", RecallLast),
            ("R", RecallLast),
            ("u", Rush),
            ("U", Rush),
            ("v", Void),
            ("V", Void),
            ("Delete", Void),
            ("?", ToggleHelp),
            ("h", ToggleHelp),
            ("H", ToggleHelp),
            ("Escape", Cancel),
        ];
        for (key, action) in table {
            assert_eq!(action_for(key, NORMAL), Some(*action), "{key:?}");
        }
        for n in 1..=9u8 {
            assert_eq!(action_for(&n.to_string(), NORMAL), Some(BumpPosition(n)));
        }
    }

    #[test]
    fn unmapped_keys_do_nothing() {
        for key in ["Tab", "0", "10", "a", "x", "y", "n", "Backspace", "F1", "Shift", "", "ArrowLeftx", "١"] {
            assert_eq!(action_for(key, NORMAL), None, "{key:?}");
        }
    }

    #[test]
    fn no_key_acts_while_a_text_field_has_focus() {
        for confirming in [false, true] {
            for help_open in [false, true] {
                let ctx = KeyContext { text_field_focused: true, confirming, help_open };
                for key in KEYS {
                    assert_eq!(action_for(key, ctx), None, "{key:?} {ctx:?}");
                }
            }
        }
    }

    #[test]
    fn a_void_confirmation_takes_only_confirm_and_cancel() {
        for ctx in [CONFIRMING, KeyContext { help_open: true, ..CONFIRMING }] {
            for key in KEYS {
                let expected = match *key {
                    "Enter" | "y" | "Y" => Some(KeyAction::Confirm),
                    "Escape" | "n" | "N" | "Backspace" => Some(KeyAction::Cancel),
                    _ => None,
                };
                assert_eq!(action_for(key, ctx), expected, "{key:?} {ctx:?}");
            }
        }
    }

    #[test]
    fn an_open_help_takes_only_the_keys_that_close_it() {
        for key in KEYS {
            let expected = matches!(*key, "?" | "Escape" | "h" | "H").then_some(KeyAction::ToggleHelp);
            assert_eq!(action_for(key, HELP), expected, "{key:?}");
        }
    }

    #[test]
    fn action_names_are_kebab_case_and_distinct() {
        use KeyAction::*;
        let all = [
            Previous,
            Next,
            First,
            Last,
            PagePrevious,
            PageNext,
            Start,
            BumpSelected,
            BumpOldest,
            RecallLast,
            Rush,
            Void,
            Confirm,
            Cancel,
            ToggleHelp,
            BumpPosition(3),
        ];
        let names: std::collections::HashSet<&str> = all.iter().map(|a| a.as_str()).collect();
        assert_eq!(names.len(), all.len());
        assert!(names.iter().all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '-')));
        assert_eq!(BumpSelected.as_str(), "bump-selected");
        assert_eq!(BumpPosition(9).as_str(), "bump-position");
        assert_eq!(PagePrevious.as_str(), "page-previous");
    }

    // --- Selection across live updates ---

    #[test]
    fn a_new_selection_is_empty_until_the_first_sync() {
        let mut s = TicketSelection::new();
        assert_eq!((s.selected(), s.page(), s.confirming()), (None, 0, None));
        s.sync(&grid(&["a", "b"], 4));
        assert_eq!(s.selected(), Some("a"));
    }

    #[test]
    fn the_selection_follows_its_ticket_across_inserts_before_and_after_it() {
        let mut s = selecting("b", &["a", "b", "c"], 10);
        s.sync(&grid(&["x", "a", "y", "b", "c"], 10));
        assert_eq!(s.selected(), Some("b"));
        s.sync(&grid(&["x", "a", "y", "b", "z", "c"], 10));
        assert_eq!(s.selected(), Some("b"));
        // Moving to the front (a rush) keeps it too, and the page follows.
        let mut s = selecting("c", &["a", "b", "c"], 2);
        assert_eq!(s.page(), 1);
        s.sync(&grid(&["c", "a", "b"], 2));
        assert_eq!((s.selected(), s.page()), (Some("c"), 0));
    }

    #[test]
    fn a_removed_selected_ticket_hands_the_selection_to_the_one_at_its_index() {
        let mut s = selecting("b", &["a", "b", "c", "d"], 10);
        s.sync(&grid(&["a", "c", "d"], 10));
        assert_eq!(s.selected(), Some("c"));
        // Removed with others before it: still the same index, not the same neighbour.
        s.sync(&grid(&["d", "e", "f"], 10));
        assert_eq!(s.selected(), Some("e"));
    }

    #[test]
    fn a_removed_last_ticket_hands_the_selection_to_the_new_last() {
        let mut s = selecting("d", &["a", "b", "c", "d"], 10);
        s.sync(&grid(&["a", "b", "c"], 10));
        assert_eq!(s.selected(), Some("c"));
        let mut s = selecting("d", &["a", "b", "c", "d"], 10);
        s.sync(&grid(&["a"], 10));
        assert_eq!(s.selected(), Some("a"));
    }

    #[test]
    fn an_empty_grid_selects_nothing_and_a_refilled_one_its_first_ticket() {
        let mut s = selecting("c", &["a", "b", "c"], 2);
        s.sync(&grid(&[], 2));
        assert_eq!((s.selected(), s.page()), (None, 0));
        for action in [KeyAction::Start, KeyAction::BumpSelected, KeyAction::Rush, KeyAction::Void] {
            assert_eq!(s.apply(action, &grid(&[], 2)), None);
        }
        for action in [KeyAction::Next, KeyAction::Last, KeyAction::PageNext, KeyAction::BumpPosition(1)] {
            assert_eq!(s.apply(action, &grid(&[], 2)), None);
            assert_eq!((s.selected(), s.page()), (None, 0));
        }
        s.sync(&grid(&["x", "y", "z"], 2));
        assert_eq!((s.selected(), s.page()), (Some("x"), 0));
    }

    #[test]
    fn a_tap_selects_its_ticket_and_an_unknown_id_is_ignored() {
        let ids = ["a", "b", "c", "d", "e"];
        let mut s = TicketSelection::new();
        s.select("e", &grid(&ids, 2));
        assert_eq!((s.selected(), s.page()), (Some("e"), 2));
        s.select("nope", &grid(&ids, 2));
        assert_eq!((s.selected(), s.page()), (Some("e"), 2));
    }

    // --- Moves and pages ---

    #[test]
    fn previous_and_next_move_by_one_and_stop_at_the_ends() {
        let ids = ["a", "b", "c"];
        let g = grid(&ids, 10);
        let mut s = selecting("a", &ids, 10);
        assert_eq!(s.apply(KeyAction::Previous, &g), None);
        assert_eq!(s.selected(), Some("a"));
        for expected in ["b", "c", "c"] {
            assert_eq!(s.apply(KeyAction::Next, &g), None);
            assert_eq!(s.selected(), Some(expected));
        }
        assert_eq!(s.apply(KeyAction::Previous, &g), None);
        assert_eq!(s.selected(), Some("b"));
        assert_eq!(s.apply(KeyAction::First, &g), None);
        assert_eq!(s.selected(), Some("a"));
        assert_eq!(s.apply(KeyAction::Last, &g), None);
        assert_eq!(s.selected(), Some("c"));
    }

    #[test]
    fn with_nothing_selected_next_and_first_select_the_first_previous_and_last_the_last() {
        let ids = ["a", "b", "c", "d", "e"];
        let g = grid(&ids, 2);
        for (action, expected) in [
            (KeyAction::Next, "a"),
            (KeyAction::First, "a"),
            (KeyAction::Previous, "e"),
            (KeyAction::Last, "e"),
            (KeyAction::PageNext, "a"),
            (KeyAction::PagePrevious, "e"),
        ] {
            let mut s = TicketSelection::new();
            assert_eq!(s.apply(action, &g), None);
            assert_eq!(s.selected(), Some(expected), "{action:?}");
            assert_eq!(s.page(), if expected == "a" { 0 } else { 2 });
        }
    }

    #[test]
    fn moves_follow_the_selection_across_pages() {
        let ids = ["a", "b", "c", "d", "e"];
        let g = grid(&ids, 2);
        let mut s = selecting("b", &ids, 2);
        assert_eq!(s.apply(KeyAction::Next, &g), None);
        assert_eq!((s.selected(), s.page()), (Some("c"), 1));
        assert_eq!(s.apply(KeyAction::Last, &g), None);
        assert_eq!((s.selected(), s.page()), (Some("e"), 2));
        assert_eq!(s.apply(KeyAction::Previous, &g), None);
        assert_eq!((s.selected(), s.page()), (Some("d"), 1));
    }

    #[test]
    fn page_moves_select_the_first_ticket_of_the_page_and_stop_at_the_ends() {
        let ids = ["a", "b", "c", "d", "e"];
        let g = grid(&ids, 2);
        let mut s = selecting("b", &ids, 2);
        assert_eq!(s.apply(KeyAction::PageNext, &g), None);
        assert_eq!((s.selected(), s.page()), (Some("c"), 1));
        assert_eq!(s.apply(KeyAction::PageNext, &g), None);
        assert_eq!((s.selected(), s.page()), (Some("e"), 2));
        assert_eq!(s.apply(KeyAction::PageNext, &g), None);
        assert_eq!((s.selected(), s.page()), (Some("e"), 2));
        s.select("d", &g);
        assert_eq!(s.apply(KeyAction::PagePrevious, &g), None);
        assert_eq!((s.selected(), s.page()), (Some("a"), 0));
        s.select("b", &g);
        assert_eq!(s.apply(KeyAction::PagePrevious, &g), None);
        assert_eq!((s.selected(), s.page()), (Some("b"), 0));
    }

    #[test]
    fn the_page_is_clamped_when_the_grid_shrinks_or_the_page_size_changes() {
        let mut s = selecting("f", &["a", "b", "c", "d", "e", "f"], 2);
        assert_eq!(s.page(), 2);
        s.sync(&grid(&["a", "b", "c"], 2));
        assert_eq!((s.selected(), s.page()), (Some("c"), 1));
        s.sync(&grid(&["a", "b", "c"], 3));
        assert_eq!((s.selected(), s.page()), (Some("c"), 0));
        s.sync(&grid(&["a", "b", "c"], 1));
        assert_eq!((s.selected(), s.page()), (Some("c"), 2));
    }

    #[test]
    fn a_page_size_of_zero_is_one() {
        let ids = ["a", "b", "c"];
        let g = grid(&ids, 0);
        let mut s = selecting("b", &ids, 0);
        assert_eq!(s.page(), 1);
        assert_eq!(s.apply(KeyAction::PageNext, &g), None);
        assert_eq!((s.selected(), s.page()), (Some("c"), 2));
        assert_eq!(s.apply(KeyAction::BumpPosition(1), &g), bump("c"));
        assert_eq!(s.apply(KeyAction::BumpPosition(2), &g), None);
        assert_eq!(TicketSelection::page_count(3, 0), 3);
    }

    #[test]
    fn page_count_is_at_least_one() {
        assert_eq!(TicketSelection::page_count(0, 4), 1);
        assert_eq!(TicketSelection::page_count(0, 0), 1);
        assert_eq!(TicketSelection::page_count(1, 4), 1);
        assert_eq!(TicketSelection::page_count(4, 4), 1);
        assert_eq!(TicketSelection::page_count(5, 4), 2);
        assert_eq!(TicketSelection::page_count(8, 4), 2);
        assert_eq!(TicketSelection::page_count(9, 4), 3);
    }

    // --- Actions on tickets ---

    #[test]
    fn start_bump_and_rush_act_on_the_selected_ticket() {
        let ids = ["a", "b", "c"];
        let g = grid(&ids, 10);
        let mut s = selecting("b", &ids, 10);
        assert_eq!(s.apply(KeyAction::Start, &g), Some(Effect::Start("b".into())));
        assert_eq!(s.apply(KeyAction::BumpSelected, &g), bump("b"));
        assert_eq!(s.apply(KeyAction::Rush, &g), Some(Effect::Rush("b".into())));
        assert_eq!(s.selected(), Some("b"));
        // The bump lands: the ticket now in its place is selected.
        s.sync(&grid(&["a", "c"], 10));
        assert_eq!(s.selected(), Some("c"));
    }

    #[test]
    fn a_ticket_never_shown_selected_is_not_acted_on() {
        // "b" left the grid and the page has not synced yet: "c" takes its place, unacted.
        for action in [KeyAction::Start, KeyAction::BumpSelected, KeyAction::Rush, KeyAction::Void] {
            let mut s = selecting("b", &["a", "b", "c"], 10);
            assert_eq!(s.apply(action, &grid(&["a", "c"], 10)), None, "{action:?}");
            assert_eq!((s.selected(), s.confirming()), (Some("c"), None));
        }
        // Nor before the first sync.
        let mut s = TicketSelection::new();
        assert_eq!(s.apply(KeyAction::BumpSelected, &grid(&["a"], 10)), None);
        assert_eq!(s.selected(), Some("a"));
        assert_eq!(s.apply(KeyAction::BumpSelected, &grid(&["a"], 10)), bump("a"));
    }

    #[test]
    fn bump_oldest_bumps_the_oldest_ticket_wherever_it_is() {
        let ids = ["rush", "a", "b"];
        let mut s = selecting("rush", &ids, 10);
        let g = Grid { ids: &ids, oldest: Some("a"), page_size: 10 };
        assert_eq!(s.apply(KeyAction::BumpOldest, &g), bump("a"));
        assert_eq!(s.selected(), Some("rush"));
        assert_eq!(s.apply(KeyAction::BumpOldest, &Grid { oldest: None, ..g }), None);
        assert_eq!(s.apply(KeyAction::BumpOldest, &Grid { oldest: Some("gone"), ..g }), None);
    }

    #[test]
    fn bump_position_bumps_the_nth_ticket_of_the_current_page() {
        let ids = ["a", "b", "c", "d", "e", "f", "g"];
        let g = grid(&ids, 3);
        let mut s = selecting("a", &ids, 3);
        assert_eq!(s.apply(KeyAction::BumpPosition(2), &g), bump("b"));
        assert_eq!(s.apply(KeyAction::PageNext, &g), None);
        assert_eq!(s.page(), 1);
        assert_eq!(s.apply(KeyAction::BumpPosition(1), &g), bump("d"));
        assert_eq!(s.apply(KeyAction::BumpPosition(2), &g), bump("e"));
        assert_eq!(s.apply(KeyAction::BumpPosition(3), &g), bump("f"));
        // Beyond the page, or past the end of a short last page: nothing.
        assert_eq!(s.apply(KeyAction::BumpPosition(4), &g), None);
        assert_eq!(s.apply(KeyAction::BumpPosition(0), &g), None);
        assert_eq!(s.apply(KeyAction::PageNext, &g), None);
        assert_eq!(s.apply(KeyAction::BumpPosition(1), &g), bump("g"));
        assert_eq!(s.apply(KeyAction::BumpPosition(2), &g), None);
        assert_eq!(s.selected(), Some("g"));
    }

    #[test]
    fn recall_and_help_need_no_selection() {
        let mut s = TicketSelection::new();
        assert_eq!(s.apply(KeyAction::RecallLast, &grid(&[], 4)), Some(Effect::RecallLast));
        assert_eq!(s.apply(KeyAction::ToggleHelp, &grid(&[], 4)), Some(Effect::ToggleHelp));
    }

    // --- Void confirmation ---

    #[test]
    fn void_asks_then_confirm_voids() {
        let ids = ["a", "b", "c"];
        let g = grid(&ids, 10);
        let mut s = selecting("b", &ids, 10);
        assert_eq!(s.apply(KeyAction::Void, &g), Some(Effect::AskVoid("b".into())));
        assert_eq!(s.confirming(), Some("b"));
        assert_eq!(s.apply(KeyAction::Confirm, &g), Some(Effect::Void("b".into())));
        assert_eq!(s.confirming(), None);
        assert_eq!(s.selected(), Some("b"));
    }

    #[test]
    fn cancel_closes_the_confirmation() {
        let ids = ["a", "b"];
        let g = grid(&ids, 10);
        let mut s = selecting("a", &ids, 10);
        assert_eq!(s.apply(KeyAction::Void, &g), Some(Effect::AskVoid("a".into())));
        assert_eq!(s.apply(KeyAction::Cancel, &g), Some(Effect::CloseConfirm));
        assert_eq!(s.confirming(), None);
        // With no confirmation open, confirm and cancel do nothing.
        assert_eq!(s.apply(KeyAction::Confirm, &g), None);
        assert_eq!(s.apply(KeyAction::Cancel, &g), None);
    }

    #[test]
    fn an_open_confirmation_ignores_every_other_action() {
        let ids = ["a", "b", "c"];
        let g = Grid { ids: &ids, oldest: Some("c"), page_size: 1 };
        let mut s = selecting("b", &ids, 1);
        assert_eq!(s.apply(KeyAction::Void, &g), Some(Effect::AskVoid("b".into())));
        for action in [
            KeyAction::Next,
            KeyAction::PageNext,
            KeyAction::Start,
            KeyAction::BumpSelected,
            KeyAction::BumpOldest,
            KeyAction::BumpPosition(1),
            KeyAction::RecallLast,
            KeyAction::Rush,
            KeyAction::Void,
            KeyAction::ToggleHelp,
        ] {
            assert_eq!(s.apply(action, &g), None, "{action:?}");
            assert_eq!((s.selected(), s.confirming(), s.page()), (Some("b"), Some("b"), 1));
        }
    }

    #[test]
    fn a_ticket_leaving_while_its_void_is_confirmed_closes_the_confirmation() {
        // Synced away: the confirmation is dropped, and confirm then does nothing.
        let mut s = selecting("b", &["a", "b", "c"], 10);
        assert_eq!(s.apply(KeyAction::Void, &grid(&["a", "b", "c"], 10)), Some(Effect::AskVoid("b".into())));
        s.sync(&grid(&["a", "b", "c", "d"], 10));
        assert_eq!(s.confirming(), Some("b"));
        s.sync(&grid(&["a", "c"], 10));
        assert_eq!((s.confirming(), s.selected()), (None, Some("c")));
        assert_eq!(s.apply(KeyAction::Confirm, &grid(&["a", "c"], 10)), None);

        // Gone before the page synced: confirm closes the dialog and voids nothing.
        let mut s = selecting("b", &["a", "b", "c"], 10);
        assert_eq!(s.apply(KeyAction::Void, &grid(&["a", "b", "c"], 10)), Some(Effect::AskVoid("b".into())));
        assert_eq!(s.apply(KeyAction::Confirm, &grid(&["a", "c"], 10)), Some(Effect::CloseConfirm));
        assert_eq!((s.confirming(), s.selected()), (None, Some("c")));

        // Another action while it is gone drops the confirmation too.
        let mut s = selecting("b", &["a", "b", "c"], 10);
        assert_eq!(s.apply(KeyAction::Void, &grid(&["a", "b", "c"], 10)), Some(Effect::AskVoid("b".into())));
        assert_eq!(s.apply(KeyAction::Next, &grid(&["a", "c"], 10)), None);
        assert_eq!(s.confirming(), None);
    }

    #[test]
    fn the_confirmation_follows_its_ticket_not_the_selection() {
        let ids = ["a", "b", "c"];
        let g = grid(&ids, 10);
        let mut s = selecting("b", &ids, 10);
        assert_eq!(s.apply(KeyAction::Void, &g), Some(Effect::AskVoid("b".into())));
        let moved = ["c", "a", "b"];
        s.select("a", &grid(&moved, 10));
        assert_eq!(s.apply(KeyAction::Confirm, &grid(&moved, 10)), Some(Effect::Void("b".into())));
    }

    // --- Invariants under random live updates ---

    #[derive(Debug, Clone)]
    enum Op {
        Insert(usize),
        Remove(usize),
        PageSize(usize),
        Sync,
        Select(usize),
        Apply(KeyAction),
    }

    fn key_action() -> impl Strategy<Value = KeyAction> {
        use KeyAction::*;
        prop_oneof![
            prop::sample::select(vec![
                Previous,
                Next,
                First,
                Last,
                PagePrevious,
                PageNext,
                Start,
                BumpSelected,
                BumpOldest,
                RecallLast,
                Rush,
                Void,
                Confirm,
                Cancel,
                ToggleHelp,
            ]),
            (0u8..=10).prop_map(BumpPosition),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => any::<usize>().prop_map(Op::Insert),
            2 => any::<usize>().prop_map(Op::Remove),
            1 => (0usize..6).prop_map(Op::PageSize),
            1 => Just(Op::Sync),
            1 => any::<usize>().prop_map(Op::Select),
            5 => key_action().prop_map(Op::Apply),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn the_selection_stays_on_a_ticket_of_the_current_page(ops in proptest::collection::vec(op(), 0..120)) {
            let mut tickets: Vec<String> = Vec::new();
            let mut next = 0u32;
            let mut page_size = 3;
            let mut s = TicketSelection::new();
            for op in ops {
                // The oldest ticket is the one created first ("t<n>", lowest n).
                let oldest = tickets.iter().min_by_key(|t| t[1..].parse::<u32>().unwrap_or(u32::MAX)).cloned();
                match op {
                    Op::Insert(at) => {
                        tickets.insert(at % (tickets.len() + 1), format!("t{next}"));
                        next += 1;
                        continue;
                    }
                    Op::Remove(at) => {
                        if !tickets.is_empty() {
                            let at = at % tickets.len();
                            tickets.remove(at);
                        }
                        continue;
                    }
                    Op::PageSize(size) => {
                        page_size = size;
                        continue;
                    }
                    _ => {}
                }
                let ids: Vec<&str> = tickets.iter().map(String::as_str).collect();
                let g = Grid { ids: &ids, oldest: oldest.as_deref(), page_size };
                match op {
                    Op::Sync => s.sync(&g),
                    Op::Select(at) => {
                        let id = if ids.is_empty() || at % 5 == 0 { "unknown" } else { ids[at % ids.len()] };
                        s.select(id, &g);
                    }
                    Op::Apply(action) => {
                        let effect = s.apply(action, &g);
                        if let Some(Effect::Start(id) | Effect::Bump(id) | Effect::Rush(id) | Effect::AskVoid(id) | Effect::Void(id)) = &effect {
                            prop_assert!(ids.contains(&id.as_str()), "{action:?} -> {effect:?} not in {ids:?}");
                        }
                        if let Some(Effect::Bump(id) | Effect::Void(id)) = effect {
                            tickets.retain(|t| *t != id);
                            continue;
                        }
                    }
                    _ => unreachable!(),
                }
                let size = page_size.max(1);
                match s.selected() {
                    None => prop_assert!(ids.is_empty(), "nothing selected in {ids:?}"),
                    Some(id) => {
                        let at = ids.iter().position(|i| *i == id);
                        prop_assert!(at.is_some(), "{id} not in {ids:?}");
                        prop_assert_eq!(at.map(|at| at / size), Some(s.page()), "{} is not on page {}", id, s.page());
                    }
                }
                prop_assert!(s.page() < TicketSelection::page_count(ids.len(), page_size));
                if let Some(id) = s.confirming() {
                    prop_assert!(ids.contains(&id), "confirming {id}, gone from {ids:?}");
                }
            }
        }
    }
}
