//! In-page HTTP stubs: `window.fetch` replaced by a wrapper that records every request (method,
//! URL, headers, body, time) and answers the queued responses of a method and path, passing
//! everything else (and every request once a route's queue is empty) to the real `fetch`.
//! Dropping the stub restores the real `fetch`.

use std::collections::HashMap;

use serde::Deserialize;

use super::console::run_js;

/// One request the page made.
#[derive(Debug, Clone, Deserialize)]
pub struct StubCall {
    pub url: String,
    pub path: String,
    pub method: String,
    /// Lower-case header names.
    pub headers: HashMap<String, String>,
    pub body: Option<String>,
    /// `Date.now()` when the request was made.
    pub at: f64,
}

impl StubCall {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
}

pub struct FetchStub(());

impl FetchStub {
    pub fn install() -> FetchStub {
        run_js(
            "if (!window.__realFetch) { window.__realFetch = window.fetch; }
             const real = window.__realFetch;
             const stub = { routes: [], calls: [] };
             window.__fetchStub = stub;
             window.fetch = function (input, init) {
               init = init || {};
               const url = typeof input === 'string' ? input : input.url;
               const method = (init.method || 'GET').toUpperCase();
               const headers = {};
               new Headers(init.headers || {}).forEach((v, k) => { headers[k] = v; });
               const body = typeof init.body === 'string' ? init.body : null;
               const path = new URL(url, location.href).pathname;
               stub.calls.push({ url, path, method, headers, body, at: Date.now() });
               const route = stub.routes.find(r => r.method === method && r.path === path && r.queue.length > 0);
               if (route) {
                 const r = route.queue.shift();
                 if (!r.pass) {
                   return Promise.resolve(new Response(r.body === '' ? null : r.body, { status: r.status, headers: r.headers }));
                 }
               }
               return real.call(window, input, init);
             };",
        );
        FetchStub(())
    }

    /// Answers the next `method` request to `path` with this response.
    pub fn respond(&self, method: &str, path: &str, status: u16, headers: &[(&str, &str)], body: &str) {
        let headers: HashMap<&str, &str> = headers.iter().copied().collect();
        let response = serde_json::json!({ "status": status, "headers": headers, "body": body });
        self.queue(method, path, response);
    }

    /// Lets the next `method` request to `path` through to the real `fetch`.
    pub fn pass(&self, method: &str, path: &str) {
        self.queue(method, path, serde_json::json!({ "pass": true }));
    }

    fn queue(&self, method: &str, path: &str, response: serde_json::Value) {
        let (method, path) = (serde_json::to_string(method).unwrap(), serde_json::to_string(path).unwrap());
        run_js(&format!(
            "const stub = window.__fetchStub;
             let route = stub.routes.find(r => r.method === {method} && r.path === {path});
             if (!route) {{ route = {{ method: {method}, path: {path}, queue: [] }}; stub.routes.push(route); }}
             route.queue.push({response});"
        ));
    }

    /// Every recorded `method` request to `path`, in order.
    pub fn calls(&self, method: &str, path: &str) -> Vec<StubCall> {
        let text = js_sys::eval("JSON.stringify(window.__fetchStub.calls)").unwrap().as_string().unwrap();
        let calls: Vec<StubCall> = serde_json::from_str(&text).expect("recorded calls");
        calls.into_iter().filter(|c| c.method == method && c.path == path).collect()
    }
}

impl Drop for FetchStub {
    fn drop(&mut self) {
        run_js("if (window.__realFetch) { window.fetch = window.__realFetch; } window.__fetchStub = undefined;");
    }
}

/// Counts `getUserMedia` calls (the real one still runs) until dropped.
pub struct MicrophoneSpy(());

impl MicrophoneSpy {
    pub fn install() -> MicrophoneSpy {
        run_js(
            "const media = navigator.mediaDevices;
             if (!window.__gumSpyReal) { window.__gumSpyReal = media.getUserMedia; }
             const real = window.__gumSpyReal;
             window.__gumCalls = 0;
             media.getUserMedia = function (...args) { window.__gumCalls += 1; return real.apply(media, args); };",
        );
        MicrophoneSpy(())
    }

    pub fn calls(&self) -> u32 {
        js_sys::eval("window.__gumCalls").unwrap().as_f64().unwrap_or(0.0) as u32
    }
}

impl Drop for MicrophoneSpy {
    fn drop(&mut self) {
        run_js("if (window.__gumSpyReal) { navigator.mediaDevices.getUserMedia = window.__gumSpyReal; }");
    }
}
