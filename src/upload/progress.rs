//! Progress in words and numbers: the bar's percent (never 100 before the bucket answers) and
//! the batch's line of bytes, speed and time left. Pure; builds on both sides.

use crate::i18n::{td_string, Locale};

/// Milliseconds since the epoch (the browser's clock; 0 on the server, where no batch runs).
pub fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    return js_sys::Date::now();
    #[cfg(not(feature = "hydrate"))]
    return 0.0;
}

/// Progress for the bar: whole percent of the bytes sent, held at 99 until the bucket has
/// answered (100 means stored, not merely sent).
pub fn percent_sent(loaded: f64, total: f64) -> u8 {
    let ratio = loaded / total;
    if total <= 0.0 || ratio.is_nan() {
        return 0;
    }
    (ratio * 100.0).floor().clamp(0.0, 99.0) as u8
}

/// The bar's CSS scale for a percentage, `scaleX(0.07)`, written without float formatting (it
/// would bring `core`'s float printer into the browser's WASM).
pub fn bar_scale(percent: u8) -> String {
    let percent = percent.min(100);
    format!("scaleX({}.{:02})", percent / 100, percent % 100)
}

/// The batch's bytes, speed and time left: `12.3 MB of 40.0 MB · 5.1 MB/s · about 6 s left`.
pub fn totals_line(locale: Locale, sent: u64, total: u64, elapsed_seconds: f64) -> String {
    use crate::format::format_size;
    let mut line = td_string!(
        locale,
        totals,
        sent = format_size(sent),
        total = format_size(total)
    );
    if elapsed_seconds >= 0.5 && sent > 0 {
        let speed = sent as f64 / elapsed_seconds;
        line.push_str(&td_string!(
            locale,
            speed,
            speed = format_size(speed as u64)
        ));
        let left = total.saturating_sub(sent) as f64 / speed;
        if sent < total {
            line.push_str(&match left {
                // Whole counts as integers: printing an `f64` would bring the float printer.
                s if s < 60.0 => td_string!(locale, left_seconds, count = s.ceil().max(1.0) as u64),
                s if s < 3600.0 => {
                    td_string!(locale, left_minutes, count = (s / 60.0).ceil() as u64)
                }
                s => td_string!(locale, left_hours, count = (s / 3600.0).ceil() as u64),
            });
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_by_hundredths() {
        assert_eq!(bar_scale(0), "scaleX(0.00)");
        assert_eq!(bar_scale(7), "scaleX(0.07)");
        assert_eq!(bar_scale(42), "scaleX(0.42)");
        assert_eq!(bar_scale(100), "scaleX(1.00)");
        assert_eq!(bar_scale(250), "scaleX(1.00)");
    }

    #[test]
    fn progress_is_whole_percent_and_never_claims_done() {
        assert_eq!(percent_sent(0.0, 100.0), 0);
        assert_eq!(percent_sent(50.5, 100.0), 50);
        assert_eq!(percent_sent(100.0, 100.0), 99);
        assert_eq!(percent_sent(5.0, 0.0), 0);
        assert_eq!(percent_sent(f64::NAN, 10.0), 0);
    }

    #[test]
    fn totals_read_like_a_download_bar() {
        assert_eq!(
            totals_line(Locale::en, 0, 40_000_000, 0.0),
            "0 B of 40.0 MB"
        );
        assert_eq!(
            totals_line(Locale::en, 10_000_000, 40_000_000, 2.0),
            "10.0 MB of 40.0 MB \u{b7} 5.0 MB/s \u{b7} about 6 s left"
        );
        assert_eq!(
            totals_line(Locale::en, 1_000_000, 400_000_000, 1.0),
            "1.0 MB of 400.0 MB \u{b7} 1.0 MB/s \u{b7} about 7 min left"
        );
        assert_eq!(
            totals_line(Locale::en, 40_000_000, 40_000_000, 4.0),
            "40.0 MB of 40.0 MB \u{b7} 10.0 MB/s"
        );
    }
}
