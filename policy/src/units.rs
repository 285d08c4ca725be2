//! Durations (`"30s"`, `"500ms"`, `1.5`) and sizes (`"1.5G"`, `"64K"`,
//! `4096`): one parser for the policy file and the CLI's flags.

use serde::de::{self, Visitor};
use serde::Deserializer;
use std::time::Duration;

/// Parses a positive duration: a number with an optional unit, `ms`, `s`,
/// `m` or `h` (no unit: seconds).
///
/// ```
/// use procgate_policy::parse_duration;
/// use std::time::Duration;
/// assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
/// assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
/// assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
/// assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
/// assert!(parse_duration("0").is_err());
/// assert!(parse_duration("5 parsecs").is_err());
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = split_unit(text);
    let scale = match unit {
        "" | "s" | "sec" | "secs" => 1.0,
        "ms" => 1e-3,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => {
            return Err(format!(
                "{text:?}: unknown unit {unit:?} (use ms, s, m or h)"
            ))
        }
    };
    let n = parse_number(text, number)?;
    seconds(n * scale).map_err(|e| format!("{text:?}: {e}"))
}

/// A positive, finite number of seconds as a duration.
fn seconds(secs: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("expected a positive duration, got {secs} s"))
}

/// Parses a size in bytes: a number with an optional binary unit, `K`,
/// `M`, `G` or `T` (also `KB`, `KiB`, ..., any case; `B` or none: bytes).
/// Fractions are allowed with a unit.
///
/// ```
/// use procgate_policy::parse_size;
/// assert_eq!(parse_size("4096"), Ok(4096));
/// assert_eq!(parse_size("64K"), Ok(64 << 10));
/// assert_eq!(parse_size("1.5G"), Ok(3 << 29));
/// assert_eq!(parse_size("2MiB"), Ok(2 << 20));
/// assert!(parse_size("1.5").is_err());
/// assert!(parse_size("-1M").is_err());
/// assert!(parse_size("10 parsecs").is_err());
/// ```
pub fn parse_size(text: &str) -> Result<u64, String> {
    let (number, unit) = split_unit(text);
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => {
            return Err(format!(
                "{text:?}: unknown unit {unit:?} (use K, M, G or T)"
            ))
        }
    };
    if shift == 0 {
        return number
            .parse::<u64>()
            .map_err(|_| format!("{text:?}: expected a whole number of bytes"));
    }
    let n = parse_number(text, number)?;
    let bytes = (n * (1u64 << shift) as f64).round();
    if !(0.0..=u64::MAX as f64).contains(&bytes) {
        return Err(format!("{text:?} is out of range"));
    }
    Ok(bytes as u64)
}

fn split_unit(text: &str) -> (&str, &str) {
    let text = text.trim();
    let at = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    (&text[..at], text[at..].trim())
}

fn parse_number(text: &str, number: &str) -> Result<f64, String> {
    number
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .ok_or_else(|| format!("{text:?}: expected a number"))
}

/// Reads a duration from a number of seconds or a string (`"30s"`).
pub(crate) fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = Duration;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a positive number of seconds or a duration such as \"30s\"")
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
            seconds(v).map_err(E::custom)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
            seconds(v as f64).map_err(E::custom)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
            seconds(v as f64).map_err(E::custom)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
            parse_duration(v).map_err(E::custom)
        }
    }
    d.deserialize_any(V).map(Some)
}

/// Reads a size from a number of bytes or a string (`"1.5G"`).
pub(crate) fn size<'de, D: Deserializer<'de>, T: TryFrom<u64>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = u64;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a number of bytes or a size such as \"1.5G\"")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::custom(format!("expected a size, got {v}")))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
            parse_size(v).map_err(E::custom)
        }
    }
    let bytes = d.deserialize_any(V)?;
    T::try_from(bytes)
        .map(Some)
        .map_err(|_| de::Error::custom(format!("{bytes} is too large")))
}
