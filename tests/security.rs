//! The security review's probes (`../shared/SECURITY-REVIEW.md`), each as an attacker would
//! send it over a real socket, and what must come back now. A reviewer can rerun the suite:
//! `cargo test --features ssr --test security`.
#![cfg(feature = "ssr")]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use common::{
    call_as, error_code, file, login, session, ticket_form, with_users, Harness, ALICE_PASSWORD,
};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use upload_portal::server::portal::sweeps::check_expired_tickets;

/// A ticket's fields, then `extra` fields, then the file.
fn form_with(ticket: &Value, extra: &[(&str, &str)], data: &[u8], file_name: &str) -> Form {
    let mut form = Form::new();
    for pair in ticket["fields"].as_array().unwrap() {
        form = form.text(
            pair[0].as_str().unwrap().to_owned(),
            pair[1].as_str().unwrap().to_owned(),
        );
    }
    for (name, value) in extra {
        form = form.text(name.to_string(), value.to_string());
    }
    form.part(
        "file",
        Part::bytes(data.to_vec())
            .file_name(file_name.to_owned())
            .mime_str("image/png")
            .unwrap(),
    )
}

/// A stand-in for an internal service: counts the connections it receives.
async fn internal_service() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/internal", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let _ = socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n{\"secret\":true}")
                .await;
        }
    });
    (url, hits)
}

/// V1: the bucket POSTs to a callback URL only when the policy pins it.
#[tokio::test]
async fn a_callback_the_policy_does_not_pin_is_refused() {
    let h = Harness::start(&[]).await;
    let (url, hits) = internal_service().await;
    let callback = BASE64.encode(
        json!({"callbackUrl": url, "callbackHost": "internal.svc", "callbackBody": "any=thing"})
            .to_string(),
    );
    let png = file("x.png", 3, "image/png");
    let ticket = h.ticket(None, png, "random", "uploads/").await;
    let response = h
        .post_ticket(
            &ticket,
            form_with(&ticket, &[("callback", &callback)], b"abc", "x.png"),
        )
        .await;
    assert_eq!(response.status(), 403);
    let body = response.text().await.unwrap();
    assert_eq!(error_code(&body), "AccessDenied");
    assert!(body.contains("Extra input fields: callback"), "{body}");
    assert!(!body.contains("secret"), "{body}");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the bucket made no request");
    assert!(h.stored_files().is_empty(), "nothing stored");
}

