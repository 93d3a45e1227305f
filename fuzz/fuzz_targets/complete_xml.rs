//! The CompleteMultipartUpload body: any text is parsed or refused as OSS would (MalformedXML,
//! InvalidPartOrder) without panicking; what parses is in strictly ascending part order.
#![no_main]

use libfuzzer_sys::fuzz_target;
use upload_portal::server::bucket::multipart::parse_complete;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(parts) = parse_complete(text) {
        assert!(!parts.is_empty());
        assert!(parts.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(parts.iter().all(|(_, etag)| !etag.starts_with('"')));
    }
});
