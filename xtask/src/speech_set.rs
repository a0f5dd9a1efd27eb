//! `cargo xtask speech-set [--out DIR] [--orders FILE] [--force]`: the spoken test set of customer
//! orders for the hub's offline speech recognizer.
//!
//! espeak-ng speaks every order of `e2e/speech/orders.json` in two conditions: clean with voice
//! `i % 4`, and over background noise at 15 dB SNR with voice `(i + 2) % 4`, so that each voice is
//! heard both ways. Each condition gets a folder `<order>-<voice tag>-<clean|noisy>` holding one
//! WAV per turn (0.3 s of silence or noise either side of the speech) and `conversation.wav`: 1.5 s
//! lead, the turns 4 s apart, 6 s tail — for a browser's fake microphone with server-side voice
//! activity detection. Every WAV is 48 kHz mono 16-bit PCM. `manifest.json` lists the files with
//! their text, how long the speech lasts, where each turn's speech lies in the conversation, and
//! the cart the order should end with.
//!
//! The noise is pink noise plus a low babble of three other voices reading the menu's
//! descriptions, made once (`noise/bed.wav`) and cut from at an offset that differs per file. Its
//! level follows the order's speech, so the SNR holds for every file of the order.
//!
//! Idempotent: an order's files newer than orders.json (and, when noisy, than the noise bed) are
//! kept unless `--force`. espeak-ng and sox run two at a time.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Instant, SystemTime};
use std::{fs, io};

use serde_json::{Value, json};

use crate::proc::{Result, describe};
use crate::tools::workspace_root;

/// Sample rate of every WAV written, in Hz.
const RATE: u64 = 48_000;
/// Speech above noise in the noisy condition.
const SNR_DB: f64 = 15.0;
/// Silence (or noise) either side of a turn's speech in its own WAV: 0.3 s.
const TURN_PAD: u64 = RATE * 3 / 10;
/// Conversation WAV: silence before the first turn (1.5 s), between turns (4 s), after the last (6 s).
const LEAD: u64 = RATE * 3 / 2;
const GAP: u64 = RATE * 4;
const TAIL: u64 = RATE * 6;
/// Length of the noise bed: 60 s, looped when a file is longer.
const BED: u64 = RATE * 60;
/// The babble's level under the pink noise's.
const BABBLE_BELOW_PINK_DB: f64 = 8.0;
const THREADS: usize = 2;
/// Output format for sox: 48 kHz, mono, 16-bit signed PCM.
const FORMAT: [&str; 8] = ["-r", "48000", "-c", "1", "-b", "16", "-e", "signed-integer"];

/// An espeak-ng voice and its speed in words per minute.
#[derive(Debug)]
struct Voice {
    name: &'static str,
    speed: u32,
}

/// The customers' voices: four English accents and speeds.
const VOICES: [Voice; 4] = [
    Voice { name: "en-us", speed: 160 },
    Voice { name: "en-gb", speed: 175 },
    Voice { name: "en-us+f3", speed: 150 },
    Voice { name: "en-029", speed: 165 },
];

/// The voices of the babble behind the customer in the noisy condition.
const BABBLE: [Voice; 3] = [
    Voice { name: "en-gb-scotland", speed: 170 },
    Voice { name: "en-gb-x-rp+f2", speed: 150 },
    Voice { name: "en-us-nyc", speed: 185 },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Noise {
    Clean,
    Noisy,
}

impl Noise {
    fn name(self) -> &'static str {
        match self {
            Noise::Clean => "clean",
            Noise::Noisy => "noisy",
        }
    }
}

/// The voice's name without punctuation, then its speed: `en-us+f3` at 150 is `enusf3150`.
fn voice_tag(voice: &Voice) -> String {
    let name: String = voice.name.chars().filter(char::is_ascii_alphanumeric).collect();
    format!("{name}{}", voice.speed)
}

/// The two conditions of the `i`th order: clean with voice `i % 4`, noisy with voice `(i + 2) % 4`.
fn conditions_of(i: usize) -> [(usize, Noise); 2] {
    [(i % VOICES.len(), Noise::Clean), ((i + 2) % VOICES.len(), Noise::Noisy)]
}

/// One order as customers say it.
#[derive(Debug)]
struct Order {
    id: String,
    turns: Vec<String>,
    /// The cart it should end with, as orders.json gives it.
    expected: Value,
}

