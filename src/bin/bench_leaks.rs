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
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// A method of `window.__bench`.
type Method = Closure<dyn Fn() -> JsValue>;

thread_local! {
    /// The mounted page: dropping it unmounts the page and cleans its owner up.
    static MOUNTED: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
    /// `window.__bench`'s methods, alive as long as the document.
    static METHODS: RefCell<Vec<Method>> = const { RefCell::new(Vec::new()) };
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
    let methods: [(&str, Method); 2] = [
        ("mount", Closure::new(mount)),
        (
            "unmount",
            Closure::new(|| {
                unmount();
                JsValue::NULL
            }),
        ),
    ];
    let bench = js_sys::Object::new();
    for (name, method) in methods {
        if js_sys::Reflect::set(&bench, &name.into(), method.as_ref().unchecked_ref()).is_err() {
            log::error!("[Bench] cannot set __bench.{name}");
        }
        METHODS.with(|m| m.borrow_mut().push(method));
    }
    if js_sys::Reflect::set(&window(), &"__bench".into(), &bench).is_err() {
        log::error!("[Bench] cannot install window.__bench");
    }
}
