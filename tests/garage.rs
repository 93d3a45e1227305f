//! The s3 target against Garage 2.5.0, a real S3-compatible store: scripts/test.sh starts it
//! (scripts/garage.sh) and runs these with `--ignored`; they need its GARAGE_* variables.
#![cfg(feature = "ssr")]

mod common;

use common::{file, ticket_form, Harness};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use upload_portal::server::protocol::policy::Condition;

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run these through scripts/test.sh"))
}

async fn portal() -> Harness {
    let (endpoint, region, bucket, key, secret) = (
        env("GARAGE_S3_ENDPOINT"),
        env("GARAGE_REGION"),
        env("GARAGE_BUCKET"),
        env("GARAGE_KEY_ID"),
        env("GARAGE_SECRET"),
    );
    Harness::start(&[
        "--target",
        "s3",
        "--s3-endpoint",
        &endpoint,
        "--s3-region",
        &region,
        "--bucket",
        &bucket,
        "--access-key-id",
        &key,
        "--access-key-secret",
        &secret,
        "--multipart-threshold",
        "8MiB",
        "--part-size",
        "5MiB",
    ])
    .await
}

#[tokio::test]
#[ignore = "needs Garage: scripts/test.sh runs it"]
async fn garage_accepts_server_signed_posts_and_serves_them_back() {
    let h = portal().await;
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    let bin = file("data.bin", data.len() as u64, "application/octet-stream");
    let ticket = h.ticket(None, bin, "random", "uploads/garage").await;
    let names = common::field_names(&ticket);
    assert_eq!(
        names,
        [
            "key",
            "policy",
            "x-amz-algorithm",
            "x-amz-credential",
            "x-amz-date",
            "x-amz-signature",
            "success_action_status",
            "Content-Type"
        ]
    );
    let response = h.upload(&ticket, "upload.bin", &data).await;
    let status = response.status();
    assert_eq!(status, 200, "{}", response.text().await.unwrap());
    // The link is a presigned GET: the private bucket serves the same bytes through it.
    let link = ticket["object_url"].as_str().unwrap();
    assert!(link.contains("X-Amz-Signature="), "{link}");
    let served = h.http.get(link).send().await.unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.bytes().await.unwrap().as_ref(), data.as_slice());
    let unsigned = link.split('?').next().unwrap();
    assert_eq!(h.http.get(unsigned).send().await.unwrap().status(), 403);
}