fn parse_orders(text: &str) -> Result<Vec<Order>> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("orders: not JSON: {e}"))?;
    let list = doc["orders"].as_array().ok_or("orders: no \"orders\" array")?;
    let mut orders: Vec<Order> = Vec::new();
    for (i, o) in list.iter().enumerate() {
        let id = o["id"].as_str().ok_or(format!("orders: order {} has no id", i + 1))?.to_string();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(format!("orders: id {id:?} must be letters, digits, - or _ (it names folders)"));
        }
        if orders.iter().any(|other| other.id == id) {
            return Err(format!("orders: id {id:?} appears twice"));
        }
        let turns: Option<Vec<String>> =
            o["turns"].as_array().and_then(|t| t.iter().map(|s| s.as_str().map(str::to_string)).collect());
        let turns = turns.filter(|t| !t.is_empty() && t.iter().all(|s| !s.trim().is_empty()));
        let turns = turns.ok_or(format!("orders: {id}: \"turns\" must be a list of non-empty strings"))?;
        let expected = o["expected"].clone();
        if !expected.is_array() {
            return Err(format!("orders: {id}: \"expected\" must be a list"));
        }
        orders.push(Order { id, turns, expected });
    }
    Ok(orders)
}

/// The linear gain that puts noise of RMS `noise_rms` `snr_db` below speech of RMS `speech_rms`.
fn noise_gain(speech_rms: f64, noise_rms: f64, snr_db: f64) -> f64 {
    speech_rms / noise_rms / 10f64.powf(snr_db / 20.0)
}

/// The RMS of several parts played one after another, each given as (RMS, samples).
fn combined_rms(parts: &[(f64, u64)]) -> f64 {
    let samples: u64 = parts.iter().map(|(_, n)| n).sum();
    if samples == 0 {
        return 0.0;
    }
    let energy: f64 = parts.iter().map(|(rms, n)| rms * rms * *n as f64).sum();
    (energy / samples as f64).sqrt()
}

/// The `RMS amplitude` of sox's `stat` report.
fn parse_stat_rms(report: &str) -> Option<f64> {
    report.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        let key: Vec<&str> = key.split_whitespace().collect();
        (key == ["RMS", "amplitude"]).then(|| value.trim().parse().ok()).flatten()
    })
}

/// Sample frames in a WAV file's data chunk, from its header.
fn parse_wav_frames(header: &[u8], file_len: u64) -> Option<u64> {
    if header.len() < 12 || &header[..4] != b"RIFF" || &header[8..12] != b"WAVE" {
        return None;
    }
    let mut at = 12;
    let mut frame_bytes = None;
    while at + 8 <= header.len() {
        let id = &header[at..at + 4];
        let size = u32::from_le_bytes(header[at + 4..at + 8].try_into().ok()?) as u64;
        let body = at + 8;
        if id == b"fmt " {
            let fmt = header.get(body..body + 16)?;
            let channels = u16::from_le_bytes([fmt[2], fmt[3]]) as u64;
            let bits = u16::from_le_bytes([fmt[14], fmt[15]]) as u64;
            frame_bytes = Some(channels * bits.div_ceil(8));
        } else if id == b"data" {
            let available = file_len.saturating_sub(body as u64);
            // Streamed WAVs leave the size unset; the data then runs to the end of the file.
            let size = if size == 0 || size == u32::MAX as u64 { available } else { size.min(available) };
            return frame_bytes.filter(|b| *b > 0).map(|b| size / b);
        }
        at = body + size as usize + (size as usize & 1);
    }
    None
}

fn wav_frames(path: &Path) -> Result<u64> {
    use std::io::Read;
    let mut file = fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    let mut header = vec![0; 4096];
    let n = file.read(&mut header).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse_wav_frames(&header[..n], len).ok_or(format!("{}: not a WAV file sox wrote", path.display()))
}

/// Samples at 48 kHz as whole milliseconds.
fn ms(samples: u64) -> u64 {
    (samples * 1000 + RATE / 2) / RATE
}

/// Start and end of each turn's speech in the conversation WAV, in samples.
fn conversation_spans(speech: &[u64]) -> Vec<(u64, u64)> {
    let mut start = LEAD;
    speech
        .iter()
        .map(|&n| {
            let span = (start, start + n);
            start += n + GAP;
            span
        })
        .collect()
}

/// Where a file's noise starts in the bed: spread by a hash of its name (FNV-1a).
fn bed_offset(key: &str) -> u64 {
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3));
    hash % BED
}

