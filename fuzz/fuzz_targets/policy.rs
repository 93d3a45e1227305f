//! The policy parser and evaluator: any bytes parse or are refused without panicking; what
//! parses survives a round trip through the signer's serialisation and evaluates against a
//! form made of the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use upload_portal::server::protocol::policy::PolicyDocument;

fuzz_target!(|data: &[u8]| {
    let Ok(policy) = PolicyDocument::parse(data) else {
        return;
    };
    // What the bucket accepted, the signer writes back in a form the bucket accepts again.
    let again = PolicyDocument::parse(policy.to_json().as_bytes())
        .expect("a parsed policy serialises to a parsable one");
    assert_eq!(again.to_json(), policy.to_json());
    let text = String::from_utf8_lossy(data);
    let now = time::OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(1_700_000_000);
    let _ = policy.check_form(now, |name| {
        (name.len() % 2 == 0).then_some(text.as_ref())
    });
    let _ = policy.check_length(data.len() as u64);
    let _ = policy.max_length();
});
