//! The embedded bucket's PostObject with a validly signed form plus fields of the fuzzer's
//! choosing (one `name=value` a line): a field that routes a request or the browser, or
//! decides the object (a callback, a redirect, a type), and that the policy does not test, is
//! refused and leaves nothing behind; a stored header it does not test is not stored.
#![no_main]

use std::sync::{Arc, OnceLock};

use base64::Engine;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;
use upload_portal::server::protocol::cors::CorsRule;
use upload_portal::server::bucket::keys::KeyRing;
use upload_portal::server::bucket::store::ObjectStore;
use upload_portal::server::bucket::{self, Bucket};
use upload_portal::server::protocol::credentials::Credentials;
use upload_portal::server::protocol::policy::{Condition, PolicyDocument};
use upload_portal::server::protocol::signing::v1;

const SECRET: &str = "fuzz-secret";
const KEY: &str = "fuzz/a.txt";

struct Fixture {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    store: ObjectStore,
    /// The signed fields every form starts with.
    fields: Vec<(String, String)>,
    _dir: tempfile::TempDir,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = runtime
            .block_on(ObjectStore::open(&dir.path().join("fuzz")))
            .unwrap();
        let bucket = Arc::new(Bucket {
            name: "fuzz".into(),
            region: "local".into(),
            public_url: "http://127.0.0.1:9/".into(),
            host_id: "127.0.0.1:9".into(),
            store: store.clone(),
            keys: Arc::new(KeyRing::new(vec![Credentials {
                access_key_id: "LTAIfuzz".into(),
                secret: secrecy::SecretString::from(SECRET.to_owned()),
            }])),
            cors: std::sync::RwLock::new(vec![CorsRule::for_portal(vec!["*".into()])]),
            cors_file: dir.path().join("cors.xml"),
            max_object_size: 1 << 20,
            callback: None,
        });
        let policy = PolicyDocument {
            expiration: time::macros::datetime!(2099-01-01 00:00:00 UTC),
            conditions: vec![
                Condition::exact("bucket", "fuzz"),
                Condition::eq("key", KEY),
                Condition::ContentLengthRange { min: 0, max: 64 },
                Condition::StartsWith {
                    field: "x-oss-meta-note".into(),
                    prefix: String::new(),
                },
                Condition::eq("success_action_status", "200"),
            ],
        };
        let policy = base64::engine::general_purpose::STANDARD.encode(policy.to_json());
        let fields = vec![
            ("key".to_owned(), KEY.to_owned()),
            ("OSSAccessKeyId".to_owned(), "LTAIfuzz".to_owned()),
            ("Signature".to_owned(), v1::sign(SECRET, &policy)),
            ("policy".to_owned(), policy),
            ("success_action_status".to_owned(), "200".to_owned()),
        ];
        Fixture {
            runtime,
            router: bucket::router(bucket),
            store,
            fields,
            _dir: dir,
        }
    })
}

/// Added fields the bucket must refuse unless the policy tests them (it tests none of these).
fn routes_or_decides(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "key" | "callback" | "callback-var" | "success_action_redirect" | "x-oss-content-type"
    ) || name.starts_with("x:")
}

/// Stored headers the policy does not test (it tests only `x-oss-meta-note`).
fn untested_header(name: &str) -> Option<String> {
    let name = name.to_ascii_lowercase();
    let stored = matches!(
        name.as_str(),
        "cache-control" | "content-disposition" | "content-encoding" | "expires"
    ) || name.starts_with("x-oss-meta-");
    (stored && name != "x-oss-meta-note").then_some(name)
}

fuzz_target!(|data: &[u8]| {
    let fixture = fixture();
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let extra: Vec<(&str, &str)> = text
        .lines()
        .take(16)
        .filter_map(|line| line.split_once('='))
        // Names that would break the part's own header are another test (post_form's).
        .filter(|(name, _)| !name.is_empty() && !name.contains(['"', '\r', '\n', ';']))
        .collect();
    let mut body = String::new();
    for (name, value) in fixture
        .fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .chain(extra.iter().copied())
    {
        body.push_str(&format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(
        "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nabc\r\n--XyZ--\r\n",
    );
    let request = axum::http::Request::post("/")
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(axum::body::Body::from(body))
        .unwrap();
    let response = fixture
        .runtime
        .block_on(fixture.router.clone().oneshot(request))
        .unwrap();
    let status = response.status();
    assert!(status.is_success() || status.is_client_error(), "{status}");
    let object = fixture
        .runtime
        .block_on(fixture.store.open_object(KEY))
        .unwrap();
    if extra.iter().any(|(name, _)| routes_or_decides(name)) {
        assert!(!status.is_success(), "stored with a field outside the policy: {extra:?}");
        assert!(object.is_none(), "an object was left behind: {extra:?}");
    }
    if let Some((_, meta)) = &object {
        for name in extra.iter().filter_map(|(name, _)| untested_header(name)) {
            assert!(
                meta.headers.iter().all(|(stored, _)| *stored != name),
                "{name} was stored though the policy does not test it"
            );
        }
    }
    if object.is_some() {
        fixture
            .runtime
            .block_on(fixture.store.delete(KEY))
            .unwrap();
    }
});
