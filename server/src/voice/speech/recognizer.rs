//! The recognizer: a pocketsphinx decoder on its own thread per call, fed 16 kHz audio as it
//! arrives, so that at the end of a turn only the last moments are left to decode.

use std::collections::HashMap;
use std::ffi::{CStr, CString, c_char};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use restaurant_protocol::Menu;
use tokio::sync::mpsc::UnboundedSender;

use super::codec::RECOGNIZER_RATE;
use super::grammar::{self, Dictionary, Grammar};
use super::sys::{self, Opaque, Sphinx};

/// Where Debian's `pocketsphinx-en-us` puts the US English model.
pub const DEFAULT_MODEL_DIR: &str = "/usr/share/pocketsphinx/model/en-us";
/// Longest utterance decoded: older audio of a longer one is dropped (a turn left open while
/// the customer reads the menu must not grow without bound).
pub const MAX_UTTERANCE_SAMPLES: usize = 30 * RATE;
/// The recognizer's sample rate, in samples per second.
const RATE: usize = RECOGNIZER_RATE as usize;
/// Audio a call's recognizer may be behind at most: 10 s.
pub const MAX_QUEUED_SAMPLES: usize = 10 * RATE;
/// Name of the grammar search inside the decoder.
const SEARCH: &CStr = c"menu";
/// The search's settings, chosen on the spoken test set (`cargo xtask bench`, docs/benchmarks.md):
/// silence before, between and after words more likely than pocketsphinx's default (0.005), and
/// wider beams, so that the right words are not pruned early while noise or an unusual voice
/// scores them low.
const SEARCH_SETTINGS: [(&str, &str); 4] =
    [("-silprob", "0.1"), ("-beam", "1e-60"), ("-wbeam", "1e-45"), ("-pbeam", "1e-60")];
/// Decoders kept loaded between calls: loading the model and its dictionary costs a call's
/// start a few hundred milliseconds of CPU, which several kiosks starting at once would queue for.
pub const IDLE_DECODERS: usize = 4;

/// What the recognizer heard in one turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heard {
    pub item_id: String,
    /// Empty when nothing recognisable was said (or the recognizer is unavailable).
    pub transcript: String,
    /// Audio decoded in the turn, in samples at 16 kHz.
    pub samples: usize,
}

/// The model and its dictionary, shared by every call; grammars are cached per menu.
pub struct Engine {
    sphinx: Arc<Sphinx>,
    model_dir: PathBuf,
    dictionary: OnceLock<Result<Dictionary, String>>,
    grammars: Mutex<Option<(u64, Arc<Grammar>)>>,
    pronunciations: Mutex<HashMap<String, Option<String>>>,
    /// Decoders of ended calls, with the grammar each has loaded (at most [`IDLE_DECODERS`]).
    idle: Mutex<Vec<(Decoder, Arc<Grammar>)>>,
    /// Decoders handed back by ended calls (kept or freed), since the engine started.
    released: AtomicUsize,
}

impl Engine {
    /// The engine for the model in `model_dir` (`en-us/` and `cmudict-en-us.dict` inside), or why
    /// there is none.
    pub fn new(model_dir: &Path) -> Result<Arc<Engine>, String> {
        let sphinx = sys::sphinx()?;
        let hmm = model_dir.join("en-us");
        if !hmm.join("mdef").is_file() {
            return Err(format!(
                "no acoustic model in {}: install Debian's pocketsphinx-en-us (`cargo xtask setup` does)",
                hmm.display()
            ));
        }
        Ok(Arc::new(Engine {
            sphinx,
            model_dir: model_dir.to_path_buf(),
            dictionary: OnceLock::new(),
            grammars: Mutex::new(None),
            pronunciations: Mutex::new(HashMap::new()),
            idle: Mutex::new(Vec::new()),
            released: AtomicUsize::new(0),
        }))
    }

    fn dictionary(&self) -> Result<&Dictionary, String> {
        self.dictionary.get_or_init(|| Dictionary::load(&self.dict_path())).as_ref().map_err(Clone::clone)
    }

    fn dict_path(&self) -> PathBuf {
        self.model_dir.join("cmudict-en-us.dict")
    }