/// Runs a tool, returning its output; a missing tool or a failure is an error naming the command.
fn tool(cmd: &mut Command) -> Result<Output> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let out = cmd.output().map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => missing(&program),
        _ => format!("cannot start `{}`: {e}", describe(cmd)),
    })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(format!("`{}` failed ({}): {}", describe(cmd), out.status, stderr.trim()));
    }
    Ok(out)
}

fn missing(program: &str) -> String {
    format!("{program} not found: run `cargo xtask setup`, which installs espeak-ng and sox")
}

/// sox with dithering off, so silence stays silent.
fn sox() -> Command {
    let mut cmd = Command::new("sox");
    cmd.arg("-D");
    cmd
}

/// Speaks `text` into a 48 kHz WAV with the silence around the speech trimmed, peaking at -3 dBFS.
fn speak(voice: &Voice, text: &str, raw: &Path, out: &Path) -> Result<()> {
    tool(Command::new("espeak-ng").args(["-v", voice.name, "-s", &voice.speed.to_string(), "-w"]).arg(raw).arg(text))?;
    tool(sox().arg(raw).args(FORMAT).arg(out).args([
        "silence", "1", "0.02", "0.1%", "reverse", "silence", "1", "0.02", "0.1%", "reverse", "gain", "-n", "-3",
    ]))?;
    Ok(())
}

fn rms(path: &Path) -> Result<f64> {
    let out = tool(Command::new("sox").arg(path).args(["-n", "stat"]))?;
    parse_stat_rms(&String::from_utf8_lossy(&out.stderr))
        .ok_or(format!("`sox {} -n stat` printed no RMS amplitude", path.display()))
}

fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The noise bed: its file, its RMS, and when it was made.
struct Bed {
    path: PathBuf,
    rms: f64,
    modified: SystemTime,
}

impl Bed {
    /// Writes `samples` of the bed from `offset` on (looping it), `gain` times as loud, to `out`.
    fn cut(&self, offset: u64, samples: u64, gain: f64, out: &Path) -> Result<()> {
        let mut cmd = sox();
        cmd.arg("-v").arg(gain.to_string()).arg(&self.path).arg(out);
        let loops = (offset + samples).div_ceil(BED);
        if loops > 1 {
            cmd.args(["repeat", &(loops - 1).to_string()]);
        }
        cmd.args(["trim", &format!("{offset}s"), &format!("{samples}s")]);
        tool(&mut cmd)?;
        Ok(())
    }
}

/// Makes the noise bed once (again with `force`): 60 s of pink noise plus, 8 dB lower, three
/// voices reading the menu's descriptions at once.
fn noise_bed(out: &Path, force: bool) -> Result<Bed> {
    let path = out.join("noise").join("bed.wav");
    if force || !path.is_file() {
        make_bed(out, &path)?;
    }
    let modified = modified(&path).ok_or(format!("cannot read {}", path.display()))?;
    Ok(Bed { rms: rms(&path)?, path, modified })
}

