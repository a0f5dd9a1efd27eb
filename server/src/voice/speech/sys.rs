//! The system libraries the offline voice uses, opened at run time: pocketsphinx 5prealpha
//! (`libpocketsphinx.so.3` with `libsphinxbase.so.3`, Debian's `pocketsphinx`) and libopus
//! (`libopus.so.0`). Opening them at run time keeps the hub buildable and runnable without them:
//! the peer then says what is missing, and answers each turn with an empty transcript.

use std::ffi::{c_char, c_int, c_void};
use std::sync::{Arc, OnceLock};

use libloading::Library;

/// Opaque `cmd_ln_t`, `arg_t`, `ps_decoder_t`, `OpusDecoder`, `OpusEncoder`.
pub type Opaque = c_void;

/// pocketsphinx and sphinxbase entry points.
pub struct Sphinx {
    pub ps_args: unsafe extern "C" fn() -> *const Opaque,
    pub cmd_ln_parse_r: unsafe extern "C" fn(*mut Opaque, *const Opaque, i32, *mut *mut c_char, i32) -> *mut Opaque,
    pub cmd_ln_free_r: unsafe extern "C" fn(*mut Opaque) -> c_int,
    pub ps_init: unsafe extern "C" fn(*mut Opaque) -> *mut Opaque,
    pub ps_free: unsafe extern "C" fn(*mut Opaque) -> c_int,
    pub ps_add_word: unsafe extern "C" fn(*mut Opaque, *const c_char, *const c_char, c_int) -> c_int,
    pub ps_set_jsgf_string: unsafe extern "C" fn(*mut Opaque, *const c_char, *const c_char) -> c_int,
    pub ps_set_search: unsafe extern "C" fn(*mut Opaque, *const c_char) -> c_int,
    pub ps_start_utt: unsafe extern "C" fn(*mut Opaque) -> c_int,
    pub ps_process_raw: unsafe extern "C" fn(*mut Opaque, *const i16, usize, c_int, c_int) -> c_int,
    pub ps_end_utt: unsafe extern "C" fn(*mut Opaque) -> c_int,
    pub ps_get_hyp: unsafe extern "C" fn(*mut Opaque, *mut i32) -> *const c_char,
    err_set_logfp: unsafe extern "C" fn(*mut c_void),
    // The libraries stay open as long as the pointers above may be called.
    _sphinxbase: Library,
    _pocketsphinx: Library,
}

/// libopus entry points.
pub struct Opus {
    pub decoder_create: unsafe extern "C" fn(i32, c_int, *mut c_int) -> *mut Opaque,
    pub decode: unsafe extern "C" fn(*mut Opaque, *const u8, i32, *mut i16, c_int, c_int) -> c_int,
    pub decoder_destroy: unsafe extern "C" fn(*mut Opaque),
    pub encoder_create: unsafe extern "C" fn(i32, c_int, c_int, *mut c_int) -> *mut Opaque,
    pub encode: unsafe extern "C" fn(*mut Opaque, *const i16, c_int, *mut u8, i32) -> i32,
    pub encoder_destroy: unsafe extern "C" fn(*mut Opaque),
    _opus: Library,
}

/// Copies the function pointer `name` out of `lib`.
///
/// # Safety
/// `T` must be the symbol's C signature.
unsafe fn symbol<T: Copy>(lib: &Library, name: &str) -> Result<T, String> {
    let mut bytes = name.as_bytes().to_vec();
    bytes.push(0);
    // SAFETY: the caller names the symbol's true type; the pointer is used only while `lib`
    // (kept next to it) is open.
    unsafe { lib.get::<T>(&bytes).map(|s| *s).map_err(|e| format!("{name}: {e}")) }
}

fn open(names: &[&str]) -> Result<Library, String> {
    let mut errors = Vec::new();
    for name in names {
        // SAFETY: these are plain C libraries whose initialisers have no preconditions.
        match unsafe { Library::new(name) } {
            Ok(lib) => return Ok(lib),
            Err(e) => errors.push(e.to_string()),
        }
    }
    Err(errors.join("; "))
}

impl Sphinx {
    fn load() -> Result<Sphinx, String> {
        let sphinxbase = open(&["libsphinxbase.so.3"])?;
        let pocketsphinx = open(&["libpocketsphinx.so.3"])?;
        // SAFETY: the signatures are those of pocketsphinx 5prealpha's and sphinxbase's headers.
        unsafe {
            Ok(Sphinx {
                ps_args: symbol(&pocketsphinx, "ps_args")?,
                cmd_ln_parse_r: symbol(&sphinxbase, "cmd_ln_parse_r")?,
                cmd_ln_free_r: symbol(&sphinxbase, "cmd_ln_free_r")?,
                ps_init: symbol(&pocketsphinx, "ps_init")?,
                ps_free: symbol(&pocketsphinx, "ps_free")?,
                ps_add_word: symbol(&pocketsphinx, "ps_add_word")?,
                ps_set_jsgf_string: symbol(&pocketsphinx, "ps_set_jsgf_string")?,
                ps_set_search: symbol(&pocketsphinx, "ps_set_search")?,
                ps_start_utt: symbol(&pocketsphinx, "ps_start_utt")?,
                ps_process_raw: symbol(&pocketsphinx, "ps_process_raw")?,
                ps_end_utt: symbol(&pocketsphinx, "ps_end_utt")?,
                ps_get_hyp: symbol(&pocketsphinx, "ps_get_hyp")?,
                err_set_logfp: symbol(&sphinxbase, "err_set_logfp")?,
                _sphinxbase: sphinxbase,
                _pocketsphinx: pocketsphinx,
            })
        }
    }
}

impl Opus {
    fn load() -> Result<Opus, String> {
        let opus = open(&["libopus.so.0"])?;
        // SAFETY: the signatures are those of opus.h (1.x).
        unsafe {
            Ok(Opus {
                decoder_create: symbol(&opus, "opus_decoder_create")?,
                decode: symbol(&opus, "opus_decode")?,
                decoder_destroy: symbol(&opus, "opus_decoder_destroy")?,
                encoder_create: symbol(&opus, "opus_encoder_create")?,
                encode: symbol(&opus, "opus_encode")?,
                encoder_destroy: symbol(&opus, "opus_encoder_destroy")?,
                _opus: opus,
            })
        }
    }
}

/// pocketsphinx, opened once per process; the error says what to install.
pub fn sphinx() -> Result<Arc<Sphinx>, String> {
    static LIB: OnceLock<Result<Arc<Sphinx>, String>> = OnceLock::new();
    LIB.get_or_init(|| {
        Sphinx::load()
            .inspect(|s| {
                // Its log is one process-wide FILE: turned off here, once, before any decoder
                // exists (a per-decoder `-logfn` would close and reopen it under other calls).
                // SAFETY: NULL disables logging; nothing else uses the log yet.
                unsafe { (s.err_set_logfp)(std::ptr::null_mut()) };
            })
            .map(Arc::new)
            .map_err(|e| {
            format!("pocketsphinx is not installed ({e}): install Debian's pocketsphinx and pocketsphinx-en-us (`cargo xtask setup` does)")
        })
    })
    .clone()
}

/// libopus, opened once per process.
pub fn opus() -> Result<Arc<Opus>, String> {
    static LIB: OnceLock<Result<Arc<Opus>, String>> = OnceLock::new();
    LIB.get_or_init(|| {
        Opus::load().map(Arc::new).map_err(|e| {
            format!("libopus is not installed ({e}): install Debian's libopus0 (`cargo xtask setup` does)")
        })
    })
    .clone()
}
