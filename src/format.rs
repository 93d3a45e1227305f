//! Sizes, times and waits in words for people: `1.5 MB`, `2026-11-25 03:22 UTC`, `2 min`.
//! Pure; both sides.

/// A time for people, in UTC: `2026-11-25 03:22 UTC`.
pub fn format_time(unix_seconds: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp(unix_seconds)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

/// A wait in words-free units: `45 s`, `3 min`, `2 h` (rounded up).
pub fn format_wait(seconds: u64) -> String {
    match seconds {
        0..=90 => format!("{} s", seconds.max(1)),
        91..=5400 => format!("{} min", seconds.div_ceil(60)),
        _ => format!("{} h", seconds.div_ceil(3600)),
    }
}

/// Human-readable size: `0 B`, `999 B`, `1.5 KB`, `5.0 MB` (decimal units, as file managers show).
/// Integer arithmetic only: float formatting would bring `core`'s float printer (~7 KB of
/// brotli) into the browser's WASM.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KB", "MB", "GB", "TB", "PB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut scale: u64 = 1000;
    let mut unit = 0;
    // Tenths of the unit, rounded half up: 999,950 bytes is 1000.0 KB, so it reads 1.0 MB.
    let tenths = |scale: u64| bytes.saturating_add(scale / 20) / (scale / 10);
    while tenths(scale) >= 10_000 && unit + 1 < UNITS.len() {
        scale *= 1000;
        unit += 1;
    }
    let t = tenths(scale);
    format!("{}.{} {}", t / 10, t % 10, UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_a_file_manager() {
        assert_eq!(format_size(0), "0 B");
        assert_eq!(format_size(999), "999 B");
        assert_eq!(format_size(1000), "1.0 KB");
        assert_eq!(format_size(1536), "1.5 KB");
        assert_eq!(format_size(5 * 1024 * 1024), "5.2 MB");
        assert_eq!(format_size(999_999), "1.0 MB");
        assert_eq!(format_size(1_000_000_000), "1.0 GB");
        assert_eq!(format_size(1_049), "1.0 KB");
        assert_eq!(format_size(1_050), "1.1 KB");
        assert_eq!(format_size(999_949), "999.9 KB");
        assert_eq!(format_size(u64::MAX), "18446.7 PB");
    }

    #[test]
    fn times_and_waits_read_plainly() {
        assert_eq!(format_time(1_764_040_943), "2025-11-25 03:22 UTC");
        assert_eq!(format_wait(0), "1 s");
        assert_eq!(format_wait(45), "45 s");
        assert_eq!(format_wait(120), "2 min");
        assert_eq!(format_wait(7201), "3 h");
    }
}