    /// The grammar for `menu`, built once per distinct menu; words it cannot pronounce are
    /// logged as a warning when it is built.
    pub fn grammar(&self, menu: &Menu) -> Result<Arc<Grammar>, String> {
        let fingerprint = {
            let mut h = DefaultHasher::new();
            for item in &menu.items {
                (&item.name, &item.aliases).hash(&mut h);
                for g in &item.modifier_groups {
                    for o in &g.options {
                        (&o.name, &o.aliases, o.available, g.kind as u8).hash(&mut h);
                    }
                }
            }
            h.finish()
        };
        let mut cache = self.grammars.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((f, g)) = cache.as_ref()
            && *f == fingerprint
        {
            return Ok(Arc::clone(g));
        }
        let started = Instant::now();
        let dict = self.dictionary()?;
        let g = Arc::new(grammar::build(menu, dict, &|w| self.pronounce(w)));
        if !g.unknown.is_empty() {
            tracing::warn!(
                words = ?g.unknown,
                "menu words with no pronunciation: phrases using them cannot be recognized (add an alias the dictionary knows)"
            );
        }
        tracing::info!(
            added = ?g.added.iter().map(|(w, _)| w.as_str()).collect::<Vec<_>>(),
            bytes = g.jsgf.len(),
            took = ?started.elapsed(),
            "speech grammar built from the menu"
        );
        *cache = Some((fingerprint, Arc::clone(&g)));
        Ok(g)
    }

    /// A decoder for `menu`'s grammar: an ended call's if one is idle, else a new one.
    pub fn decoder(&self, menu: &Menu) -> Result<(Decoder, Arc<Grammar>), String> {
        let grammar = self.grammar(menu)?;
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match idle {
            Some((decoder, loaded)) if Arc::ptr_eq(&loaded, &grammar) => Ok((decoder, grammar)),
            Some((mut decoder, _)) => {
                decoder.set_grammar(&grammar)?;
                Ok((decoder, grammar))
            }
            None => Ok((Decoder::new(self, &grammar)?, grammar)),
        }
    }

    /// Keeps an ended call's decoder for the next call (or frees it when enough are kept).
    pub fn release(&self, mut decoder: Decoder, grammar: Arc<Grammar>) {
        decoder.end();
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < IDLE_DECODERS {
            idle.push((decoder, grammar));
        }
        drop(idle);
        self.released.fetch_add(1, Ordering::Relaxed);
    }

    #[cfg(test)]
    fn idle_decoders(&self) -> usize {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// espeak-ng's pronunciation of `word` in the model's phones, remembered per word.
    fn pronounce(&self, word: &str) -> Option<String> {
        let mut cache = self.pronunciations.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .entry(word.to_string())
            .or_insert_with(|| {
                let out = std::process::Command::new("espeak-ng").args(["-q", "-x", "-v", "en-us", word]).output();
                match out {
                    Ok(o) if o.status.success() => grammar::espeak_to_phones(String::from_utf8_lossy(&o.stdout).trim()),
                    Ok(o) => {
                        tracing::warn!(word, status = %o.status, "espeak-ng could not pronounce a menu word");
                        None
                    }
                    Err(e) => {
                        tracing::warn!(word, "espeak-ng is not available to pronounce a menu word: {e}");
                        None
                    }
                }
            })
            .clone()
    }
}

/// One pocketsphinx decoder; freed when dropped.
pub struct Decoder {
    sphinx: Arc<Sphinx>,
    ps: NonNull<Opaque>,
    in_utterance: bool,
    samples: usize,
    /// The configuration's strings: the decoder's config points into them.
    _args: Vec<CString>,
}

// SAFETY: the decoder is used by one thread at a time (it moves into the recognizer's thread).
unsafe impl Send for Decoder {}

impl Decoder {
    /// A decoder for `engine`'s model with `grammar` as its search.
    pub fn new(engine: &Engine, grammar: &Grammar) -> Result<Decoder, String> {
        let s = &engine.sphinx;
        let hmm = engine.model_dir.join("en-us");
        let dict = engine.dict_path();
        let args = [("-hmm", hmm.to_string_lossy()), ("-dict", dict.to_string_lossy()), ("-samprate", "16000".into())]
            .into_iter()
            .chain(SEARCH_SETTINGS.iter().map(|(k, v)| (*k, (*v).into())))
            .flat_map(|(k, v)| [k.to_string(), v.into_owned()])
            .map(|a| CString::new(a).map_err(|_| "a model path contains a NUL byte".to_string()))
            .collect::<Result<Vec<CString>, String>>()?;
        let mut argv: Vec<*mut c_char> = args.iter().map(|a| a.as_ptr().cast_mut()).collect();
        // SAFETY: `argv` points at NUL-terminated strings; the config keeps pointers to some of
        // them, so they live in the decoder until after ps_free. ps_init takes its own
        // reference to the config.
        let ps = unsafe {
            let config =
                (s.cmd_ln_parse_r)(std::ptr::null_mut(), (s.ps_args)(), argv.len() as i32, argv.as_mut_ptr(), 1);
            if config.is_null() {
                return Err("pocketsphinx refused its configuration".into());
            }
            let ps = (s.ps_init)(config);
            (s.cmd_ln_free_r)(config);
            ps
        };
        let ps =
            NonNull::new(ps).ok_or_else(|| format!("pocketsphinx could not load the model in {}", hmm.display()))?;
        let mut decoder = Decoder { sphinx: Arc::clone(s), ps, in_utterance: false, samples: 0, _args: args };
        decoder.set_grammar(grammar)?;
        Ok(decoder)
    }

