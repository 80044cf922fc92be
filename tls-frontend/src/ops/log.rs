//! Logging: operational lines on stderr (`level=... msg="..."`), and the access log, one JSON
//! object per connection on stdout. Nothing secret is ever passed here.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

fn ts() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn line(level: &str, msg: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "ts={:.3} level={level} msg={:?}", ts(), msg);
}

/// Informational.
pub fn info(msg: &str) {
    line("info", msg);
}

/// Something an operator should look at.
pub fn warn(msg: &str) {
    line("warn", msg);
}

/// A failure.
pub fn error(msg: &str) {
    line("error", msg);
}

/// Writes one access-log record: one JSON object, one line.
pub fn access(record: &impl serde::Serialize) {
    let Ok(text) = serde_json::to_string(record) else {
        return;
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
}

/// Seconds since the epoch, for records.
pub fn now() -> f64 {
    ts()
}
