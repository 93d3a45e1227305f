//! The embedded bucket's PostObject form reader, through its real router: any body under a
//! multipart content type is answered (an OSS error, or stored when it is a validly signed
//! form, which random bytes are not) without a panic, a hang or a partial object.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;
use upload_portal::server::protocol::cors::CorsRule;
use upload_portal::server::bucket::keys::KeyRing;
use upload_portal::server::bucket::store::ObjectStore;
use upload_portal::server::bucket::{self, Bucket};
use upload_portal::server::protocol::credentials::Credentials;

struct Fixture {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
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
            store,
            keys: Arc::new(KeyRing::new(vec![Credentials {
                access_key_id: "LTAIfuzz".into(),
                secret: secrecy::SecretString::from("fuzz-secret".to_owned()),
            }])),
            cors: std::sync::RwLock::new(vec![CorsRule::for_portal(vec!["*".into()])]),
            cors_file: dir.path().join("cors.xml"),
            max_object_size: 1 << 20,
            callback: None,
        });
        Fixture {
            runtime,
            router: bucket::router(bucket),
            _dir: dir,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let fixture = fixture();
    let request = axum::http::Request::post("/")
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(axum::body::Body::from(data.to_vec()))
        .unwrap();
    let response = fixture
        .runtime
        .block_on(fixture.router.clone().oneshot(request))
        .unwrap();
    assert!(
        response.status().is_client_error() || response.status().is_success(),
        "{}",
        response.status()
    );
});
