//! The `Range` header of a GET, read as OSS reads it: one `bytes=` range is served 206. A range
//! that runs past the end serves the whole object (200), unless the request asks for
//! `x-oss-range-behavior: standard` (RFC 9110): then the end is clipped, and a start past the
//! end is refused (416). Anything that does not parse serves the whole.

/// What a `Range` header asks of an object of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Wanted {
    /// The whole object (no header, several ranges, or one that does not parse).
    Whole,
    /// Bytes `first..=last`, both within the object.
    Part { first: u64, last: u64 },
    /// A range that starts past the end (416, `Content-Range: bytes */size`).
    Unsatisfiable,
}

pub fn wanted(header: Option<&str>, size: u64, standard: bool) -> Wanted {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Wanted::Whole;
    };
    let number = |text: &str| {
        let text = text.trim();
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse::<u64>().ok())
            .flatten()
    };
    match (number(first), number(last), first.trim().is_empty()) {
        // `bytes=-n`: the last n bytes.
        (None, Some(n), true) => match (n, size) {
            (0, _) | (_, 0) if standard => Wanted::Unsatisfiable,
            (0, _) | (_, 0) => Wanted::Whole,
            (n, size) if n > size && !standard => Wanted::Whole,
            (n, size) => Wanted::Part {
                first: size.saturating_sub(n),
                last: size - 1,
            },
        },
        // `bytes=a-` and `bytes=a-b`.
        (Some(first), last, false) if last.is_some() || last_is_open(spec) => {
            if last.is_some_and(|last| last < first) {
                return Wanted::Whole;
            }
            let past_end = first >= size || last.is_some_and(|last| last >= size);
            if past_end && !standard {
                return Wanted::Whole;
            }
            if first >= size {
                return Wanted::Unsatisfiable;
            }
            Wanted::Part {
                first,
                last: last.map_or(size - 1, |l| l.min(size - 1)),
            }
        }
        _ => Wanted::Whole,
    }
}

fn last_is_open(spec: &str) -> bool {
    spec.trim().ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_behaviour_reads_ranges_as_rfc_9110() {
        let part = |first, last| Wanted::Part { first, last };
        let std = |h| wanted(Some(h), 100, true);
        assert_eq!(std("bytes=10-19"), part(10, 19));
        assert_eq!(std("bytes=10-"), part(10, 99));
        assert_eq!(std("bytes=-10"), part(90, 99));
        assert_eq!(std("bytes=-1000"), part(0, 99));
        assert_eq!(std("bytes=90-1000"), part(90, 99));
        assert_eq!(wanted(Some("bytes=0-0"), 1, true), part(0, 0));
        assert_eq!(std("bytes=100-"), Wanted::Unsatisfiable);
        assert_eq!(std("bytes=100-200"), Wanted::Unsatisfiable);
        assert_eq!(std("bytes=-0"), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=0-"), 0, true), Wanted::Unsatisfiable);
    }

    #[test]
    fn by_default_a_range_past_the_end_serves_the_whole() {
        let part = |first, last| Wanted::Part { first, last };
        let oss = |h| wanted(Some(h), 100, false);
        assert_eq!(oss("bytes=10-19"), part(10, 19));
        assert_eq!(oss("bytes=10-"), part(10, 99));
        assert_eq!(oss("bytes=-10"), part(90, 99));
        assert_eq!(oss("bytes=90-1000"), Wanted::Whole);
        assert_eq!(oss("bytes=100-"), Wanted::Whole);
        assert_eq!(oss("bytes=-1000"), Wanted::Whole);
        for whole in [
            None,
            Some(""),
            Some("bytes=1-2,5-6"),
            Some("bytes=5-2"),
            Some("bytes=a-b"),
            Some("bytes=-"),
            Some("items=1-2"),
            Some("bytes=+1-2"),
            Some("bytes=99999999999999999999999-"),
        ] {
            assert_eq!(wanted(whole, 100, false), Wanted::Whole, "{whole:?}");
            assert_eq!(wanted(whole, 100, true), Wanted::Whole, "{whole:?}");
        }
    }
}
