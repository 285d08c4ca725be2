//! Durations and sizes on the command line, through the policy file's
//! parsers (one syntax for both: `500ms`, `2m`, `64K`, `1.5G`), and sizes
//! printed back in the same units.

use std::time::Duration;

/// A duration flag: seconds, or a number with `ms`, `s`, `m` or `h`.
pub fn duration(s: &str) -> Result<Duration, String> {
    procgate::policy::parse_duration(s)
}

/// A size flag: bytes, or a number with `K`, `M`, `G` or `T` (powers of 1024).
pub fn size(s: &str) -> Result<usize, String> {
    let bytes = procgate::policy::parse_size(s)?;
    usize::try_from(bytes).map_err(|_| format!("{s:?} is too large"))
}

/// `bytes` as the size parser reads it back, to one decimal: `512 B`,
/// `21.7 MB`, `1.0 GB` (powers of 1024, as the parser's `K`, `M`, `G`).
pub fn show_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_print_in_the_units_the_parser_reads() {
        assert_eq!(show_size(512), "512 B");
        assert_eq!(show_size(21_700_000), "20.7 MB");
        assert_eq!(show_size(1 << 30), "1.0 GB");
        for text in ["20.7M", "1.0G", "1.5K"] {
            let parsed = size(text).unwrap() as u64;
            assert_eq!(
                show_size(parsed).replace(' ', "").trim_end_matches('B'),
                text
            );
        }
    }
}
