//! Running commands: printing what runs, timeouts, and reading test counts from output.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub type Result<T> = std::result::Result<T, String>;

/// `cmd` as a shell-like line, for logs.
pub fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs and waits; a non-zero exit is an error naming the command.
pub fn run(cmd: &mut Command) -> Result<()> {
    println!("xtask: $ {}", describe(cmd));
    let status = cmd.status().map_err(|e| format!("cannot start `{}`: {e}", describe(cmd)))?;
    check(cmd, status)
}

pub fn check(cmd: &Command, status: ExitStatus) -> Result<()> {
    if status.success() { Ok(()) } else { Err(format!("`{}` failed ({status})", describe(cmd))) }
}

/// First line of `program args…` stdout, or None if it cannot run or fails.
pub fn output_line(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).stderr(Stdio::null()).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().next().map(|l| l.trim().to_string())
}

/// Runs with a deadline; kills the process when it expires. Returns Ok(true) on success,
/// Ok(false) on failure or timeout.
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Result<bool> {
    println!("xtask: $ {}  (timeout {} s)", describe(cmd), timeout.as_secs());
    let mut child = cmd.spawn().map_err(|e| format!("cannot start `{}`: {e}", describe(cmd)))?;
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(status.success());
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            println!("xtask: gave up after {} s", timeout.as_secs());
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Passed/failed counts summed over every `test result:` line a test run printed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
    pub ignored: u64,
}

impl Counts {
    pub fn add(&mut self, other: Counts) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.ignored += other.ignored;
    }

    /// Parses `test result: ok. 12 passed; 0 failed; 1 ignored; …`.
    pub fn parse_line(line: &str) -> Option<Counts> {
        let rest = line.trim().strip_prefix("test result: ")?;
        let mut c = Counts::default();
        for part in rest.split([';', '.']) {
            let mut words = part.split_whitespace();
            let (Some(n), Some(what)) = (words.next(), words.next()) else { continue };
            let Ok(n) = n.parse::<u64>() else { continue };
            match what {
                "passed" => c.passed = n,
                "failed" => c.failed = n,
                "ignored" => c.ignored = n,
                _ => {}
            }
        }
        Some(c)
    }
}

/// Runs a test command, echoing its stdout while summing its `test result:` lines.
pub fn run_tests(cmd: &mut Command) -> Result<(bool, Counts)> {
    run_tests_collecting(cmd, None).map(|(ok, counts, _)| (ok, counts))
}

/// Like [`run_tests`], also returning the text after `prefix` of every line that starts with it
/// (leading spaces ignored): how benchmarks report their figures.
pub fn run_tests_collecting(cmd: &mut Command, prefix: Option<&str>) -> Result<(bool, Counts, Vec<String>)> {
    println!("xtask: $ {}", describe(cmd));
    let mut child: Child =
        cmd.stdout(Stdio::piped()).spawn().map_err(|e| format!("cannot start `{}`: {e}", describe(cmd)))?;
    let mut counts = Counts::default();
    let mut collected = Vec::new();
    let stdout = child.stdout.take().expect("piped stdout");
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| e.to_string())?;
        println!("{line}");
        if let Some(c) = Counts::parse_line(&line) {
            counts.add(c);
        }
        if let Some(rest) = prefix.and_then(|p| line.trim_start().strip_prefix(p)) {
            collected.push(rest.to_string());
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    Ok((status.success(), counts, collected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cargo_test_result_lines() {
        let c = Counts::parse_line(
            "test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s",
        )
        .unwrap();
        assert_eq!(c, Counts { passed: 12, failed: 0, ignored: 1 });
        let c = Counts::parse_line("test result: FAILED. 3 passed; 2 failed; 0 ignored").unwrap();
        assert_eq!(c, Counts { passed: 3, failed: 2, ignored: 0 });
        assert!(Counts::parse_line("running 3 tests").is_none());
    }
}