    /// Loads `grammar` (and its added words); only between utterances.
    pub fn set_grammar(&mut self, grammar: &Grammar) -> Result<(), String> {
        let s = &self.sphinx;
        for (i, (word, phones)) in grammar.added.iter().enumerate() {
            let (Ok(w), Ok(p)) = (CString::new(word.as_str()), CString::new(phones.as_str())) else { continue };
            let last = i32::from(i + 1 == grammar.added.len());
            // SAFETY: valid decoder and NUL-terminated strings. A word already there is fine.
            unsafe { (s.ps_add_word)(self.ps.as_ptr(), w.as_ptr(), p.as_ptr(), last) };
        }
        let jsgf = CString::new(grammar.jsgf.as_str()).map_err(|_| "the grammar contains a NUL byte".to_string())?;
        // SAFETY: valid decoder and NUL-terminated strings.
        let loaded = unsafe { (s.ps_set_jsgf_string)(self.ps.as_ptr(), SEARCH.as_ptr(), jsgf.as_ptr()) };
        if loaded < 0 {
            return Err("pocketsphinx refused the menu grammar".into());
        }
        // SAFETY: as above; the search was just added.
        if unsafe { (s.ps_set_search)(self.ps.as_ptr(), SEARCH.as_ptr()) } < 0 {
            return Err("pocketsphinx could not select the menu grammar".into());
        }
        Ok(())
    }

    pub fn start(&mut self) {
        self.end();
        // SAFETY: valid decoder, not in an utterance.
        self.in_utterance = unsafe { (self.sphinx.ps_start_utt)(self.ps.as_ptr()) } >= 0;
        self.samples = 0;
    }

    pub fn process(&mut self, pcm: &[i16]) {
        if !self.in_utterance || pcm.is_empty() {
            return;
        }
        if self.samples + pcm.len() > MAX_UTTERANCE_SAMPLES {
            tracing::info!(seconds = MAX_UTTERANCE_SAMPLES / RATE, "turn audio over the limit: its start is dropped");
            self.start();
        }
        self.samples += pcm.len();
        // SAFETY: valid decoder in an utterance; `pcm` is readable for its length.
        unsafe { (self.sphinx.ps_process_raw)(self.ps.as_ptr(), pcm.as_ptr(), pcm.len(), 0, 0) };
    }

    /// Ends the utterance; its best hypothesis (empty if none).
    pub fn finish(&mut self) -> String {
        if !self.end() {
            return String::new();
        }
        let mut score = 0;
        // SAFETY: valid decoder; the returned string belongs to it and is copied at once.
        let hyp = unsafe { (self.sphinx.ps_get_hyp)(self.ps.as_ptr(), &mut score) };
        if hyp.is_null() {
            return String::new();
        }
        // SAFETY: a NUL-terminated string owned by the decoder until its next call.
        unsafe { CStr::from_ptr(hyp) }.to_string_lossy().split_whitespace().collect::<Vec<_>>().join(" ")
    }

    pub fn samples(&self) -> usize {
        self.samples
    }