fn make_bed(out: &Path, path: &Path) -> Result<()> {
    println!("xtask: speech-set: making the noise bed (pink noise and babble)");
    let menu_path = workspace_root().join("server").join("menu.json");
    let menu = fs::read_to_string(&menu_path).map_err(|e| format!("cannot read {}: {e}", menu_path.display()))?;
    let menu: Value = serde_json::from_str(&menu).map_err(|e| format!("{}: {e}", menu_path.display()))?;
    let sentences: Vec<&str> = menu["items"]
        .as_array()
        .map(|items| items.iter().filter_map(|i| i["description"].as_str()).collect())
        .unwrap_or_default();
    if sentences.is_empty() {
        return Err(format!("{}: no item descriptions for the babble", menu_path.display()));
    }
    let tmp = out.join(".work").join("noise");
    fs::create_dir_all(&tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
    let mut voices = Vec::new();
    for (k, voice) in BABBLE.iter().enumerate() {
        // Each voice starts at a different sentence, so they never say the same thing at once.
        let mut text = sentences.clone();
        text.rotate_left(k * sentences.len() / BABBLE.len());
        let (raw, spoken, looped) =
            (tmp.join(format!("raw{k}.wav")), tmp.join(format!("spoken{k}.wav")), tmp.join(format!("babble{k}.wav")));
        speak(voice, &text.join(" "), &raw, &spoken)?;
        let loops = BED.div_ceil(wav_frames(&spoken)?.max(1));
        tool(sox().arg(&spoken).arg(&looped).args([
            "repeat",
            &(loops - 1).to_string(),
            "trim",
            "0",
            &format!("{BED}s"),
        ]))?;
        voices.push(looped);
    }
    let babble = tmp.join("babble.wav");
    tool(sox().arg("-m").args(&voices).arg(&babble))?;
    let pink = tmp.join("pink.wav");
    tool(sox().args(["-n"]).args(FORMAT).arg(&pink).args(["synth", &format!("{BED}s"), "pinknoise", "gain", "-6"]))?;
    let babble_gain = noise_gain(rms(&pink)?, rms(&babble)?, BABBLE_BELOW_PINK_DB);
    fs::create_dir_all(path.parent().expect("bed.wav is in a folder")).map_err(|e| e.to_string())?;
    let mixed = tmp.join("bed.wav");
    tool(
        sox().args(["-G", "-m", "-v", "1"]).arg(&pink).arg("-v").arg(babble_gain.to_string()).arg(&babble).arg(&mixed),
    )?;
    fs::rename(&mixed, path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    fs::remove_dir_all(&tmp).map_err(|e| format!("cannot remove {}: {e}", tmp.display()))
}

/// One order in one condition.
struct Job<'a> {
    order: &'a Order,
    voice: &'static Voice,
    noise: Noise,
    dir: String,
}

impl Job<'_> {
    fn turn_wav(&self, n: usize) -> String {
        format!("{}/turn{}.wav", self.dir, n + 1)
    }

    fn conversation_wav(&self) -> String {
        format!("{}/conversation.wav", self.dir)
    }

    fn files(&self) -> Vec<String> {
        (0..self.order.turns.len()).map(|n| self.turn_wav(n)).chain([self.conversation_wav()]).collect()
    }

    /// The speech's length in samples per turn, read from files newer than `since`, if all are.
    fn kept(&self, out: &Path, since: SystemTime) -> Option<Vec<u64>> {
        if !self.files().iter().all(|f| modified(&out.join(f)).is_some_and(|t| t > since)) {
            return None;
        }
        let turns: Option<Vec<u64>> = (0..self.order.turns.len())
            .map(|n| wav_frames(&out.join(self.turn_wav(n))).ok()?.checked_sub(2 * TURN_PAD))
            .collect();
        // A conversation of another length was made from other turns.
        let spans = conversation_spans(turns.as_deref()?);
        let end = spans.last().map_or(LEAD, |(_, end)| end + TAIL);
        (wav_frames(&out.join(self.conversation_wav())).ok()? == end).then_some(turns?)
    }

    /// Speaks the order into a work folder, then puts it in place of the old one. Returns the
    /// speech's length in samples per turn.
    fn render(&self, out: &Path, bed: &Bed) -> Result<Vec<u64>> {
        let work = out.join(".work").join(&self.dir);
        let tmp = work.join("tmp");
        let io_err = |what: &Path, e: io::Error| format!("{}: {e}", what.display());
        if work.exists() {
            fs::remove_dir_all(&work).map_err(|e| io_err(&work, e))?;
        }
        fs::create_dir_all(&tmp).map_err(|e| io_err(&tmp, e))?;
        let mut speech = Vec::new();
        let mut parts = Vec::new();
        for (n, text) in self.order.turns.iter().enumerate() {
            let wav = tmp.join(format!("speech{}.wav", n + 1));
            speak(self.voice, text, &tmp.join("raw.wav"), &wav)?;
            let samples = wav_frames(&wav)?;
            if samples == 0 {
                return Err(format!("espeak-ng ({}) said nothing for {:?}", self.voice.name, text));
            }
            parts.push((rms(&wav)?, samples));
            speech.push(wav);
        }
        // One noise level for the whole order, from all of its speech.
        let gain = match self.noise {
            Noise::Clean => None,
            Noise::Noisy => Some(noise_gain(combined_rms(&parts), bed.rms, SNR_DB)),
        };
        let pad = format!("{TURN_PAD}s");
        for (n, wav) in speech.iter().enumerate() {
            let turn = work.join(format!("turn{}.wav", n + 1));
            let padded = if gain.is_some() { tmp.join("padded.wav") } else { turn.clone() };
            tool(sox().arg(wav).arg(&padded).args(["pad", &pad, &pad]))?;
            if let Some(gain) = gain {
                let key = format!("{}/turn{}", self.dir, n + 1);
                mix_noise(bed, &padded, parts[n].1 + 2 * TURN_PAD, &key, gain, &tmp, &turn)?;
            }
        }
        let gap = tmp.join("gap.wav");
        tool(sox().arg("-n").args(FORMAT).arg(&gap).args(["trim", "0", &format!("{GAP}s")]))?;
        let conversation = work.join("conversation.wav");
        let quiet = if gain.is_some() { tmp.join("conversation.wav") } else { conversation.clone() };
        let mut cmd = sox();
        for (n, wav) in speech.iter().enumerate() {
            if n > 0 {
                cmd.arg(&gap);
            }
            cmd.arg(wav);
        }
        tool(cmd.arg(&quiet).args(["pad", &format!("{LEAD}s"), &format!("{TAIL}s")]))?;
        if let Some(gain) = gain {
            let samples = wav_frames(&quiet)?;
            mix_noise(bed, &quiet, samples, &format!("{}/conversation", self.dir), gain, &tmp, &conversation)?;
        }
        fs::remove_dir_all(&tmp).map_err(|e| io_err(&tmp, e))?;
        let done = out.join(&self.dir);
        if done.exists() {
            fs::remove_dir_all(&done).map_err(|e| io_err(&done, e))?;
        }
        fs::rename(&work, &done).map_err(|e| io_err(&done, e))?;
        Ok(parts.iter().map(|(_, n)| *n).collect())
    }

    fn manifest(&self, speech: &[u64]) -> Value {
        let turns: Vec<Value> = self
            .order
            .turns
            .iter()
            .zip(speech)
            .enumerate()
            .map(|(n, (text, samples))| json!({"text": text, "wav": self.turn_wav(n), "speech_ms": ms(*samples)}))
            .collect();
        let spans: Vec<Value> = conversation_spans(speech).iter().map(|(a, b)| json!([ms(*a), ms(*b)])).collect();
        json!({
            "order": self.order.id,
            "dir": self.dir,
            "voice": self.voice.name,
            "speed": self.voice.speed,
            "noise": self.noise.name(),
            "turns": turns,
            "conversation": self.conversation_wav(),
            "conversation_turns_ms": spans,
            "expected": self.order.expected,
        })
    }
}

