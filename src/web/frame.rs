//! The next frame: runs a callback once, just before the browser renders its next frame
//! (`requestAnimationFrame`), or after a fallback delay if no frame comes first (a hidden tab
//! renders none, yet its state must still move on).
//!
//! Work that only feeds the screen (signal writes a view renders from) is coalesced this way: a
//! burst of inputs between two frames is rendered once, from the latest state, instead of once per
//! input. Dropping a pending `NextFrame` cancels both the frame request and the fallback.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

type Work = Rc<RefCell<Option<Box<dyn FnOnce()>>>>;

#[must_use = "dropping it cancels the callback"]
pub struct NextFrame {
    work: Work,
    frame_id: Option<i32>,
    /// The browser calls it: owned here, released (after the call, if inside it) when dropped.
    _on_frame: Closure<dyn FnMut(f64)>,
    _fallback: Timeout,
}

impl NextFrame {
    /// `work` runs at the next frame or after `fallback_ms`, whichever comes first, at most once.
    pub fn new(fallback_ms: u32, work: impl FnOnce() + 'static) -> NextFrame {
        let work: Work = Rc::new(RefCell::new(Some(Box::new(work))));
        let run = |work: &Work| {
            // Taken before it runs: the other trigger finds nothing, and `work` may drop this.
            let taken = work.borrow_mut().take();
            if let Some(work) = taken {
                work();
            }
        };
        let on_frame = {
            let work = work.clone();
            Closure::<dyn FnMut(f64)>::new(move |_: f64| run(&work))
        };
        let frame_id = match web_sys::window().map(|w| w.request_animation_frame(on_frame.as_ref().unchecked_ref())) {
            Some(Ok(id)) => Some(id),
            Some(Err(e)) => {
                log::warn!(
                    "[Frame] requestAnimationFrame failed ({}): the fallback runs it",
                    super::js_error_message(&e)
                );
                None
            }
            None => None,
        };
        let fallback = {
            let work = work.clone();
            Timeout::new(fallback_ms, move || run(&work))
        };
        NextFrame { work, frame_id, _on_frame: on_frame, _fallback: fallback }
    }

    /// The callback has not run yet.
    pub fn is_pending(&self) -> bool {
        self.work.borrow().is_some()
    }
}

impl Drop for NextFrame {
    fn drop(&mut self) {
        // Also when the fallback ran first: the frame request is still registered, and its
        // closure is freed here. Cancelling a frame that already ran does nothing.
        if let (Some(id), Some(window)) = (self.frame_id, web_sys::window()) {
            let _ = window.cancel_animation_frame(id);
        }
        self.work.borrow_mut().take();
    }
}

/// `document.hidden`: the page is not shown (another tab, a locked screen), so it draws no frames
/// and the browser throttles its timers. False when there is no document.
pub fn page_hidden() -> bool {
    web_sys::window().and_then(|w| w.document()).is_some_and(|d| d.hidden())
}
