//! The leak benchmark's page (`bench` feature; `cargo xtask bench` serves it as
//! `/bench/leaks.html`, and no shipped page contains it): the kitchen display in the app shell, as
//! its own bundle mounts it, mounted and unmounted many times in one document, so that what an
//! unmounted page leaves behind adds up. `window.__bench.mount()` mounts it (unmounting the one
//! before), `window.__bench.unmount()` unmounts it.

use std::any::Any;
use std::cell::RefCell;

use leptos::prelude::*;
use restaurant_web::app::{App, AppProps};
use restaurant_web::components::kds::kds;
use restaurant_web::web::debug::DebugObject;
use wasm_bindgen::JsValue;

thread_local! {
    /// The mounted page: dropping it unmounts the page and cleans its owner up.
    static MOUNTED: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
    /// `window.__bench`, alive as long as the document.
    static BENCH: RefCell<Option<DebugObject>> = const { RefCell::new(None) };
}

fn unmount() {
    // Taken out first: the page's cleanup may run code that looks at MOUNTED.
    let page = MOUNTED.with(|m| m.borrow_mut().take());
    drop(page);
}

fn mount() -> JsValue {
    unmount();
    let Some(body) = document().body() else {
        log::error!("[Bench] the document has no body");
        return JsValue::from_str("no body");
    };
    // Under its own root, as a page load has: never a child of an owner a callback left current.
    let root = Owner::new_root(None);
    let page = root.with(|| leptos::mount::mount_to(body, || App(AppProps { page: kds })));
    // The page first (it unmounts, its owner is cleaned up), then the root.
    MOUNTED.with(|m| *m.borrow_mut() = Some(Box::new((page, root))));
    JsValue::NULL
}

fn main() {
    console_error_panic_hook::set_once();
    restaurant_web::web::console_log::init();
    let bench = DebugObject::install(
        "__bench",
        vec![
            ("mount", Box::new(mount)),
            (
                "unmount",
                Box::new(|| {
                    unmount();
                    JsValue::NULL
                }),
            ),
        ],
    );
    BENCH.with(|b| *b.borrow_mut() = Some(bench));
}