/// Mixes `samples` of the bed, `gain` times as loud and cut at an offset picked by `key`, under `wav`.
fn mix_noise(bed: &Bed, wav: &Path, samples: u64, key: &str, gain: f64, tmp: &Path, out: &Path) -> Result<()> {
    let noise = tmp.join("noise.wav");
    bed.cut(bed_offset(key), samples, gain, &noise)?;
    tool(sox().args(["-G", "-m", "-v", "1"]).arg(wav).args(["-v", "1"]).arg(&noise).arg(out))?;
    Ok(())
}

struct Options {
    out: PathBuf,
    orders: PathBuf,
    force: bool,
}

fn parse_args(args: &[String]) -> Result<Options> {
    let root = workspace_root();
    let mut options =
        Options { out: root.join("target/speech-set"), orders: root.join("e2e/speech/orders.json"), force: false };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--out" => options.out = PathBuf::from(it.next().ok_or("--out needs a folder")?),
            "--orders" => options.orders = PathBuf::from(it.next().ok_or("--orders needs a file")?),
            "--force" => options.force = true,
            other => return Err(format!("speech-set: unknown argument {other:?}\n{}", crate::USAGE)),
        }
    }
    Ok(options)
}

fn check_tools() -> Result<()> {
    for program in ["espeak-ng", "sox"] {
        tool(Command::new(program).arg("--version"))?;
    }
    Ok(())
}

/// WAV files under `dir` (not its work folder): how many, and their bytes.
fn wav_totals(dir: &Path) -> (usize, u64) {
    let Ok(entries) = fs::read_dir(dir) else { return (0, 0) };
    entries.flatten().fold((0, 0), |(count, bytes), entry| {
        let path = entry.path();
        if path.is_dir() && entry.file_name() != ".work" {
            let (c, b) = wav_totals(&path);
            (count + c, bytes + b)
        } else if path.extension().is_some_and(|e| e == "wav") {
            (count + 1, bytes + entry.metadata().map_or(0, |m| m.len()))
        } else {
            (count, bytes)
        }
    })
}