/// V2, W10: fields the signer never saw cannot send the bucket's requests or the browser
/// elsewhere, nor change the object's type; headers it never saw are not stored.
#[tokio::test]
async fn fields_outside_the_policy_are_refused_or_not_stored() {
    let h = Harness::start(&["--allowed-types", "image/*"]).await;
    for (name, value) in [
        ("x-oss-content-type", "text/html"),
        ("success_action_redirect", "https://evil.example/steal"),
        ("x:ticket", "someone-elses"),
        ("callback-var", "eyJ4OmEiOiIxIn0="),
    ] {
        let png = file("cat.png", 3, "image/png");
        let ticket = h.ticket(None, png, "random", "uploads/").await;
        let response = h
            .post_ticket(
                &ticket,
                form_with(&ticket, &[(name, value)], b"abc", "cat.png"),
            )
            .await;
        assert_eq!(response.status(), 403, "{name}");
        assert!(response.headers().get("location").is_none(), "{name}");
        let body = response.text().await.unwrap();
        assert!(
            body.contains(&format!("Extra input fields: {name}")),
            "{name}: {body}"
        );
    }
    assert!(h.stored_files().is_empty());
    let png = file("cat.png", 3, "image/png");
    let ticket = h.ticket(None, png, "random", "uploads/").await;
    let extra = [
        ("Content-Disposition", "inline"),
        ("Cache-Control", "max-age=1"),
        ("Content-Encoding", "gzip"),
        ("x-oss-meta-owner", "mallory"),
    ];
    let response = h
        .post_ticket(&ticket, form_with(&ticket, &extra, b"abc", "cat.png"))
        .await;
    assert_eq!(response.status(), 200);
    let served = h
        .http
        .get(ticket["object_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(served.headers()["content-type"], "image/png");
    for (name, _) in extra {
        assert!(served.headers().get(name).is_none(), "{name} was stored");
    }
}

/// V2: whatever was stored, the bucket serves it so that it cannot run as a page.
#[tokio::test]
async fn stored_objects_never_run_as_pages() {
    let h = Harness::start(&[]).await;
    let page = b"<script>document.cookie='portal_session=x; path=/api'</script>";
    for (name, content_type, inline) in [
        ("page.html", "text/html", false),
        ("drawing.svg", "image/svg+xml", false),
        ("data.xml", "application/xml", false),
        ("photo.png", "image/png", true),
        ("notes.txt", "text/plain", true),
    ] {
        let stored = file(name, page.len() as u64, content_type);
        let ticket = h.ticket(None, stored, "random", "uploads/").await;
        assert_eq!(h.upload(&ticket, name, page).await.status(), 200, "{name}");
        let served = h
            .http
            .get(ticket["object_url"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        let headers = served.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{name}");
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("sandbox") && policy.contains("default-src 'none'"));
        let disposition = headers
            .get("content-disposition")
            .map(|v| v.to_str().unwrap().to_owned());
        if inline {
            assert_eq!(disposition, None, "{name}");
        } else {
            assert_eq!(disposition.as_deref(), Some("attachment"), "{name}");
        }
    }
    // Errors too.
    let missing = h
        .http
        .get(format!("{}uploads/none.html", h.bucket_url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.headers()["x-content-type-options"], "nosniff");
    assert!(missing.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("sandbox"));
}

/// V2: a cookie set by another origin of the same host beside the portal's is refused.
#[tokio::test]
async fn a_second_session_cookie_is_refused() {
    let (h, _users) = with_users(&[]).await;
    let alice = session(&h, "alice", ALICE_PASSWORD).await;
    let ok = call_as(&h, Some(&alice), "viewer", json!({})).await;
    assert_eq!(ok.status(), 200);
    let planted = format!("portal_session={}; {alice}", "ab".repeat(32));
    let refused = call_as(&h, Some(&planted), "viewer", json!({})).await;
    assert_eq!(refused.status(), 401);
    let files = json!([file("a.txt", 1, "text/plain")]);
    let signing = h
        .sign_batch(Some(&planted), files, "random", "uploads/alice/")
        .await;
    assert_eq!(signing.status(), 401);
}

/// A callback signed with the embedded bucket's key, carrying `body`.
async fn send_callback(h: &Harness, body: &str) -> reqwest::Response {
    let pem = std::fs::read_to_string(common::CALLBACK_KEY).unwrap();
    let key_url = format!("{}?callback-public-key", h.bucket_url);
    common::send_callback(h, body, &pem, &key_url, false).await
}

/// V3: a callback completes only the ticket it names, with that ticket's key and size.
#[tokio::test]
async fn callbacks_complete_only_the_ticket_they_name() {
    let h = Harness::start(&["--callback-url", "http://{portal}/oss/callback"]).await;
    // Someone else's ticket, never uploaded.
    let report = file("report.png", 5000, "image/png");
    let victim = h.ticket(None, report, "random", "uploads/").await;
    let key = victim["key"].as_str().unwrap();
    let id = victim["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f[0] == "x:ticket")
        .unwrap()[1]
        .as_str()
        .unwrap()
        .to_owned();
    // Through the bucket: a callback template of the uploader's choosing is refused (the
    // ticket pins the portal's own).
    let png = file("mine.png", 3, "image/png");
    let mine = h.ticket(None, png, "random", "uploads/").await;
    let forged = BASE64.encode(
        json!({
            "callbackUrl": format!("{}/oss/callback", h.portal_url),
            "callbackBody": format!("object={key}&etag=0000&size=5000&ticket={id}"),
        })
        .to_string(),
    );
    let form = ticket_form(&mine, Some(("callback", &forged)), b"abc", "mine.png");
    let response = h.post_ticket(&mine, form).await;
    assert_eq!(response.status(), 403);
    // Straight to the portal, validly signed: without a ticket, or a ticket of another key or
    // size, nothing is completed and the reply says nothing of what exists.
    for body in [
        format!("object={key}&etag=0000&size=5000"),
        format!("object=uploads%2Fother.png&etag=0000&size=5000&ticket={id}"),
        format!("object={key}&etag=0000&size=4999&ticket={id}"),
    ] {
        let refused = send_callback(&h, &body).await;
        assert_eq!(refused.status(), 404, "{body}");
    }
    assert!(h.completed_entries().await.is_empty());
}

/// Asks for a plain-form ticket (as a script would: JSON back); its id.
async fn start_plain_form(h: &Harness) -> String {
    h.http
        .post(format!("{}/api/start_plain_upload", h.portal_url))
        .form(&[("folder", "uploads/")])
        .send()
        .await
        .unwrap()
        .json::<String>()
        .await
        .unwrap()
}

/// The signed fields of plain-form ticket `id`.
async fn plain_form(h: &Harness, id: &str) -> Value {
    h.call("plain_form", json!({"ticket": id}))
        .await
        .json()
        .await
        .unwrap()
}

/// Posts one file with a plain form's fields, as a browser without scripts does; the bucket
/// answers with its redirect (not followed).
async fn post_plain(form: &Value, name: &str, data: &[u8], mime: &str) -> reqwest::Response {
    let mut upload = Form::new();
    for pair in form["fields"].as_array().unwrap() {
        upload = upload.text(
            pair[0].as_str().unwrap().to_owned(),
            pair[1].as_str().unwrap().to_owned(),
        );
    }
    let upload = upload.part(
        "file",
        Part::bytes(data.to_vec())
            .file_name(name.to_owned())
            .mime_str(mime)
            .unwrap(),
    );
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(form["url"].as_str().unwrap())
        .multipart(upload)
        .send()
        .await
        .unwrap()
}

/// V4a: one plain-form ticket keeps one file; the quota counts its room until it is checked.
#[tokio::test]
async fn a_plain_form_ticket_stores_one_file() {
    let h = Harness::start(&["--daily-bytes", "1MiB", "--policy-ttl", "60"]).await;
    let started = h
        .http
        .post(format!("{}/api/start_plain_upload", h.portal_url))
        .header("accept", "text/html")
        .form(&[("folder", "uploads/")])
        .send()
        .await
        .unwrap();
    // reqwest follows the redirect to the page that shows the ticket.
    let id = started
        .url()
        .query_pairs()
        .find(|(k, _)| k == "ticket")
        .map(|(_, v)| v.into_owned())
        .expect("redirected to the ticket's page");
    // The room is counted from now on.
    let settings: upload_portal::model::UploaderSettings = h
        .call("portal_settings", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(settings.limits.used_bytes, 1 << 20);
    let form = plain_form(&h, &id).await;
    let data = vec![7u8; 300 * 1024];
    for name in ["one.png", "two.png", "three.png"] {
        let stored = post_plain(&form, name, &data, "image/png").await;
        assert_eq!(stored.status(), 303, "{name}");
    }
    assert_eq!(h.stored_files().len(), 3);
    let later = time::OffsetDateTime::now_utc() + time::Duration::seconds(120);
    let counts = check_expired_tickets(&h.state, later).await.unwrap();
    assert_eq!((counts.completed, counts.removed), (1, 2));
    assert_eq!(h.stored_files().len(), 1, "one ticket, one file");
    let settings: upload_portal::model::UploaderSettings = h
        .call("portal_settings", json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(settings.limits.used_bytes, data.len() as u64);
}

/// V4a: a plain form's file of a type the portal does not allow is removed at confirmation.
#[tokio::test]
async fn a_plain_form_file_of_a_refused_type_is_removed() {
    let h = Harness::start(&["--allowed-types", "image/*"]).await;
    let form = plain_form(&h, &start_plain_form(&h).await).await;
    let page = b"<script>x</script>";
    let stored = post_plain(&form, "page.html", page, "text/html").await;
    assert_eq!(stored.status(), 303);
    let key = format!("{}page.html", form["key"].as_str().unwrap());
    assert_eq!(h.stored_files().len(), 1);
    let confirmed = h
        .call(
            "confirm_upload",
            json!({"key": key, "etag": common::md5_hex(page)}),
        )
        .await;
    assert_eq!(confirmed.status(), 400);
    let error: Value = confirmed.json().await.unwrap();
    assert!(error["Invalid"]["BrokeTicket"].is_object(), "{error}");
    assert!(h.stored_files().is_empty(), "the file is gone");
}

/// V4b: an upload nobody confirms still counts once its ticket has expired.
#[tokio::test]
async fn an_unconfirmed_upload_still_counts() {
    let h = Harness::start(&["--daily-bytes", "1MiB", "--policy-ttl", "60"]).await;
    let data = vec![1u8; 600 * 1024];
    let png = file("a.png", data.len() as u64, "image/png");
    let first = h.ticket(None, png, "random", "uploads/").await;
    let response = h
        .post_ticket(&first, form_with(&first, &[], &data, "a.png"))
        .await;
    assert_eq!(response.status(), 200);
    // Not confirmed; the ticket expires; the sweep finds the object and completes it.
    let later = time::OffsetDateTime::now_utc() + time::Duration::seconds(120);
    let counts = check_expired_tickets(&h.state, later).await.unwrap();
    assert_eq!(counts.completed, 1);
    let entries = h.completed_entries().await;
    assert_eq!(entries[0].completed_by.as_deref(), Some("sweep"));
    let files = json!([file("b.png", data.len() as u64, "image/png")]);
    let again = h.sign_batch(None, files, "random", "uploads/").await;
    assert_eq!(again.status(), 429);
}

/// A ticket the storage cannot answer for (a plain form's prefix longer than the bucket
/// lists: refused) is left for the next pass; the tickets after it are still checked.
#[tokio::test]
async fn a_ticket_the_storage_refuses_does_not_hold_up_the_sweep() {
    let h = Harness::start(&["--policy-ttl", "60"]).await;
    let data = vec![1u8; 1024];
    let png = file("a.png", data.len() as u64, "image/png");
    let ticket = h.ticket(None, png, "random", "uploads/").await;
    assert_eq!(h.upload(&ticket, "a.png", &data).await.status(), 200);
    // Recorded as if signed earlier, so that the sweep meets it first.
    let mut refused = common::signed_entry("refused", &format!("uploads/{}", "k".repeat(1100)), 9);
    refused.expires_at -= 290;
    refused.kind = upload_portal::server::portal::ledger::TicketKind::Form;
    h.state.ledger.record_signed(vec![refused]).await.unwrap();
    let later = time::OffsetDateTime::now_utc() + time::Duration::seconds(120);
    let counts = check_expired_tickets(&h.state, later).await.unwrap();
    assert_eq!(counts.completed, 1, "the upload after it is completed");
    let left = h
        .state
        .ledger
        .expired_unchecked(later.unix_timestamp(), 10)
        .await
        .unwrap();
    let left: Vec<&str> = left.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(left, ["refused"], "left for the next pass");
}

/// V4c: parts other than planned never become an object.
#[tokio::test]
async fn parts_larger_than_planned_are_refused() {
    let h = Harness::start(&["--multipart-threshold", "200KiB", "--part-size", "100KiB"]).await;
    let file = json!({"name": "clip.mp4", "size": 200 * 1024, "content_type": "video/mp4"});
    let plan: Value = h
        .call(
            "start_multipart",
            json!({"file": file, "naming": "random", "folder": "uploads/"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let big = vec![3u8; 3 << 20];
    let mut parts = Vec::new();
    for url in plan["urls"].as_array().unwrap() {
        let number = url[0].as_u64().unwrap();
        let sent = h
            .http
            .put(url[1].as_str().unwrap())
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(sent.status(), 200);
        let etag = sent.headers()["etag"]
            .to_str()
            .unwrap()
            .trim_matches('"')
            .to_owned();
        parts.push(json!({"number": number, "etag": etag}));
    }
    let completed = h
        .call(
            "complete_multipart",
            json!({"upload": plan["upload"], "parts": parts}),
        )
        .await;
    assert_eq!(completed.status(), 400);
    assert_eq!(
        completed.json::<Value>().await.unwrap(),
        json!({"Invalid": "WrongParts"})
    );
    let key = plan["upload"]["key"].as_str().unwrap();
    assert!(!h.object_path(key).exists(), "no object of 6 MiB");
}

/// V4d: a folder cannot carry `${filename}` into a signed key.
#[tokio::test]
async fn folders_with_a_dollar_are_refused() {
    let h = Harness::start(&[]).await;
    let files = json!([file("a.png", 1, "image/png")]);
    let response = h
        .sign_batch(None, files, "random", "uploads/${filename}/")
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"Invalid": {"Folder": "Dollar"}})
    );
}

/// W5: a stranger's form is not held beyond 16 KiB before its policy is verified.
#[tokio::test]
async fn unsigned_form_fields_are_not_held() {
    let h = Harness::start(&[]).await;
    let form = Form::new()
        .text("key", "uploads/x")
        .text("junk", "j".repeat(6 << 20))
        .part("file", Part::bytes(b"x".to_vec()).file_name("x"));
    let response = h.post_form(form).await;
    assert_eq!(response.status(), 400);
    let body = response.text().await.unwrap();
    assert!(body.contains("more than 16 KB of fields"), "{body}");
}

/// Opens a connection and sends `head` (and then nothing more): when does the server hang up?
async fn seconds_until_hung_up(addr: &str, head: &[u8], trickle: bool) -> f64 {
    let started = std::time::Instant::now();
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket.write_all(head).await.unwrap();
    let mut buffer = [0u8; 4096];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut buffer)).await;
        match read {
            Ok(Ok(0)) | Ok(Err(_)) => return started.elapsed().as_secs_f64(),
            Ok(Ok(_)) => continue,
            Err(_) if started.elapsed() > Duration::from_secs(90) => return f64::INFINITY,
            Err(_) => {
                if trickle && socket.write_all(b"x").await.is_err() {
                    return started.elapsed().as_secs_f64();
                }
            }
        }
    }
}

/// W5: slow headers (both servers), idle connections and trickled bodies are cut off.
#[tokio::test]
async fn slow_clients_are_cut_off() {
    let h = Harness::start(&[]).await;
    let portal = h.portal_url.trim_start_matches("http://").to_owned();
    let bucket = h
        .bucket_url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let body_head = format!(
        "POST / HTTP/1.1\r\nhost: {bucket}\r\ncontent-type: multipart/form-data; boundary=XyZ\r\ncontent-length: 100000\r\n\r\n--XyZ\r\n"
    );
    let (slow_portal, slow_bucket, idle, trickle) = tokio::join!(
        seconds_until_hung_up(&portal, b"GET / HTTP/1.1\r\nx-slow: 1\r\n", false),
        seconds_until_hung_up(&bucket, b"GET / HTTP/1.1\r\nx-slow: 1\r\n", false),
        seconds_until_hung_up(&bucket, b"", false),
        seconds_until_hung_up(&bucket, body_head.as_bytes(), true),
    );
    for (what, seconds) in [
        ("slow headers to the portal", slow_portal),
        ("slow headers to the bucket", slow_bucket),
        ("an idle connection", idle),
        ("a body of a byte every 5 s", trickle),
    ] {
        assert!(seconds < 45.0, "{what}: still open after {seconds} s");
    }
}

/// W6: requests naming another host (DNS rebinding) are refused; health checks are not.
#[tokio::test]
async fn requests_for_another_host_are_refused() {
    let h = Harness::start(&[]).await;
    let port = h.portal_url.rsplit(':').next().unwrap().to_owned();
    let get = |host: String, path: &'static str| {
        let http = h.http.clone();
        let url = format!("{}{path}", h.portal_url);
        async move {
            http.get(url)
                .header("host", host)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        get(format!("rebind.evil.example:{port}"), "/admin/uploads.csv").await,
        421
    );
    assert_eq!(get(format!("rebind.evil.example:{port}"), "/").await, 421);
    assert_eq!(
        get(format!("127.0.0.1:{port}"), "/admin/uploads.csv").await,
        200
    );
    assert_eq!(get(format!("localhost:{port}"), "/").await, 200);
    assert_eq!(get("10.1.2.3:8080".into(), "/healthz").await, 200);
}

/// W7: showing pages writes nothing; unused tickets are forgotten after they expire; a user
/// holds a bounded number of unfinished tickets.
#[tokio::test]
async fn page_views_and_unused_tickets_do_not_grow_the_ledger() {
    let h = Harness::start(&["--sign-rate", "0", "--policy-ttl", "60"]).await;
    let rows = || async {
        let query = upload_portal::model::LedgerQuery::default();
        h.state.ledger.page(&query, None).await.unwrap().total
    };
    for _ in 0..5 {
        assert_eq!(
            h.http.get(&h.portal_url).send().await.unwrap().status(),
            200
        );
        assert_eq!(
            h.http.head(&h.portal_url).send().await.unwrap().status(),
            200
        );
        assert_eq!(h.call("portal_settings", json!({})).await.status(), 200);
    }
    assert_eq!(rows().await, 0, "a page view writes nothing");
    let files: Vec<Value> = (0..100)
        .map(|i| json!({"name": format!("{i}.png"), "size": 1, "content_type": "image/png"}))
        .collect();
    let batch = json!({"batch": {"files": files, "naming": "random", "folder": "uploads/"}});
    for _ in 0..10 {
        assert_eq!(h.call("sign_uploads", batch.clone()).await.status(), 200);
    }
    let over = h.call("sign_uploads", batch.clone()).await;
    assert_eq!(over.status(), 429);
    let error: Value = over.json().await.unwrap();
    assert_eq!(error["Limited"]["limit"]["Pending"]["max"], 1000);
    assert_eq!(rows().await, 1000);
    let later = time::OffsetDateTime::now_utc() + time::Duration::seconds(120);
    let counts = check_expired_tickets(&h.state, later).await.unwrap();
    assert_eq!(counts.forgotten, 500, "one pass takes 500");
    check_expired_tickets(&h.state, later).await.unwrap();
    assert_eq!(rows().await, 0, "unused tickets are forgotten");
    assert_eq!(h.call("sign_uploads", batch).await.status(), 200);
}

/// W8: a cross-site form post cannot sign anyone in; the no-JS reply redirects only home.
#[tokio::test]
async fn cross_site_writes_are_refused() {
    let (h, _users) = with_users(&[]).await;
    let post = |origin: Option<&'static str>, fetch_site: Option<&'static str>| {
        let mut request = h
            .http
            .post(format!("{}/api/login", h.portal_url))
            .header("accept", "text/html")
            .header("referer", "https://evil.example/x")
            .form(&[("name", "alice"), ("password", ALICE_PASSWORD)]);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(site) = fetch_site {
            request = request.header("sec-fetch-site", site);
        }
        request.send()
    };
    let bucket_origin = h.bucket_url.trim_end_matches('/').to_owned();
    for (origin, site) in [
        (Some("https://evil.example"), None),
        (Some("null"), None),
        (None, Some("cross-site")),
        // A page on the bucket's origin: same site, another origin.
        (None, Some("same-site")),
    ] {
        let refused = post(origin, site).await.unwrap();
        assert_eq!(refused.status(), 400, "{origin:?} {site:?}");
        assert!(refused.headers().get("set-cookie").is_none());
        assert_eq!(
            refused.json::<Value>().await.unwrap(),
            json!({"Invalid": "CrossSite"})
        );
    }
    let from_bucket = h
        .http
        .post(format!("{}/api/login", h.portal_url))
        .header("origin", bucket_origin)
        .form(&[("name", "alice"), ("password", ALICE_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(from_bucket.status(), 400);
    // From the portal's own page: signed in, and sent back to the portal only.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let own = no_redirects
        .post(format!("{}/api/login", h.portal_url))
        .header("accept", "text/html")
        .header("origin", h.portal_url.clone())
        .header("referer", "https://evil.example/x")
        .form(&[("name", "alice"), ("password", ALICE_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 302);
    assert_eq!(own.headers()["location"], "/");
    assert!(own.headers().contains_key("set-cookie"));
}

/// W9: nobody can lock a user out from elsewhere, nor every team in codes mode.
#[tokio::test]
async fn sign_in_limits_lock_nobody_out() {
    let from = |address: &str| {
        reqwest::Client::builder()
            .local_address(address.parse::<std::net::IpAddr>().unwrap())
            .build()
            .unwrap()
    };
    let (h, _users) = with_users(&[]).await;
    let attacker = from("127.0.0.2");
    for i in 0..11 {
        attacker
            .post(format!("{}/api/login", h.portal_url))
            .form(&[("name", "alice"), ("password", &format!("wrong{i}"))])
            .send()
            .await
            .unwrap();
    }
    let locked = attacker
        .post(format!("{}/api/login", h.portal_url))
        .form(&[("name", "alice"), ("password", ALICE_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        locked.status(),
        429,
        "the attacker's own address is held back"
    );
    let alice = from("127.0.0.3")
        .post(format!("{}/api/login", h.portal_url))
        .form(&[("name", "alice"), ("password", ALICE_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(alice.status(), 200, "alice signs in from her own address");

    let codes = Harness::start(&[
        "--access",
        "codes",
        "--access-codes",
        "team-a=first long code,team-b=second long code",
    ])
    .await;
    for i in 0..11 {
        attacker
            .post(format!("{}/api/login", codes.portal_url))
            .form(&[("name", ""), ("password", &format!("wrong code {i}"))])
            .send()
            .await
            .unwrap();
    }
    let team = from("127.0.0.3")
        .post(format!("{}/api/login", codes.portal_url))
        .form(&[("name", ""), ("password", "second long code")])
        .send()
        .await
        .unwrap();
    assert_eq!(team.status(), 200, "another team's code still works");
}

/// Minor: malformed input is a 400; refusals carry the security headers; the CSV is not
/// stored by caches; `/uploaded` decodes its query once.
#[tokio::test]
async fn minor_findings_hold() {
    let (h, _users) = with_users(&[]).await;
    let alice = session(&h, "alice", ALICE_PASSWORD).await;
    let malformed = call_as(
        &h,
        Some(&alice),
        "sign_uploads",
        json!({"batch": {"files": [{"name": "a", "size": "x", "content_type": ""}], "naming": "random", "folder": "f"}}),
    )
    .await;
    assert_eq!(malformed.status(), 400);
    assert_eq!(
        malformed.json::<Value>().await.unwrap(),
        json!({"Invalid": "Unreadable"})
    );
    let too_big = h
        .http
        .post(format!("{}/api/sign_uploads", h.portal_url))
        .header("content-type", "application/json")
        .body(vec![b' '; 400 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), 413);
    for name in [
        "x-content-type-options",
        "content-security-policy",
        "x-frame-options",
        "referrer-policy",
    ] {
        assert!(too_big.headers().contains_key(name), "413 lacks {name}");
    }
    let root = session(&h, "root", common::ROOT_PASSWORD).await;
    let csv = h
        .http
        .get(format!("{}/admin/uploads.csv", h.portal_url))
        .header("cookie", &root)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert_eq!(csv.headers()["cache-control"], "no-store");
    let page = h
        .http
        .get(format!(
            "{}/uploaded?key=uploads%2Falice%2Fx%2541b&etag=00",
            h.portal_url
        ))
        .header("cookie", &alice)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("uploads/alice/x%41b"), "decoded once");
    assert!(!page.contains("uploads/alice/xAb"), "not twice");
    let wrong = login(&h, "alice", "nope-nope").await;
    assert_eq!(wrong.status(), 400);
}

/// Minor: with an https public URL, browsers are told to keep to https.
#[tokio::test]
async fn https_portals_send_hsts() {
    let h = Harness::start(&[
        "--access",
        "codes",
        "--access-codes",
        "a long enough code",
        "--public-url",
        "https://{portal}",
    ])
    .await;
    let page = h.http.get(&h.portal_url).send().await.unwrap();
    assert_eq!(
        page.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let plain = Harness::start(&[]).await;
    let page = plain.http.get(&plain.portal_url).send().await.unwrap();
    assert!(page.headers().get("strict-transport-security").is_none());
}
