//! A `log` backend writing to the browser console, so pure code in `core` can log through the
//! `log` facade and every message lands in DevTools with its level.

use log::{Level, LevelFilter, Log, Metadata, Record};

struct ConsoleLogger;

static LOGGER: ConsoleLogger = ConsoleLogger;

impl Log for ConsoleLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let text = record.args().to_string();
        let value = wasm_bindgen::JsValue::from_str(&text);
        match record.level() {
            Level::Error => web_sys::console::error_1(&value),
            Level::Warn => web_sys::console::warn_1(&value),
            Level::Info => web_sys::console::info_1(&value),
            Level::Debug | Level::Trace => web_sys::console::debug_1(&value),
        }
    }

    fn flush(&self) {}
}

/// Installs the console logger once; later calls are no-ops. Errors and warnings are always on.
pub fn init() {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(LevelFilter::Info);
    }
}