    fn end(&mut self) -> bool {
        let was = std::mem::take(&mut self.in_utterance);
        if was {
            // SAFETY: valid decoder in an utterance.
            unsafe { (self.sphinx.ps_end_utt)(self.ps.as_ptr()) };
        }
        was
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        self.end();
        // SAFETY: created by ps_init, freed once.
        unsafe { (self.sphinx.ps_free)(self.ps.as_ptr()) };
    }
}

enum Command {
    Menu(Arc<Menu>),
    Begin(Vec<i16>),
    Audio(Vec<i16>),
    Finish(String),
}

/// A call's recognizer thread. Dropping it ends the thread (it finishes what it is decoding).
pub struct Recognizer {
    tx: mpsc::Sender<Command>,
    /// Audio samples sent and not yet taken by the thread (at most [`MAX_QUEUED_SAMPLES`]).
    queued: Arc<AtomicUsize>,
    /// Audio dropped because the thread was that far behind, in samples.
    dropped: AtomicUsize,
    /// Where transcripts go: used here when the thread could not start or has ended, so that
    /// a turn is still answered (as heard empty).
    heard: UnboundedSender<Heard>,
    /// Whether the thread started.
    running: bool,
}

impl Recognizer {
    /// Starts the thread; transcripts come back on `heard`. Without an engine every turn is
    /// heard as empty.
    pub fn spawn(engine: Option<Arc<Engine>>, menu: Arc<Menu>, heard: UnboundedSender<Heard>) -> Recognizer {
        let (tx, rx) = mpsc::channel();
        let span = tracing::Span::current();
        let fallback = heard.clone();
        let queued = Arc::new(AtomicUsize::new(0));
        let taken = Arc::clone(&queued);
        let spawned = std::thread::Builder::new().name("recognizer".into()).spawn(move || {
            let _entered = span.enter();
            run(engine, &menu, &rx, &taken, &heard);
        });
        let running = match spawned {
            Ok(_) => true,
            Err(e) => {
                tracing::error!("cannot start the recognizer thread: {e}; turns are heard as empty");
                false
            }
        };
        Recognizer { tx, queued, dropped: AtomicUsize::new(0), heard: fallback, running }
    }

    /// A changed menu: its grammar applies from the next turn.
    pub fn menu(&self, menu: Arc<Menu>) {
        let _ = self.tx.send(Command::Menu(menu));
    }

    /// Starts a turn with `prefix` (audio from just before it started).
    pub fn begin(&self, prefix: Vec<i16>) {
        self.queued.fetch_add(prefix.len(), Ordering::Relaxed);
        let _ = self.tx.send(Command::Begin(prefix));
    }

    /// Audio of the turn. When the thread is [`MAX_QUEUED_SAMPLES`] behind (the machine is
    /// overloaded), the audio is dropped rather than queued without bound; the first drop of a
    /// call is logged, and the total when the call ends.
    pub fn audio(&self, pcm: Vec<i16>) {
        if !self.running {
            return;
        }
        if self.queued.load(Ordering::Relaxed) + pcm.len() > MAX_QUEUED_SAMPLES {
            if self.dropped.fetch_add(pcm.len(), Ordering::Relaxed) == 0 {
                tracing::warn!(
                    seconds = MAX_QUEUED_SAMPLES / RATE,
                    "the recognizer is that far behind the call's audio: audio is dropped until it catches up"
                );
            }
            return;
        }
        self.queued.fetch_add(pcm.len(), Ordering::Relaxed);
        let _ = self.tx.send(Command::Audio(pcm));
    }

