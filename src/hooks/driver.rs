//! The one driver shell every hook is built on.
//!
//! A *driver* owns a sans-IO core and the browser wrappers that carry out its commands (sockets,
//! peers, timers, fetches). Every input — a browser callback, a timer, a page's method call — goes
//! through [`DriverRef::run`]:
//!
//! 1. borrow the driver and apply the input, with the current time ([`clock::now`]);
//! 2. [`Driver::drive`]: carry out every command the core queued and re-arm its one timer;
//! 3. release the driver, then run what `drive` put in [`After`] (page callbacks, frames for
//!    another driver, signal writes that may run other code) — so those may call back in.
//!
//! **Re-entrancy policy** (one for every hook): an input that arrives while the driver is
//! borrowed — which only a synchronous callback from inside another input could do — is queued
//! and applied, in order, as soon as the current input and its `After` work are done, before
//! `run` returns. Nothing is dropped and nothing is deferred to a later task.
//!
//! Callbacks hold a [`DriverRef`] (a `Weak`): once the hook's owner is cleaned up the driver is
//! dropped — with it every RAII wrapper, so every handler is detached — and a late callback does
//! nothing. Pages hold a [`DriverHandle`]: `Copy`, stored in the owner's arena, and equally inert
//! after cleanup. No signal is written after that, since no input runs; and a hook whose driver
//! has a last input creates its page signals with [`page_signals`], so that input writes none.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::rc::{Rc, Weak};

use futures::future::{AbortHandle, Abortable, LocalBoxFuture};
use leptos::prelude::*;
use send_wrapper::SendWrapper;

use crate::core::link::{AttemptId, SocketCommand, SocketInput};
use crate::core::time::Millis;
use crate::web::clock;
use crate::web::socket::{AttemptSocket, SocketEvent};

/// A hook's driver: owns a core and the wrappers that carry out its commands.
pub trait Driver: 'static {
    /// Names the driver in logs.
    const NAME: &'static str;

    /// Carries out every command the core has queued and re-arms its timer. Work that must run
    /// once the driver is released goes into `after`.
    fn drive(&mut self, after: &mut After);

    /// The last input, when the hook's owner is cleaned up (e.g. hang up, so the other side
    /// hears of it). Dropping the driver afterwards releases every wrapper it owns.
    fn dispose(&mut self, _now: Millis) {}
}

/// Work to run once the driver is released, in the order it was added.
#[derive(Default)]
#[must_use = "work in After runs only when it is run"]
pub struct After(Vec<Box<dyn FnOnce()>>);

impl After {
    pub fn push(&mut self, work: impl FnOnce() + 'static) {
        self.0.push(Box::new(work));
    }

    fn run(&mut self) {
        for work in std::mem::take(&mut self.0) {
            work();
        }
    }
}

type Input<D> = Box<dyn FnOnce(&mut D, Millis)>;

struct Shell<D> {
    driver: RefCell<D>,
    /// Inputs that arrived while the driver was borrowed (see the re-entrancy policy).
    queued: RefCell<VecDeque<Input<D>>>,
}

/// A callback's reference to its driver. Holds no ownership: after the owner is cleaned up every
/// call is a no-op returning `None`.
pub struct DriverRef<D>(Weak<Shell<D>>);

impl<D> Clone for DriverRef<D> {
    fn clone(&self) -> Self {
        DriverRef(self.0.clone())
    }
}

impl<D: Driver> Shell<D> {
    /// Applies `input` unless the driver is borrowed (then `false`, and `input` is not called),
    /// drives, runs the deferred work, then applies the inputs queued meanwhile. Takes the input
    /// as `dyn`: one copy of this per driver, not one per call site of [`DriverRef::run`].
    fn run_now(&self, input: &mut dyn FnMut(&mut D, Millis)) -> bool {
        let Ok(mut driver) = self.driver.try_borrow_mut() else {
            return false;
        };
        let mut after = After::default();
        input(&mut driver, clock::now());
        driver.drive(&mut after);
        drop(driver);
        after.run();
        loop {
            let Some(next) = self.queued.borrow_mut().pop_front() else { break };
            let Ok(mut driver) = self.driver.try_borrow_mut() else {
                // Only possible when this `run` is itself inside another input of this driver:
                // that one drains the queue when it is done.
                self.queued.borrow_mut().push_front(next);
                break;
            };
            next(&mut driver, clock::now());
            driver.drive(&mut after);
            drop(driver);
            after.run();
        }
        true
    }

