//! One audit record's fields, each cut to [`FIELD_MAX`] bytes as
//! JSON-escaped, and the escaping of the readable message.

use super::FIELD_MAX;
use crate::Policy;
use serde_json::{Map, Value};

/// Bytes `c` takes inside a JSON string.
pub(super) fn json_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

/// The longest prefix of `s` whose JSON-escaped form fits in `max` bytes,
/// how many bytes of `s` are left out, and the prefix's escaped size.
pub(super) fn clip(s: &str, max: usize) -> (&str, usize, usize) {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        if used + json_len(c) > max {
            return (&s[..i], s.len() - i, used);
        }
        used += json_len(c);
    }
    (s, 0, used)
}

/// `s` with control characters written as escapes (`\n`, `\u{1b}`), so it
/// stays on one line of a text log.
pub(super) fn escape_controls(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// Builds the fields of one record, cutting each to [`FIELD_MAX`].
#[derive(Default)]
pub(super) struct Record {
    pub(super) fields: Map<String, Value>,
    pub(super) truncated: bool,
}

impl Record {
    /// The clipped form of `s`, marked if cut.
    pub(super) fn text(&mut self, s: &str) -> String {
        let (kept, cut, _) = clip(s, FIELD_MAX);
        if cut == 0 {
            return kept.to_string();
        }
        self.truncated = true;
        format!("{kept}…[+{cut} bytes]")
    }

    pub(super) fn str(&mut self, key: &str, s: Option<&str>) {
        let v = s.map_or(Value::Null, |s| self.text(s).into());
        self.fields.insert(key.into(), v);
    }

    pub(super) fn null(&mut self, key: &str) {
        self.fields.insert(key.into(), Value::Null);
    }

    pub(super) fn put(&mut self, key: &str, v: impl Into<Value>) {
        self.fields.insert(key.into(), v.into());
    }

    /// A list of strings, [`FIELD_MAX`] bytes in all (with quotes and
    /// commas).
    pub(super) fn list(&mut self, key: &str, items: &[String]) {
        let mut budget = FIELD_MAX;
        let mut out = Vec::new();
        for item in items {
            if budget <= 3 {
                self.truncated = true;
                break;
            }
            let (kept, cut, used) = clip(item, budget - 3);
            budget -= 3 + used;
            out.push(Value::from(kept));
            if cut > 0 {
                self.truncated = true;
                break;
            }
        }
        self.put(key, out);
    }

    /// An environment as a name → value object, [`FIELD_MAX`] bytes in
    /// all; the values of secret names are null.
    pub(super) fn env(&mut self, env: &[(String, String)], policy: &Policy) {
        let mut budget = FIELD_MAX;
        let mut out = Map::new();
        for (name, value) in env {
            // Quotes, colon, comma, and room for a null.
            if budget <= 10 {
                self.truncated = true;
                break;
            }
            let (name, cut, used) = clip(name, budget - 10);
            budget -= 6 + used;
            let (value, cut) = if cut > 0 {
                (Value::Null, cut)
            } else if policy.is_secret_env(name) {
                budget -= 4;
                (Value::Null, 0)
            } else {
                let (kept, cut, used) = clip(value, budget);
                budget -= used;
                (Value::from(kept), cut)
            };
            out.insert(name.to_string(), value);
            if cut > 0 {
                self.truncated = true;
                break;
            }
        }
        self.put("env", out);
    }
}
