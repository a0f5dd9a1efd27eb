//! `use_load`: a page's one-off load (its configuration, the menu) shown when it is there,
//! loaded again on *Retry*, and cancelled when a newer load replaces it or its owner goes.
#![cfg(target_arch = "wasm32")]

mod support;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use futures::channel::oneshot;
use leptos::prelude::*;
use restaurant_web::hooks::load::{UseLoadReturn, use_load};
use support::{by_testid, mount, text_of, wait_until};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The loads started so far, each finished by sending on its sender.
type Loads = Rc<RefCell<Vec<oneshot::Sender<String>>>>;

/// Mounts a view of a load whose every run waits for the test to send its value.
fn mount_load() -> (support::Mounted, Loads, Rc<Cell<Option<UseLoadReturn<String>>>>) {
    let loads: Loads = Rc::default();
    let handle = Rc::new(Cell::new(None));
    let (started, out) = (loads.clone(), handle.clone());
    let page = mount(move || {
        let load = use_load(move || {
            let (send, receive) = oneshot::channel();
            started.borrow_mut().push(send);
            async move { receive.await.unwrap_or_else(|_| "sender dropped".into()) }
        });
        out.set(Some(load));
        move || match load.get() {
            None => view! { <p data-testid="loading">"Loading…"</p> }.into_any(),
            Some(value) => view! { <p data-testid="loaded">{value}</p> }.into_any(),
        }
    });
    (page, loads, handle)
}

#[wasm_bindgen_test]
async fn a_load_shows_its_value_and_a_reload_cancels_the_one_under_way() {
    let (page, loads, handle) = mount_load();
    let el = page.el();
    let load = handle.get().expect("the load's handle");
    assert!(by_testid(&el, "loading").is_some(), "nothing to show before the load completes");
    assert_eq!(loads.borrow().len(), 1, "the load starts when the view is created");

    // *Retry* while the first load is under way: a second load starts, and the first is cancelled.
    load.reload();
    assert_eq!(loads.borrow().len(), 2);
    support::sleep(20).await;
    let first = loads.borrow_mut().remove(0);
    assert!(first.send("first".into()).is_err(), "the replaced load's future was dropped");
    let second = loads.borrow_mut().remove(0);
    assert!(second.send("second".into()).is_ok(), "the newer load is still waiting");
    assert!(wait_until(Duration::from_secs(2), || by_testid(&el, "loaded").is_some()).await);
    assert_eq!(text_of(&el, "loaded"), "second");

    // A reload forgets the value: the page shows it is loading until the new value comes.
    load.reload();
    leptos::task::tick().await;
    assert!(by_testid(&el, "loading").is_some(), "loading again after a reload");
    loads.borrow_mut().remove(0).send("third".into()).unwrap();
    assert!(wait_until(Duration::from_secs(2), || by_testid(&el, "loaded").is_some()).await);
    assert_eq!(text_of(&el, "loaded"), "third");
}

#[wasm_bindgen_test]
async fn a_load_is_cancelled_with_its_owner_and_its_handle_is_inert_after() {
    let (mut page, loads, handle) = mount_load();
    let load = handle.get().expect("the load's handle");
    page.unmount();
    support::sleep(20).await;
    let pending = loads.borrow_mut().remove(0);
    assert!(pending.send("late".into()).is_err(), "the owner's cleanup dropped the load's future");
    // The handle outlives its owner: reading or reloading is a no-op, not a panic.
    assert_eq!(load.get(), None);
    load.reload();
    assert!(loads.borrow().is_empty(), "no load starts after the owner is gone");
}