    /// Ends the turn; its transcript comes back for `item_id`.
    pub fn finish(&self, item_id: String) {
        let item_id = match self.running {
            true => match self.tx.send(Command::Finish(item_id)) {
                Ok(()) => return,
                Err(mpsc::SendError(command)) => {
                    tracing::error!("the recognizer thread has ended: the turn is heard as empty");
                    let Command::Finish(item_id) = command else { return };
                    item_id
                }
            },
            false => item_id,
        };
        let _ = self.heard.send(Heard { item_id, transcript: String::new(), samples: 0 });
    }
}

impl Drop for Recognizer {
    fn drop(&mut self) {
        let dropped = self.dropped.load(Ordering::Relaxed);
        if dropped > 0 {
            tracing::warn!(seconds = dropped as f64 / RATE as f64, "call audio the recognizer dropped while behind");
        }
    }
}

fn run(
    engine: Option<Arc<Engine>>,
    menu: &Menu,
    rx: &mpsc::Receiver<Command>,
    queued: &AtomicUsize,
    heard: &UnboundedSender<Heard>,
) {
    let started = Instant::now();
    let mut decoder = match engine.as_ref().map(|e| e.decoder(menu)) {
        Some(Ok(d)) => Some(d),
        Some(Err(e)) => {
            tracing::error!("the recognizer could not start: {e}; turns are heard as empty");
            None
        }
        None => None,
    };
    if decoder.is_some() {
        tracing::debug!(took = ?started.elapsed(), "recognizer ready");
    }
    let mut pending: Option<Arc<Grammar>> = None;
    while let Ok(command) = rx.recv() {
        if let Command::Begin(pcm) | Command::Audio(pcm) = &command {
            queued.fetch_sub(pcm.len(), Ordering::Relaxed);
        }
        let Some((d, current)) = decoder.as_mut() else {
            if let Command::Finish(item_id) = command {
                let _ = heard.send(Heard { item_id, transcript: String::new(), samples: 0 });
            }
            continue;
        };
        match command {
            Command::Menu(menu) => match engine.as_ref().map(|e| e.grammar(&menu)) {
                Some(Ok(g)) if !Arc::ptr_eq(&g, current) => pending = Some(g),
                Some(Err(e)) => tracing::error!("no grammar for the changed menu: {e}"),
                _ => {}
            },
            Command::Begin(prefix) => {
                if let Some(g) = pending.take() {
                    d.start();
                    d.finish();
                    match d.set_grammar(&g) {
                        Ok(()) => *current = g,
                        Err(e) => {
                            tracing::error!("the changed menu's grammar did not load: {e}; the previous one stays")
                        }
                    }
                }
                d.start();
                d.process(&prefix);
            }
            Command::Audio(pcm) => d.process(&pcm),
            Command::Finish(item_id) => {
                let samples = d.samples();
                let began = Instant::now();
                let transcript = d.finish();
                tracing::debug!(%item_id, samples, took = ?began.elapsed(), %transcript, "turn recognized");
                let _ = heard.send(Heard { item_id, transcript, samples });
            }
        }
    }
    if let (Some(engine), Some((decoder, grammar))) = (engine, decoder) {
        engine.release(decoder, grammar);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn audio_the_thread_has_not_taken_is_bounded() {
        let (tx, rx) = mpsc::channel();
        let (heard, mut answers) = tokio::sync::mpsc::unbounded_channel();
        let call = Recognizer {
            tx,
            queued: Arc::new(AtomicUsize::new(0)),
            dropped: AtomicUsize::new(0),
            heard,
            running: true,
        };
        let second = vec![0i16; RATE];
        for _ in 0..MAX_QUEUED_SAMPLES / RATE + 3 {
            call.audio(second.clone());
        }
        call.finish("item_1".into());
        let sent: Vec<Command> = rx.try_iter().collect();
        assert_eq!(sent.len(), MAX_QUEUED_SAMPLES / RATE + 1, "the audio under the limit, then the finish");
        assert!(matches!(sent.last(), Some(Command::Finish(id)) if id == "item_1"));
        assert_eq!(call.dropped.load(Ordering::Relaxed), 3 * RATE);
        // Once the thread takes the audio, more is queued again.
        call.queued.store(0, Ordering::Relaxed);
        call.audio(second);
        assert!(matches!(rx.try_recv(), Ok(Command::Audio(pcm)) if pcm.len() == RATE));
        // A thread that has ended: the turn is still answered, as heard empty.
        drop(rx);
        call.finish("item_2".into());
        let heard = answers.try_recv().expect("answered");
        assert_eq!((heard.item_id.as_str(), heard.transcript.as_str()), ("item_2", ""));
    }

    #[test]
    fn an_ended_calls_decoder_serves_the_next_call_and_few_are_kept() {
        let engine = Engine::new(Path::new(DEFAULT_MODEL_DIR)).expect("the model `cargo xtask setup` installs");
        let menu = Arc::new(crate::voice::bundled_menu());
        let (heard_tx, mut heard) = tokio::sync::mpsc::unbounded_channel();
        let calls: Vec<Recognizer> = (0..IDLE_DECODERS + 2)
            .map(|_| Recognizer::spawn(Some(engine.clone()), menu.clone(), heard_tx.clone()))
            .collect();
        for (i, call) in calls.iter().enumerate() {
            call.begin(vec![0; 1600]);
            call.audio(vec![0; 16_000]);
            call.finish(format!("item_{i}"));
        }
        for _ in 0..calls.len() {
            wait_for("a transcript", || !heard.is_empty());
            let h = heard.try_recv().unwrap();
            assert!(h.transcript.is_empty(), "silence is heard as nothing: {h:?}");
            assert_eq!(h.samples, 17_600);
        }
        drop(calls);
        // Every ended call hands its decoder back: 4 are kept, the others freed.
        wait_for("the ended calls' decoders", || engine.released.load(Ordering::Relaxed) == IDLE_DECODERS + 2);
        assert_eq!(engine.idle_decoders(), IDLE_DECODERS);
        // A new call takes one (and hears as before); ending it gives it back.
        let call = Recognizer::spawn(Some(engine.clone()), menu, heard_tx);
        wait_for("the new call to take a decoder", || engine.idle_decoders() == IDLE_DECODERS - 1);
        call.begin(Vec::new());
        call.audio(vec![0; 8_000]);
        call.finish("item_next".into());
        wait_for("its transcript", || !heard.is_empty());
        assert_eq!(heard.try_recv().unwrap().item_id, "item_next");
        drop(call);
        wait_for("its decoder back", || engine.idle_decoders() == IDLE_DECODERS);
    }
}
