//! `--audit-json FILE`: a `tracing-subscriber` layer writing the `record`
//! of every audit event (see `procgate::policy::audit`) as one line.

use procgate::policy::AUDIT_TARGET;
use std::sync::Mutex;

/// Writes the `record` field of every event on the audit target to a
/// writer, one JSON object per line.
pub struct JsonLines<W> {
    out: Mutex<W>,
}

impl<W: std::io::Write> JsonLines<W> {
    /// Writes records to `out`.
    pub fn new(out: W) -> JsonLines<W> {
        JsonLines {
            out: Mutex::new(out),
        }
    }
}

struct RecordField(Option<String>);

impl tracing::field::Visit for RecordField {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "record" {
            self.0 = Some(value.to_string());
        }
    }

    fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
}

impl<S, W> tracing_subscriber::Layer<S> for JsonLines<W>
where
    S: tracing::Subscriber,
    W: std::io::Write + Send + 'static,
{
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() != AUDIT_TARGET {
            return;
        }
        let mut field = RecordField(None);
        event.record(&mut field);
        if let Some(line) = field.0 {
            let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    }
}
