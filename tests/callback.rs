//! Upload callbacks end to end: the bucket calls the portal after storing, signed with its RSA
//! key; the portal verifies, records once, and its JSON reply reaches the uploader.
#![cfg(feature = "ssr")]

mod common;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use common::{error_code, file, Harness, AK, CALLBACK_KEY};
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use upload_portal::server::protocol::policy::{Condition, PolicyDocument};
use upload_portal::server::protocol::signing::callback;

const WITH_CALLBACK: &[&str] = &["--callback-url", "http://{portal}/oss/callback"];

#[tokio::test]
async fn callback_reply_reaches_the_uploader_and_is_recorded_once() {
    let h = Harness::start(WITH_CALLBACK).await;
    let cat = file("cat.png", 12, "image/png");
    let ticket = h.ticket(None, cat, "original", "uploads/cb").await;
    let names = common::field_names(&ticket);
    assert!(names.ends_with(&["callback", "x:ticket"]), "{names:?}");
    let response = h.upload(&ticket, "cat.png", b"hello world\n").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["etag"],
        "\"6F5902AC237024BDD0C176CB93063DC4\""
    );
    assert_eq!(response.headers()["content-type"], "application/json");
    let reply: Value = response.json().await.unwrap();
    assert_eq!(reply["message"], "Recorded by the portal.");
    assert_eq!(reply["key"], "uploads/cb/cat.png");
    assert_eq!(reply["etag"], "6F5902AC237024BDD0C176CB93063DC4");
    assert_eq!(reply["size"], 12);
    let records = h.completed_entries().await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].key, "uploads/cb/cat.png");
    assert_eq!(records[0].content_type, "image/png");
    assert_eq!(records[0].stored_size, Some(12));
    assert_eq!(
        records[0].etag.as_deref(),
        Some("6F5902AC237024BDD0C176CB93063DC4")
    );
    assert_eq!(records[0].completed_by.as_deref(), Some("callback"));
    let x_ticket = ticket["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f[0] == "x:ticket")
        .unwrap()[1]
        .clone();
    // The ticket's pinned id is the ledger entry's.
    assert_eq!(records[0].id, x_ticket.as_str().unwrap());
}

#[tokio::test]
async fn failed_callback_answers_203_and_keeps_the_object() {
    // Nothing listens on port 9 (discard) of loopback here.
    let h = Harness::start(&["--callback-url", "http://127.0.0.1:9/oss/callback"]).await;
    let cat = file("cat.png", 3, "image/png");
    let ticket = h.ticket(None, cat, "original", "uploads/cb").await;
    let response = h.upload(&ticket, "cat.png", b"abc").await;
    assert_eq!(response.status(), 203);
    assert!(response.headers().contains_key("etag"));
    assert_eq!(
        error_code(&response.text().await.unwrap()),
        "CallbackFailed"
    );
    assert_eq!(
        std::fs::read(h.object_path("uploads/cb/cat.png")).unwrap(),
        b"abc"
    );
    assert!(h.completed_entries().await.is_empty());
}

#[tokio::test]
async fn app_servers_that_answer_badly_fail_the_callback() {
    // An app server that answers 200 with text, not JSON.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cb", listener.local_addr().unwrap());
    let app = axum::Router::new().route("/cb", axum::routing::post(|| async { "ok" }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let h = Harness::start(&["--callback-url", &url]).await;
    let cat = file("cat.png", 3, "image/png");
    let ticket = h.ticket(None, cat, "original", "uploads/cb").await;
    let response = h.upload(&ticket, "cat.png", b"abc").await;
    assert_eq!(response.status(), 203);
    let body = response.text().await.unwrap();
    assert!(body.contains("not valid json"), "{body}");
}

#[tokio::test]
async fn an_invalid_callback_parameter_stores_nothing() {
    let h = Harness::start(&[]).await;
    for bad in [
        BASE64.encode("{not json"),
        BASE64.encode(r#"{"callbackUrl":"ftp://x/","callbackBody":"a=1"}"#),
    ] {
        // Pinned by the policy (the bucket calls back only where a policy pins), but invalid.
        let policy = PolicyDocument {
            expiration: time::OffsetDateTime::now_utc() + time::Duration::minutes(5),
            conditions: vec![
                Condition::exact("bucket", "portal-dev"),
                Condition::eq("key", "uploads/x.txt"),
                Condition::eq("callback", &bad),
            ],
        };
        let (b64, signature) = h.sign_policy(&policy);
        let form = Form::new()
            .text("key", "uploads/x.txt")
            .text("OSSAccessKeyId", AK)
            .text("policy", b64)
            .text("Signature", signature)
            .text("callback", bad)
            .part("file", Part::bytes(b"x".to_vec()).file_name("x.txt"));
        let response = h.post_form(form).await;
        assert_eq!(response.status(), 400);
        assert_eq!(
            error_code(&response.text().await.unwrap()),
            "InvalidArgument"
        );
        assert!(h.stored_files().is_empty());
    }
}

#[tokio::test]
async fn the_portal_verifies_callbacks_before_recording() {
    let h = Harness::start(WITH_CALLBACK).await;
    let pem = std::fs::read_to_string(CALLBACK_KEY).unwrap();
    let own_key_url = format!("{}?callback-public-key", h.bucket_url);
    let body =
        "bucket=portal-dev&object=uploads%2Fa.png&etag=ABC&size=3&mimeType=image%2Fpng&ticket=t1";
    h.state
        .ledger
        .record_signed(vec![common::signed_entry("t1", "uploads/a.png", 3)])
        .await
        .unwrap();

    let unsigned = h
        .http
        .post(format!("{}/oss/callback", h.portal_url))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 403);
    assert_eq!(
        common::send_callback(&h, body, &pem, &own_key_url, true)
            .await
            .status(),
        403
    );

    // A correct signature under a key served from a URL that is not on the allowlist.
    let (other_pem, other_url) = {
        let other = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).unwrap();
        let public = callback::public_key_pem(&other);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/key.pem", listener.local_addr().unwrap());
        let app = axum::Router::new().route(
            "/key.pem",
            axum::routing::get(move || async move { public }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        use rsa::pkcs1::EncodeRsaPrivateKey;
        (
            other
                .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
                .unwrap()
                .to_string(),
            url,
        )
    };
    assert_eq!(
        common::send_callback(&h, body, &other_pem, &other_url, false)
            .await
            .status(),
        403
    );
    assert!(
        h.completed_entries().await.is_empty(),
        "nothing recorded from refused callbacks"
    );

    // The real thing, twice: one record.
    for _ in 0..2 {
        let ok = common::send_callback(&h, body, &pem, &own_key_url, false).await;
        assert_eq!(ok.status(), 200);
        assert_eq!(ok.json::<Value>().await.unwrap()["key"], "uploads/a.png");
    }
    assert_eq!(h.completed_entries().await.len(), 1);
}

#[tokio::test]
async fn the_bucket_serves_its_callback_public_key() {
    let h = Harness::start(&[]).await;
    let pem = h
        .http
        .get(format!("{}?callback-public-key", h.bucket_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let public = callback::parse_public_key(&pem).unwrap();
    let private =
        callback::parse_private_key(&std::fs::read_to_string(CALLBACK_KEY).unwrap()).unwrap();
    assert_eq!(public, private.to_public_key());
}
