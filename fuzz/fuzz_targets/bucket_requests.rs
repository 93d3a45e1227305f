//! What the bucket's REST operations read from strangers: a `Range` header, a V4 `Authorization`
//! header, a DeleteMultipleObjects body and a listing's paging. The first byte picks which.
//! Besides "no panic": a range served lies inside the object (and only the standard behaviour
//! refuses one); a parsed header has its credential and signature; a delete names 1 to 1000
//! keys; a page holds at most max-keys entries, each under the prefix, none twice, and pages
//! on from its marker to exactly the entries a single long page would hold.
#![no_main]

use libfuzzer_sys::fuzz_target;
use upload_portal::server::bucket::deletion;
use upload_portal::server::bucket::listing::page;
use upload_portal::server::bucket::ranges::{wanted, Wanted};
use upload_portal::server::protocol::signing::v4;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    match which % 4 {
        0 => {
            for size in [0u64, 1, 100, u64::MAX] {
                for standard in [false, true] {
                    match wanted(Some(text), size, standard) {
                        Wanted::Part { first, last } => assert!(first <= last && last < size),
                        Wanted::Unsatisfiable => assert!(standard),
                        Wanted::Whole => {}
                    }
                }
            }
        }
        1 => {
            if let Some(parsed) = v4::parse_authorization(text) {
                assert!(!parsed.credential.is_empty() && !parsed.signature.is_empty());
                let _ = v4::parse_credential(parsed.credential);
                let _ = v4::verify(
                    "secret",
                    "20231203T121212Z",
                    "local",
                    text,
                    parsed.signature,
                );
            }
        }
        2 => {
            if let Ok((keys, _)) = deletion::parse(text) {
                assert!((1..=1000).contains(&keys.len()));
            }
        }
        _ => {
            let mut lines = text.lines();
            let prefix = lines.next().unwrap_or("");
            let max = 1 + rest.len() % 4;
            // Keys as the store has them: under the prefix, never empty, sorted, unique.
            let mut keys: Vec<String> = lines
                .filter(|k| k.starts_with(prefix) && !k.is_empty())
                .map(str::to_owned)
                .collect();
            keys.sort();
            keys.dedup();
            let whole = page(&keys, prefix, "/", "", usize::MAX);
            let mut seen_keys = Vec::new();
            let mut seen_prefixes = Vec::new();
            let mut marker = String::new();
            for _ in 0..=keys.len() {
                let rest: Vec<String> = keys.iter().filter(|k| **k > marker).cloned().collect();
                let one = page(&rest, prefix, "/", &marker, max);
                assert!(one.keys.len() + one.common_prefixes.len() <= max);
                assert!(one
                    .keys
                    .iter()
                    .chain(&one.common_prefixes)
                    .all(|k| k.starts_with(prefix)));
                seen_keys.extend(one.keys);
                seen_prefixes.extend(one.common_prefixes);
                match one.next_marker {
                    Some(next) => marker = next,
                    None => break,
                }
            }
            assert_eq!(seen_keys, whole.keys);
            assert_eq!(seen_prefixes, whole.common_prefixes);
        }
    }
});