    fn queue(&self, input: Input<D>) {
        log::warn!("[{}] input arrived while another was running; queued until it is done", D::NAME);
        self.queued.borrow_mut().push_back(input);
    }
}

impl<D: Driver> DriverRef<D> {
    /// Applies `input`, drives, then runs the deferred work. `None` when the driver is gone, or
    /// when the input was queued because it arrived from inside another input (it is applied as
    /// soon as that one is done; its result is not returned).
    pub fn run<R: 'static>(&self, input: impl FnOnce(&mut D, Millis) -> R + 'static) -> Option<R> {
        let shell = self.0.upgrade()?;
        let (mut input, mut output) = (Some(input), None);
        let applied = shell.run_now(&mut |d, now| {
            if let Some(input) = input.take() {
                output = Some(input(d, now));
            }
        });
        if !applied && let Some(input) = input {
            shell.queue(Box::new(move |d, now| {
                let _ = input(d, now);
            }));
        }
        output
    }

    /// Spawns `work` and feeds its output to the driver through `then` — unless the returned
    /// [`Task`] was dropped first (keep it in the driver: replacing or dropping it cancels the
    /// work) or the driver is gone.
    pub fn spawn<T: 'static>(
        &self,
        work: impl Future<Output = T> + 'static,
        then: impl FnOnce(&mut D, Millis, T) + 'static,
    ) -> Task {
        // The work with what follows it, boxed as one future of one input: the spawning and the
        // cancelling below are compiled once per driver, not at every call site.
        self.spawn_input(Box::pin(async move {
            let output = work.await;
            Box::new(move |d: &mut D, now: Millis| then(d, now, output)) as Input<D>
        }))
    }

    fn spawn_input(&self, work: LocalBoxFuture<'static, Input<D>>) -> Task {
        let me = self.clone();
        spawn_task(Box::pin(async move {
            let input = work.await;
            me.run(input);
        }))
    }

    /// Reads the driver (e.g. for a debug surface). `None` when it is gone or busy.
    pub fn with<R>(&self, read: impl FnOnce(&D) -> R) -> Option<R> {
        let shell = self.0.upgrade()?;
        let driver = shell.driver.try_borrow().ok()?;
        Some(read(&driver))
    }

    /// Whether the driver still exists (its owner has not been cleaned up).
    pub fn is_alive(&self) -> bool {
        self.0.strong_count() > 0
    }
}

/// A driver's WebSocket: its [`AttemptSocket`], the link machine that decides about it, and the
/// URL it connects to — picked out of the driver by a [`SocketParts`] function.
pub type SocketParts<D, M> = fn(&mut D) -> (&mut AttemptSocket, &mut M, &str);

/// Carries out one of a link's socket commands for `driver`: every event of a socket it opens
/// comes back to the driver as an input for the socket and its machine; a socket that cannot be
/// opened is logged and reported to the machine as a socket error.
pub fn socket_command<D: Driver, M: SocketInput + 'static>(
    me: &DriverRef<D>,
    driver: &mut D,
    command: SocketCommand,
    parts: SocketParts<D, M>,
) {
    let sink = |attempt: AttemptId| {
        let me = me.clone();
        move |event: SocketEvent| {
            me.run(move |d, now| {
                let (socket, machine, _) = parts(d);
                socket.deliver(machine, now, attempt, event);
            });
        }
    };
    let (socket, machine, url) = parts(driver);
    if let Err((attempt, e)) = socket.execute(command, url, sink) {
        log::error!("[{}] {e}", D::NAME);
        machine.handle_socket_error(clock::now(), attempt);
    }
}

/// Work spawned by [`DriverRef::spawn`] or [`spawn_task`]; dropping it cancels the work (the
/// future is dropped at its next poll, so its output never reaches the driver).
#[must_use = "dropping the task cancels it"]
pub struct Task(AbortHandle);