pub fn run(args: &[String]) -> Result<()> {
    let started = Instant::now();
    let options = parse_args(args)?;
    let out = &options.out;
    let text = fs::read_to_string(&options.orders)
        .map_err(|e| format!("cannot read the orders {}: {e}", options.orders.display()))?;
    let orders = parse_orders(&text)?;
    let orders_modified = modified(&options.orders).ok_or("cannot read the orders' modification time")?;
    check_tools()?;
    fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let bed = noise_bed(out, options.force)?;

    let jobs: Vec<Job> = orders
        .iter()
        .enumerate()
        .flat_map(|(i, order)| {
            conditions_of(i).map(|(v, noise)| Job {
                order,
                voice: &VOICES[v],
                noise,
                dir: format!("{}-{}-{}", order.id, voice_tag(&VOICES[v]), noise.name()),
            })
        })
        .collect();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    // Per job: the speech's length per turn, and whether it was made now (or kept).
    type Outcome = Result<(Vec<u64>, bool)>;
    let results: Vec<Mutex<Option<Outcome>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..THREADS.min(jobs.len()) {
            scope.spawn(|| {
                while !failed.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let since = match job.noise {
                        Noise::Clean => orders_modified,
                        Noise::Noisy => orders_modified.max(bed.modified),
                    };
                    let kept = if options.force { None } else { job.kept(out, since) };
                    let result = match kept {
                        Some(speech) => Ok((speech, false)),
                        None => job.render(out, &bed).map(|speech| (speech, true)),
                    };
                    match &result {
                        Ok((_, true)) => {
                            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                            println!("xtask: speech-set: {} ({n} made)", job.dir);
                        }
                        Ok((_, false)) => {}
                        Err(_) => failed.store(true, Ordering::Relaxed),
                    }
                    *results[i].lock().expect("no worker panics holding it") = Some(result);
                }
            });
        }
    });
    let mut items = Vec::new();
    let mut made = 0;
    for (job, result) in jobs.iter().zip(results) {
        match result.into_inner().expect("no worker panicked") {
            Some(Ok((speech, fresh))) => {
                made += usize::from(fresh);
                items.push(job.manifest(&speech));
            }
            Some(Err(e)) => return Err(format!("speech-set: {}: {e}", job.dir)),
            None => {}
        }
    }
    if items.len() != jobs.len() {
        return Err("speech-set: stopped before every order was spoken".into());
    }
    let _ = fs::remove_dir(out.join(".work"));

    let conditions: Vec<Value> = [Noise::Clean, Noise::Noisy]
        .iter()
        .flat_map(|noise| {
            VOICES.iter().map(move |v| {
                json!({"voice": v.name, "speed": v.speed, "noise": noise.name(),
                       "tag": format!("{}-{}", voice_tag(v), noise.name())})
            })
        })
        .collect();
    let manifest = json!({
        "sample_rate": RATE,
        "snr_db": SNR_DB,
        "noise_bed": "noise/bed.wav",
        "turn_padding_ms": ms(TURN_PAD),
        "conversation_lead_ms": ms(LEAD),
        "conversation_gap_ms": ms(GAP),
        "conversation_tail_ms": ms(TAIL),
        "conditions": conditions,
        "items": items,
    });
    let manifest_path = out.join("manifest.json");
    let text = serde_json::to_string_pretty(&manifest).expect("a JSON value serializes") + "\n";
    fs::write(&manifest_path, text).map_err(|e| format!("cannot write {}: {e}", manifest_path.display()))?;

    let (wavs, bytes) = wav_totals(out);
    println!(
        "xtask: speech-set: {} orders × 2 conditions in {} ({made} made, {} kept): {wavs} WAVs, {:.1} MB, {:.1} s",
        orders.len(),
        out.display(),
        jobs.len() - made,
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    println!("xtask: speech-set: manifest {}", manifest_path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use super::*;

    const ORDERS: &str = include_str!("../../e2e/speech/orders.json");
    const MENU: &str = include_str!("../../server/menu.json");

    const CHECKOUTS: [&str; 5] = ["that's all", "that's it", "that's everything", "I'm done", "that'll be all"];
    const YESES: [&str; 6] = ["yes please", "yes", "yeah", "sure", "yes that's right", "go ahead"];

    fn orders() -> Vec<Order> {
        parse_orders(ORDERS).expect("orders.json parses")
    }

    fn menu() -> Vec<Value> {
        let menu: Value = serde_json::from_str(MENU).expect("menu.json parses");
        menu["items"].as_array().expect("menu items").clone()
    }

    fn is_correction(turn: &str) -> bool {
        let t = turn.strip_prefix("actually ").unwrap_or(turn);
        t.starts_with("make that ") || t.starts_with("make it ")
    }

    fn is_removal(turn: &str) -> bool {
        let t = turn.strip_prefix("actually ").unwrap_or(turn);
        ["cancel the ", "remove the ", "take off the "].iter().any(|p| t.starts_with(p))
    }

    #[test]
    fn there_are_at_least_64_orders_with_unique_ids() {
        let orders = orders();
        assert!(orders.len() >= 64, "{} orders", orders.len());
    }

    #[test]
    fn every_order_ends_with_a_checkout_and_a_yes() {
        for order in orders() {
            let n = order.turns.len();
            assert!(n >= 3, "{}: an order, a checkout and a yes", order.id);
            assert!(CHECKOUTS.contains(&order.turns[n - 2].as_str()), "{}: {:?}", order.id, order.turns[n - 2]);
            assert!(YESES.contains(&order.turns[n - 1].as_str()), "{}: {:?}", order.id, order.turns[n - 1]);
            for turn in &order.turns[..n - 2] {
                assert!(!CHECKOUTS.contains(&turn.as_str()) && !YESES.contains(&turn.as_str()), "{}", order.id);
            }
            // A correction acts on the line just added: never first.
            assert!(!is_correction(&order.turns[0]), "{}", order.id);
        }
    }

    #[test]
    fn enough_orders_correct_and_remove() {
        let orders = orders();
        let corrected = orders.iter().filter(|o| o.turns.iter().any(|t| is_correction(t))).count();
        let removed = orders.iter().filter(|o| o.turns.iter().any(|t| is_removal(t))).count();
        assert!(corrected >= 10, "{corrected} orders with a correction");
        assert!(removed >= 10, "{removed} orders with a removal");
    }

    /// Every expected line names a menu item and its options by their menu names, in the order of
    /// the item's groups, with each required choice made once; no two lines are the same.
    #[test]
    fn expected_carts_use_menu_names_in_menu_order() {
        let menu = menu();
        let items: HashMap<&str, &Value> = menu.iter().map(|i| (i["name"].as_str().unwrap(), i)).collect();
        let mut seen: BTreeMap<&str, usize> = items.keys().map(|k| (*k, 0)).collect();
        for order in orders() {
            let lines = order.expected.as_array().unwrap();
            assert!(!lines.is_empty(), "{}: an empty cart", order.id);
            let mut distinct = Vec::new();
            for line in lines {
                let name = line["item"].as_str().unwrap_or_else(|| panic!("{}: a line without item", order.id));
                let item = items.get(name).unwrap_or_else(|| panic!("{}: {name:?} is not on the menu", order.id));
                *seen.get_mut(name).unwrap() += 1;
                assert!(line["quantity"].as_u64().is_some_and(|q| (1..=10).contains(&q)), "{}: {line}", order.id);
                let options: Vec<&str> =
                    line["options"].as_array().unwrap().iter().map(|o| o.as_str().unwrap()).collect();
                // (group index, option index) of each option, which must rise.
                let groups = item["modifier_groups"].as_array().cloned().unwrap_or_default();
                let mut places = Vec::new();
                for option in &options {
                    let place = groups.iter().enumerate().find_map(|(g, group)| {
                        group["options"].as_array().unwrap().iter().position(|o| o["name"] == *option).map(|p| (g, p))
                    });
                    places.push(place.unwrap_or_else(|| panic!("{}: {name} has no option {option:?}", order.id)));
                }
                assert!(
                    places.windows(2).all(|w| w[0] < w[1]),
                    "{}: {name} options {options:?} out of menu order",
                    order.id
                );
                for (g, group) in groups.iter().enumerate() {
                    let chosen = places.iter().filter(|(pg, _)| *pg == g).count() as u64;
                    let (min, max) = (group["min"].as_u64().unwrap(), group["max"].as_u64().unwrap());
                    assert!(chosen <= max, "{}: {name}: too many of {}", order.id, group["name"]);
                    // Required choices are always said (the kiosk's default never decides).
                    if group["kind"] == "choice"
                        && (min >= 1 || group["options"].as_array().unwrap().iter().any(|o| o["default"] == true))
                    {
                        assert_eq!(chosen, 1, "{}: {name}: say the {}", order.id, group["name"]);
                    }
                }
                assert!(!distinct.contains(&(name, options.clone())), "{}: {name} {options:?} twice", order.id);
                distinct.push((name, options));
            }
        }
        let rare: Vec<_> = seen.iter().filter(|(_, n)| **n < 2).collect();
        assert!(rare.is_empty(), "items in fewer than two orders: {rare:?}");
    }

    #[test]
    fn every_voice_is_heard_clean_and_noisy() {
        let mut heard = [[0; 2]; 4];
        for i in 0..64 {
            for (v, noise) in conditions_of(i) {
                heard[v][(noise == Noise::Noisy) as usize] += 1;
            }
        }
        assert_eq!(heard, [[16, 16]; 4]);
        let tags: Vec<String> = VOICES.iter().map(voice_tag).collect();
        assert_eq!(tags, ["enus160", "engb175", "enusf3150", "en029165"]);
    }

    fn rms_of(samples: &[f64]) -> f64 {
        (samples.iter().map(|s| s * s).sum::<f64>() / samples.len() as f64).sqrt()
    }

    #[test]
    fn noise_at_the_computed_gain_is_15_db_under_the_speech() {
        let speech: Vec<f64> =
            (0..48_000).map(|i| 0.3 * (i as f64 * 440.0 * std::f64::consts::TAU / 48_000.0).sin()).collect();
        // White noise from a linear congruential generator.
        let mut x = 12345_u64;
        let noise: Vec<f64> = (0..48_000)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            })
            .collect();
        let gain = noise_gain(rms_of(&speech), rms_of(&noise), SNR_DB);
        let scaled: Vec<f64> = noise.iter().map(|n| n * gain).collect();
        let snr = 20.0 * (rms_of(&speech) / rms_of(&scaled)).log10();
        assert!((snr - 15.0).abs() < 1e-9, "{snr}");
        assert!((noise_gain(1.0, 1.0, 20.0) - 0.1).abs() < 1e-12);
        assert!((noise_gain(0.5, 0.25, 0.0) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn combined_rms_weighs_parts_by_length() {
        assert_eq!(combined_rms(&[]), 0.0);
        assert!((combined_rms(&[(0.2, 100)]) - 0.2).abs() < 1e-12);
        // Equal energy halves: sqrt((0.1² + 0.3²) / 2).
        assert!((combined_rms(&[(0.1, 50), (0.3, 50)]) - 0.05f64.sqrt()).abs() < 1e-12);
        // Silence three times as long as the sound halves its RMS.
        assert!((combined_rms(&[(0.4, 10), (0.0, 30)]) - 0.2).abs() < 1e-12);
    }

    #[test]
    fn reads_sox_stat_reports() {
        let report = "Samples read:             82639\nLength (seconds):      3.747800\n\
                      Maximum amplitude:     0.770996\nRMS     amplitude:     0.078502\nRMS     delta:         0.027146\n";
        assert_eq!(parse_stat_rms(report), Some(0.078502));
        assert_eq!(parse_stat_rms("sox FAIL formats: can't open input file"), None);
    }

    fn wav_header(data_bytes: u32) -> Vec<u8> {
        let mut h = b"RIFF".to_vec();
        h.extend((36 + data_bytes).to_le_bytes());
        h.extend(b"WAVEfmt ");
        h.extend(16_u32.to_le_bytes());
        h.extend([1, 0, 1, 0]); // PCM, mono
        h.extend(48_000_u32.to_le_bytes());
        h.extend(96_000_u32.to_le_bytes());
        h.extend([2, 0, 16, 0]);
        h.extend(b"data");
        h.extend(data_bytes.to_le_bytes());
        h
    }

    #[test]
    fn reads_wav_lengths_from_headers() {
        assert_eq!(parse_wav_frames(&wav_header(96_000), 44 + 96_000), Some(48_000));
        assert_eq!(parse_wav_frames(&wav_header(0), 44 + 200), Some(100));
        assert_eq!(parse_wav_frames(b"ID3 not a wav", 100), None);
    }

    #[test]
    fn conversation_spans_follow_lead_and_gaps() {
        let spans = conversation_spans(&[48_000, 24_000]);
        assert_eq!(spans, [(LEAD, LEAD + 48_000), (LEAD + 48_000 + GAP, LEAD + 72_000 + GAP)]);
        let ms_spans: Vec<_> = spans.iter().map(|(a, b)| (ms(*a), ms(*b))).collect();
        assert_eq!(ms_spans, [(1500, 2500), (6500, 7000)]);
        assert!(bed_offset("o01-enus160-noisy/turn1") < BED);
        assert_ne!(bed_offset("o01-enus160-noisy/turn1"), bed_offset("o01-enus160-noisy/turn2"));
    }
}