#[tokio::test]
#[ignore = "needs Garage: scripts/test.sh runs it"]
async fn garage_rejects_tampered_expired_and_out_of_range_forms() {
    let h = portal().await;
    let bin = file("a.bin", 4, "application/octet-stream");
    let ticket = h.ticket(None, bin, "random", "uploads/garage").await;
    // Another key in the form than the policy allows.
    let form = ticket_form(
        &ticket,
        Some(("key", "uploads/elsewhere.bin")),
        b"abcd",
        "upload.bin",
    );
    let moved = h.post_ticket(&ticket, form).await;
    assert!(moved.status().is_client_error(), "{}", moved.status());
    // A policy re-encoded with a wider size range, under the old signature.
    let policy = ticket["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f[0] == "policy")
        .unwrap()[1]
        .as_str()
        .unwrap()
        .to_owned();
    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD;
    let json = String::from_utf8(engine.decode(&policy).unwrap()).unwrap();
    let wider = engine.encode(json.replace(
        "[\"content-length-range\",4,4]",
        "[\"content-length-range\",0,99999]",
    ));
    assert_ne!(wider, policy);
    let form = ticket_form(
        &ticket,
        Some(("policy", wider.as_str())),
        b"abcdefgh",
        "upload.bin",
    );
    let tampered = h.post_ticket(&ticket, form).await;
    assert_eq!(tampered.status(), 403);
    // The right form with the wrong number of bytes.
    let too_big = h.upload(&ticket, "upload.bin", b"abcdefgh").await;
    assert!(too_big.status().is_client_error(), "{}", too_big.status());
    // A policy that expired a minute ago, signed by the target itself.
    let now = time::OffsetDateTime::now_utc();
    let conditions = vec![
        Condition::exact("bucket", &env("GARAGE_BUCKET")),
        Condition::eq("key", "uploads/garage/expired.bin"),
        Condition::ContentLengthRange { min: 0, max: 10 },
    ];
    let fields = h
        .state
        .target
        .sign_post(conditions, now - time::Duration::minutes(1), now)
        .await
        .unwrap();
    let mut expired = Form::new().text("key", "uploads/garage/expired.bin");
    for (name, value) in fields {
        expired = expired.text(name, value);
    }
    let expired = expired.part("file", Part::bytes(b"x".to_vec()).file_name("x"));
    let response = h
        .http
        .post(h.state.target.url.as_str())
        .multipart(expired)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
    // None of these stored anything: the keys are free.
    assert!(!h
        .state
        .target
        .object_exists("uploads/elsewhere.bin")
        .await
        .unwrap());
    assert!(!h
        .state
        .target
        .object_exists(ticket["key"].as_str().unwrap())
        .await
        .unwrap());
    assert!(!h
        .state
        .target
        .object_exists("uploads/garage/expired.bin")
        .await
        .unwrap());
}

#[tokio::test]
#[ignore = "needs Garage: scripts/test.sh runs it"]
async fn original_names_check_garage_before_naming() {
    let h = portal().await;
    let folder = format!("uploads/garage-{}", uuid::Uuid::new_v4().simple());
    let pdf = file("report.pdf", 3, "application/octet-stream");
    let first = h.ticket(None, pdf.clone(), "original", &folder).await;
    assert_eq!(h.upload(&first, "upload.bin", b"one").await.status(), 200);
    // A signed HEAD finds it, so the next one is numbered.
    let second = h.ticket(None, pdf, "original", &folder).await;
    assert_eq!(first["key"], format!("{folder}/report.pdf"));
    assert_eq!(second["key"], format!("{folder}/report-1.pdf"));
}

/// The s3 target's resumable multipart: started by the portal (SigV4), parts PUT to SigV4
/// presigned URLs, listed on resume, completed; and aborted, leaving nothing.
#[tokio::test]
#[ignore = "needs Garage: scripts/test.sh runs it"]
async fn garage_takes_multipart_uploads_through_the_portal() {
    let h = portal().await;
    // S3 parts are at least 5 MiB: 11 MiB is three parts.
    let data: Vec<u8> = (0..11 * 1024 * 1024u32).map(|i| (i % 249) as u8).collect();
    let file =
        json!({"name": "film.bin", "size": data.len(), "content_type": "application/octet-stream"});
    let started = h
        .call(
            "start_multipart",
            json!({"file": file, "naming": "random", "folder": "uploads/garage-parts"}),
        )
        .await;
    let status = started.status();
    let plan: Value = started.json().await.unwrap();
    assert_eq!(status, 200, "{plan}");
    let upload = plan["upload"].clone();
    assert_eq!(upload["part_size"], 5 * 1024 * 1024);
    let urls = plan["urls"].as_array().unwrap();
    assert_eq!(urls.len(), 3);
    let part = |n: usize| &data[(n - 1) * 5 * 1024 * 1024..(n * 5 * 1024 * 1024).min(data.len())];
    let put = |url: &str, n: usize| h.http.put(url.to_owned()).body(part(n).to_vec()).send();
    let first = put(urls[0][1].as_str().unwrap(), 1).await.unwrap();
    assert_eq!(first.status(), 200, "{}", first.text().await.unwrap());
    let resumed: Value = h
        .call("resume_multipart", json!({"upload": upload}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(resumed["stored"].as_array().unwrap().len(), 1, "{resumed}");
    let mut parts = vec![json!({"number": 1, "etag": resumed["stored"][0]["etag"]})];
    for url in resumed["urls"].as_array().unwrap() {
        let n = url[0].as_u64().unwrap() as usize;
        let response = put(url[1].as_str().unwrap(), n).await.unwrap();
        assert_eq!(response.status(), 200);
        let etag = response.headers()["etag"]
            .to_str()
            .unwrap()
            .trim_matches('"')
            .to_owned();
        parts.push(json!({"number": n, "etag": etag}));
    }
    let done = h
        .call(
            "complete_multipart",
            json!({"upload": upload, "parts": parts}),
        )
        .await;
    let status = done.status();
    let done: Value = done.json().await.unwrap();
    assert_eq!(status, 200, "{done}");
    let served = h
        .http
        .get(done["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.bytes().await.unwrap().as_ref(), data.as_slice());

    let again: Value = h
        .call(
            "start_multipart",
            json!({"file": file, "naming": "random", "folder": "uploads/garage-parts"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let url = again["urls"][0][1].as_str().unwrap();
    assert_eq!(put(url, 1).await.unwrap().status(), 200);
    assert_eq!(
        h.call("abort_multipart", json!({"upload": again["upload"]}))
            .await
            .status(),
        200
    );
    let gone = h
        .call("resume_multipart", json!({"upload": again["upload"]}))
        .await;
    assert_eq!(
        gone.json::<Value>().await.unwrap(),
        json!({"Invalid": "UploadGone"})
    );
}

/// The sweep of abandoned multipart uploads on Garage: the portal's are listed under its
/// folder (a prefix, page by page) and aborted once old enough; none is left.
#[tokio::test]
#[ignore = "needs Garage: scripts/test.sh runs it"]
async fn garage_abandoned_uploads_are_swept() {
    use std::time::Duration;
    use upload_portal::server::portal::multipart::abort_abandoned;
    let h = portal().await;
    let folder = "uploads/garage-sweep";
    let file = json!({"name": "left.bin", "size": 11 * 1024 * 1024, "content_type": "application/octet-stream"});
    for _ in 0..2 {
        let started = h
            .call(
                "start_multipart",
                json!({"file": file, "naming": "random", "folder": folder}),
            )
            .await;
        assert_eq!(started.status(), 200);
    }
    let target = &h.state.target;
    let prefix = format!("{folder}/");
    let listed = target.list_multipart_uploads(&prefix).await.unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed.iter().all(|(key, ..)| key.starts_with(&prefix)));
    let now = time::OffsetDateTime::now_utc();
    let hour = Duration::from_secs(3600);
    assert_eq!(
        abort_abandoned(target, &prefix, hour, now).await.unwrap(),
        0
    );
    assert_eq!(
        abort_abandoned(target, &prefix, hour, now + 2 * hour)
            .await
            .unwrap(),
        2
    );
    assert!(target
        .list_multipart_uploads(&prefix)
        .await
        .unwrap()
        .is_empty());
}