/// Spawns `work` on the page's task queue; dropping the returned [`Task`] cancels it.
pub fn spawn_task(work: LocalBoxFuture<'static, ()>) -> Task {
    let (handle, registration) = AbortHandle::new_pair();
    leptos::task::spawn_local(async move {
        let _ = Abortable::new(work, registration).await;
    });
    Task(handle)
}

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A page's `Copy` handle on a driver, stored in the hook owner's arena: every call is a no-op
/// (`None`) once that owner is cleaned up.
pub struct DriverHandle<D: 'static>(StoredValue<DriverRef<D>, LocalStorage>);

impl<D> Clone for DriverHandle<D> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<D> Copy for DriverHandle<D> {}

impl<D: Driver> DriverHandle<D> {
    fn driver(&self) -> Option<DriverRef<D>> {
        self.0.try_get_value()
    }

    /// [`DriverRef::run`] on the handle's driver.
    pub fn run<R: 'static>(&self, input: impl FnOnce(&mut D, Millis) -> R + 'static) -> Option<R> {
        self.driver()?.run(input)
    }

    /// [`DriverRef::with`] on the handle's driver.
    pub fn with<R>(&self, read: impl FnOnce(&D) -> R) -> Option<R> {
        self.driver()?.with(read)
    }

    /// A reference for callbacks that outlive no one (it holds no ownership).
    pub fn get_ref(&self) -> Option<DriverRef<D>> {
        self.driver()
    }
}

/// The owner of a driver outside the reactive tree (e.g. a connection owned by another driver's
/// callback). Dropping it drops the driver, without [`Driver::dispose`].
pub struct DriverOwner<D>(Rc<Shell<D>>);

impl<D: Driver> DriverOwner<D> {
    /// Creates a driver; `build` gets the driver's own [`DriverRef`] for the callbacks it attaches.
    pub fn new(build: impl FnOnce(DriverRef<D>) -> D) -> DriverOwner<D> {
        DriverOwner(Rc::new_cyclic(|me: &Weak<Shell<D>>| Shell {
            driver: RefCell::new(build(DriverRef(me.clone()))),
            queued: RefCell::new(VecDeque::new()),
        }))
    }

    pub fn get_ref(&self) -> DriverRef<D> {
        DriverRef(Rc::downgrade(&self.0))
    }
}

/// Creates a hook's page-facing signals (what its driver writes and the page reads) in an owner of
/// their own, a child of the hook's owner.
///
/// A reactive owner cleans up its children before running its own cleanups, so these signals are
/// disposed before the hook's driver gets its last input ([`Driver::dispose`], run by
/// [`use_driver`]'s cleanup): whatever that input writes to them (the peer closed, the call
/// ended) goes nowhere. Written while they still lived, it would wake the effects of views that
/// were torn down a moment before, which read values of theirs that are already disposed.
pub fn page_signals<T>(make: impl FnOnce() -> T) -> T {
    debug_assert!(Owner::current().is_some(), "page_signals outside a reactive owner: they would be disposed at once");
    let owner = Owner::new();
    let signals = owner.with(make);
    // A parent holds its children weakly: this keeps them until the parent is cleaned up.
    on_cleanup(move || drop(owner));
    signals
}

/// Creates a driver owned by the current reactive owner. `build` gets the driver's own
/// [`DriverRef`] for the callbacks it attaches. When the owner is cleaned up the driver gets
/// [`Driver::dispose`] as its last input and is then dropped.
pub fn use_driver<D: Driver>(build: impl FnOnce(DriverRef<D>) -> D) -> DriverHandle<D> {
    let owner = DriverOwner::new(build);
    let handle = DriverHandle(StoredValue::new_local(owner.get_ref()));
    let owned = SendWrapper::new(owner);
    on_cleanup(move || {
        let owner = owned.take();
        owner.get_ref().run(|d, now| d.dispose(now));
        // The last strong reference: every socket, peer, timer, fetch and listener goes with it.
        drop(owner);
    });
    handle
}
