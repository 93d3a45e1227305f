//! Upload requests over real sockets: creating one (and who may), its link's page, joining it
//! (password, name, note), sending through it with a pass (the request's folder, naming, sizes,
//! types and counts across senders), closing it, its CSV and live arrivals, and their abuse.
//! `LEDGER_DATABASE_URL` (a PostgreSQL URL) runs the same tests against PostgreSQL.
#![cfg(feature = "ssr")]

mod common;

use common::{file, session, with_users, Harness, ALICE_PASSWORD, ROOT_PASSWORD};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Creates a request as `cookie` from form `fields` (besides the defaults); its id, or the
/// refusal's status and body.
async fn create(
    h: &Harness,
    cookie: &str,
    fields: &[(&str, &str)],
) -> Result<String, (u16, String)> {
    let mut form: Vec<(&str, &str)> = vec![
        ("title", "Trip photos"),
        ("instructions", "Send your best ones."),
        ("folder", "trip"),
        ("expires", ""),
        ("max_files", ""),
        ("max_file_size_mb", ""),
        ("max_total_mb", ""),
        ("allowed_types", ""),
        ("password", ""),
        ("naming", "original"),
        ("ask_name", "on"),
        ("webhook_url", ""),
        ("webhook_kind", "json"),
    ];
    for (name, value) in fields {
        form.retain(|(n, _)| n != name);
        form.push((name, value));
    }
    let response = h
        .http
        .post(format!("{}/api/create_request", h.portal_url))
        .header("cookie", cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    if status == 200 {
        Ok(serde_json::from_str::<String>(&body).unwrap())
    } else {
        Err((status, body))
    }
}

/// The link token of request `id` (what its creator's page shows).
fn token(h: &Harness, id: &str) -> String {
    h.state.links.link_token(id)
}

/// Joins a request as a sender; the pass from the cookie it sets, or the refusal.
async fn join(
    h: &Harness,
    token: &str,
    password: &str,
    name: &str,
    note: &str,
) -> Result<String, (u16, String)> {
    let response = h
        .http
        .post(format!("{}/api/join_request", h.portal_url))
        .form(&[
            ("token", token),
            ("password", password),
            ("name", name),
            ("note", note),
        ])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    if status != 200 {
        return Err((status, response.text().await.unwrap()));
    }
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains(&format!("Path=/r/{token}")), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    let pass = cookie
        .split(';')
        .next()
        .unwrap()
        .strip_prefix("portal_pass=")
        .unwrap();
    Ok(pass.to_owned())
}

/// A sender's upload call, under their pass.
async fn as_sender(h: &Harness, pass: &str, endpoint: &str, body: Value) -> (u16, Value) {
    let response = h
        .http
        .post(format!("{}/r/{pass}/api/{endpoint}", h.portal_url))
        .json(&body)
        .send()
        .await
        .unwrap();
    answer(response).await
}

/// A server fn's status and answer (JSON, or else its text).
async fn answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// What an event stream sent until `needle` showed (10 s at most for each piece).
async fn read_until(
    body: &mut (impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    needle: &str,
) -> String {
    use futures::StreamExt;
    let mut seen = String::new();
    while !seen.contains(needle) {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), body.next())
            .await
            .unwrap_or_else(|_| panic!("no {needle:?} within 10 s: {seen}"))
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    seen
}

/// Signs `files` for a sender (asking for another folder and naming: the request decides).
async fn sign_as_sender(h: &Harness, pass: &str, files: Value) -> (u16, Value) {
    as_sender(
        h,
        pass,
        "sign_uploads",
        json!({"batch": {"files": files, "naming": "random", "folder": "uploads/bob/"}}),
    )
    .await
}

/// Uploads and confirms one text file as a sender; the key.
async fn send(h: &Harness, pass: &str, name: &str, data: &[u8]) -> String {
    let (status, tickets) = sign_as_sender(
        h,
        pass,
        json!([file(name, data.len() as u64, "text/plain")]),
    )
    .await;
    assert_eq!(status, 200, "{tickets}");
    let ticket = &tickets[0];
    let stored = h.upload(ticket, name, data).await;
    assert_eq!(stored.status(), 200);
    let etag = stored.headers()["etag"]
        .to_str()
        .unwrap()
        .trim_matches('"')
        .to_owned();
    let key = ticket["key"].as_str().unwrap().to_owned();
    let (status, confirmed) =
        as_sender(h, pass, "confirm_upload", json!({"key": key, "etag": etag})).await;
    assert_eq!(status, 200, "{confirmed}");
    key
}

async fn page(h: &Harness, path: &str, cookie: Option<&str>) -> (u16, String) {
    let mut request = h.http.get(format!("{}{path}", h.portal_url));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_request_collects_files_from_anyone_into_its_folder() {
    let (h, _users) = with_users(&[]).await;
    let alice = session(&h, "alice", ALICE_PASSWORD).await;
    let id = create(&h, &alice, &[("ask_note", "on"), ("sender_folders", "on")])
        .await
        .unwrap();
    let token = token(&h, &id);

    // The link's page: no account needed; it asks for the name and note first.
    let (status, html) = page(&h, &format!("/r/{token}"), None).await;
    assert_eq!(status, 200);
    assert!(html.contains("Trip photos") && html.contains("Send your best ones."));
    assert!(
        html.contains("name=\"name\"") && html.contains("name=\"note\""),
        "{html}"
    );

    // Joining: the name and note are required, one line for the name, bounded.
    assert!(join(&h, &token, "", "", "hi")
        .await
        .unwrap_err()
        .1
        .contains("NameRequired"));
    assert!(join(&h, &token, "", "Li Lei", "")
        .await
        .unwrap_err()
        .1
        .contains("NoteRequired"));
    assert!(join(&h, &token, "", "Li\nLei", "x")
        .await
        .unwrap_err()
        .1
        .contains("ControlCharacters"));
    assert!(join(&h, &token, "", &"x".repeat(101), "x")
        .await
        .unwrap_err()
        .1
        .contains("TooLong"));
    let pass = join(&h, &token, "", "Li Lei", "From the\nsecond day")
        .await
        .unwrap();

    // With the pass kept in its cookie, the page shows the uploader, calling under the pass.
    let (_, html) = page(
        &h,
        &format!("/r/{token}"),
        Some(&format!("portal_pass={pass}")),
    )
    .await;
    assert!(html.contains("Sending as <!>Li Lei"), "{html}");
    assert!(html.contains(&pass), "the island's props carry the pass");

    // Sending: the request's folder (and the sender's sub-folder) and naming, whatever the page asked.
    let key = send(&h, &pass, "notes.txt", b"hello").await;
    assert_eq!(key, "uploads/alice/trip/Li Lei/notes.txt");
    let entry = h
        .state
        .ledger
        .latest_for_key(&key, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.user, "alice");
    assert_eq!(entry.request_id, id);
    assert_eq!(
        (entry.sender_name.as_str(), entry.sender_note.as_str()),
        ("Li Lei", "From the\nsecond day")
    );
    assert!(entry.completed_at.is_some());

    // The creator's page: the link, a QR code, what arrived; the CSV has the sender's columns.
    let (status, html) = page(&h, &format!("/requests/{id}"), Some(&alice)).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("/r/{token}")) && html.contains("<svg"),
        "{html}"
    );
    assert!(html.contains("notes.txt") && html.contains("Li Lei"));
    let csv = h
        .http
        .get(format!("{}/requests/{id}/uploads.csv", h.portal_url))
        .header("cookie", &alice)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv
        .lines()
        .next()
        .unwrap()
        .ends_with(",request_id,sender_name,sender_note"));
    assert!(
        csv.contains(&format!("{id},Li Lei,\"From the\nsecond day\"")),
        "{csv}"
    );
    // Listed on the creator's requests page.
    let (_, html) = page(&h, "/requests", Some(&alice)).await;
    assert!(
        html.contains("Trip photos") && html.contains("1 files"),
        "{html}"
    );
}

#[tokio::test]
async fn arrivals_stream_to_the_creator_as_they_complete() {
    let (h, _users) = with_users(&[]).await;
    let alice = session(&h, "alice", ALICE_PASSWORD).await;
    let id = create(&h, &alice, &[("ask_name", "")]).await.unwrap();
    // Nothing is asked: the page hands out a pass at once.
    let (_, html) = page(&h, &format!("/r/{}", token(&h, &id)), None).await;
    let pass = h.state.links.pass(&id, "", "");
    assert!(html.contains(&pass));

    // Someone else cannot listen.
    let bob = session(&h, "bob", "bob-password-1").await;
    let refused = h
        .http
        .get(format!("{}/requests/{id}/events", h.portal_url))
        .header("cookie", &bob)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);

    let events = h
        .http
        .get(format!("{}/requests/{id}/events?since=0", h.portal_url))
        .header("cookie", &alice)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    assert!(events.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut body = events.bytes_stream();
    send(&h, &pass, "live.txt", b"live").await;
    let seen = read_until(&mut body, "live.txt").await;
    let entry = h
        .state
        .ledger
        .arrivals(&id, 0)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert!(
        seen.contains(&format!("id: {}", entry.id)) && seen.contains("<tr"),
        "{seen}"
    );
    // A stream still open does not hold up stopping the portal (SIGTERM).
    tokio::time::timeout(std::time::Duration::from_secs(10), h.stop())
        .await
        .expect("the portal stops with an event stream open");
    drop(body);
}

#[tokio::test]
async fn every_signing_holds_to_the_requests_rules() {
    let (h, _users) = with_users(&[]).await;
    let alice = session(&h, "alice", ALICE_PASSWORD).await;
    let id = create(
        &h,
        &alice,
        &[
            ("ask_name", ""),
            ("max_files", "3"),
            ("max_file_size_mb", "1"),
            ("allowed_types", "text/*, .pdf"),
        ],
    )
    .await
    .unwrap();
    let pass = h.state.links.pass(&id, "", "");

    let too_big = sign_as_sender(&h, &pass, json!([file("a.txt", 1_000_001, "text/plain")])).await;
    assert_eq!(too_big.0, 400, "{}", too_big.1);
    assert!(too_big.1.to_string().contains("TooLarge"));
    let html = sign_as_sender(&h, &pass, json!([file("a.html", 10, "image/png")])).await;
    assert!(html.1.to_string().contains("TypeRefused"), "{}", html.1);
    let pdf = sign_as_sender(
        &h,
        &pass,
        json!([file("a.PDF", 10, "application/octet-stream")]),
    )
    .await;
    assert_eq!(pdf.0, 200, "a rule by extension: {}", pdf.1);

    // Tickets count as soon as they are signed, across senders: 1 + 2 = 3, then no more.
    let other = h.state.links.pass(&id, "", "");
    let two = sign_as_sender(
        &h,
        &other,
        json!([
            file("b.txt", 1, "text/plain"),
            file("c.txt", 1, "text/plain")
        ]),
    )
    .await;
    assert_eq!(two.0, 200, "{}", two.1);
    let full = sign_as_sender(&h, &pass, json!([file("d.txt", 1, "text/plain")])).await;
    assert_eq!(full.0, 400);
    assert!(
        full.1.to_string().contains("RequestFullFiles"),
        "{}",
        full.1
    );
    // Nothing was recorded for the refused ones.
    assert_eq!(h.state.ledger.received(&id).await.unwrap().files, 3);
}

#[tokio::test]
async fn senders_signing_at_once_never_pass_the_count() {
    let (h, _users) = with_users(&[]).await;
    let alice = session(&h, "alice", ALICE_PASSWORD).await;
    let id = create(&h, &alice, &[("ask_name", ""), ("max_files", "3")])
        .await
        .unwrap();
    let pass = h.state.links.pass(&id, "", "");
    let tries = (0..12).map(|n| {
        let (h, pass) = (&h, pass.clone());
        async move {
            sign_as_sender(
                h,
                &pass,
                json!([file(&format!("f{n}.txt"), 1, "text/plain")]),
            )
            .await
            .0
        }
    });
    let statuses = futures::future::join_all(tries).await;
    let granted = statuses.iter().filter(|s| **s == 200).count();
    assert!((1..=3).contains(&granted), "{statuses:?}");
    assert!(h.state.ledger.received(&id).await.unwrap().files <= 3);
}

#[tokio::test]
async fn passwords_closing_and_forgeries_are_refused() {
    let (h, _users) = with_users(&[]).await;
    let alice = session(&h, "alice", ALICE_PASSWORD).await;
    let id = create(&h, &alice, &[("password", "open sesame"), ("ask_name", "")])
        .await
        .unwrap();
    let token = token(&h, &id);
    let (_, html) = page(&h, &format!("/r/{token}"), None).await;
    assert!(html.contains("type=\"password\""));
    assert!(join(&h, &token, "wrong", "", "")
        .await
        .unwrap_err()
        .1
        .contains("WrongPassword"));
    let pass = join(&h, &token, "open sesame", "", "").await.unwrap();
    // Password tries are rate limited per address and request (10 a minute by default).
    let mut limited = false;
    for _ in 0..12 {
        if let Err((429, _)) = join(&h, &token, "wrong", "", "").await {
            limited = true;
        }
    }
    assert!(limited);

    // Unknown, malformed or forged links and passes.
    let (_, html) = page(&h, "/r/AAAAAAAAAAAAAAAAAAAAAA", None).await;
    assert!(html.contains("This link is not valid"), "{html}");
    let (_, html) = page(&h, "/r/<script>", None).await;
    assert!(!html.contains("<script>alert") && html.contains("not valid"));
    // The stamp's last character changed (to one it is not).
    let last = if pass.ends_with('x') { "y" } else { "x" };
    let forged = format!("{}{last}", &pass[..pass.len() - 1]);
    let (status, body) = sign_as_sender(&h, &forged, json!([file("a.txt", 1, "text/plain")])).await;
    assert_eq!(status, 400);
    assert!(body.to_string().contains("RequestClosed"));
    // A pass reaches the upload calls only, never the creator's own pages or data.
    let (status, _) = as_sender(&h, &pass, "my_uploads", json!({"page": 1})).await;
    assert_eq!(status, 404);

    // Someone else's request is not theirs to see, close or export; an administrator's is.
    let bob = session(&h, "bob", "bob-password-1").await;
    let (_, html) = page(&h, &format!("/requests/{id}"), Some(&bob)).await;
    assert!(html.contains("No such request of yours") && !html.contains(&token));
    let csv = h
        .http
        .get(format!("{}/requests/{id}/uploads.csv", h.portal_url))
        .header("cookie", &bob)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 400);
    let closed_by_bob = h
        .http
        .post(format!("{}/api/close_request", h.portal_url))
        .header("cookie", &bob)
        .form(&[("id", id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(closed_by_bob.status(), 400);
    let root = session(&h, "root", ROOT_PASSWORD).await;
    let (_, html) = page(&h, &format!("/requests/{id}"), Some(&root)).await;
    assert!(html.contains(&token));
    // Everyone's requests: for an administrator; anyone else asking sees their own.
    let listed = |cookie: String| {
        let h = &h;
        async move {
            h.http
                .post(format!("{}/api/my_requests", h.portal_url))
                .header("cookie", cookie)
                .form(&[("everyone", "true")])
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(listed(root.clone()).await[0][0]["id"], json!(id));
    assert_eq!(listed(bob.clone()).await[0], json!([]));

    // Closed: the page says so, and nothing more is signed, even with a pass.
    let closed = h
        .http
        .post(format!("{}/api/close_request", h.portal_url))
        .header("cookie", &alice)
        .form(&[("id", id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(closed.status(), 200);
    let (_, html) = page(&h, &format!("/r/{token}"), None).await;
    assert!(html.contains("This request is closed"), "{html}");
    let (status, body) = sign_as_sender(&h, &pass, json!([file("a.txt", 1, "text/plain")])).await;
    assert_eq!(status, 400);
    assert!(body.to_string().contains("RequestClosed"));
}

#[tokio::test]
async fn creating_is_checked_and_can_be_withheld() {
    let (h, _users) = with_users(&[]).await;
    let alice = session(&h, "alice", ALICE_PASSWORD).await;
    for (fields, why) in [
        (vec![("title", " ")], "TitleRequired"),
        (vec![("folder", "../bob")], "Folder"),
        (vec![("max_files", "-1")], "BadNumber"),
        (vec![("expires", "2020-01-01T00:00")], "BadExpiry"),
        (vec![("allowed_types", "<b>")], "BadTypes"),
    ] {
        let (status, body) = create(&h, &alice, &fields).await.unwrap_err();
        assert_eq!(status, 400);
        assert!(body.contains(why), "{why}: {body}");
    }
    assert!(h.state.ledger.requests(None, 10).await.unwrap().is_empty());
    // Without a session: nothing.
    let anonymous = h
        .http
        .post(format!("{}/api/create_request", h.portal_url))
        .form(&[("title", "x")])
        .send()
        .await
        .unwrap();
    assert_ne!(anonymous.status(), 200);

    // Turned off for the portal: nobody creates, and links take nothing more.
    let id = create(&h, &alice, &[("ask_name", "")]).await.unwrap();
    let (off, _users) = with_users(&["--requests", "false"]).await;
    let alice_off = session(&off, "alice", ALICE_PASSWORD).await;
    let (status, body) = create(&off, &alice_off, &[]).await.unwrap_err();
    assert_eq!(status, 400);
    assert!(body.contains("NotAllowed"));
    let _ = id;
}

/// A webhook receiver on loopback: answers 500 to the first POST and 200 after, and keeps
/// what it was sent (headers and body).
async fn receiver() -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<(axum::http::HeaderMap, String)>>>,
) {
    use std::sync::{Arc, Mutex};
    let got: Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>> = Arc::default();
    let kept = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let kept = kept.clone();
            async move {
                let mut all = kept.lock().unwrap();
                all.push((headers, body));
                if all.len() == 1 {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

#[tokio::test]
async fn arrivals_are_posted_to_the_webhook_signed_and_retried() {
    let (url, got) = receiver().await;
    // Loopback is refused unless the administrator allows private addresses.
    let (h, _users) = with_users(&[]).await;
    let alice = session(&h, "alice", ALICE_PASSWORD).await;
    for bad in [
        url.as_str(),
        "ftp://example.com/",
        "http://169.254.169.254/latest",
    ] {
        let (status, body) = create(&h, &alice, &[("webhook_url", bad)])
            .await
            .unwrap_err();
        assert_eq!(status, 400);
        assert!(body.contains("BadWebhook"), "{bad}: {body}");
    }

    let (h, _users) = with_users(&["--webhook-allow-private", "true"]).await;
    let alice = session(&h, "alice", ALICE_PASSWORD).await;
    let id = create(&h, &alice, &[("webhook_url", &url)]).await.unwrap();
    let pass = h.state.links.pass(&id, "Li Lei", "");
    let key = send(&h, &pass, "hook.txt", b"hook").await;
    // The first try is refused (500); the retry a second later is taken.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while got.lock().unwrap().len() < 2 {
        assert!(std::time::Instant::now() < deadline, "no retry within 15 s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (headers, body) = got.lock().unwrap()[1].clone();
    let sent: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(sent["request"]["id"], json!(id));
    assert_eq!(sent["sender"], "Li Lei");
    assert_eq!(sent["key"], json!(key));
    assert_eq!(sent["size"], 4);
    // Signed: HMAC-SHA256 of "<timestamp>.<body>" under the request's key.
    let timestamp: i64 = headers["x-portal-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let signature = headers["x-portal-signature"].to_str().unwrap();
    let webhook_key = h.state.links.webhook_key(&id);
    assert_eq!(
        signature,
        upload_portal::server::portal::requests::webhook::signature(&webhook_key, timestamp, &body)
    );
    assert_ne!(
        signature,
        upload_portal::server::portal::requests::webhook::signature(
            "another key",
            timestamp,
            &body
        )
    );
    // The creator's page says how the last delivery went.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let request = h.state.ledger.request(&id).await.unwrap().unwrap();
        if request.webhook_status == "HTTP 200" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            request.webhook_status
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (_, html) = page(&h, &format!("/requests/{id}"), Some(&alice)).await;
    assert!(
        html.contains("HTTP 200") && html.contains(&webhook_key),
        "{html}"
    );
}

#[tokio::test]
async fn a_finished_batch_is_posted_once() {
    let (url, got) = receiver().await;
    let (h, _users) = with_users(&["--webhook-allow-private", "true"]).await;
    let alice = session(&h, "alice", ALICE_PASSWORD).await;
    let id = create(&h, &alice, &[("webhook_url", &url), ("ask_note", "on")])
        .await
        .unwrap();
    let li = h.state.links.pass(&id, "Li Lei", "day 1");
    let han = h.state.links.pass(&id, "Han Meimei", "day 1");
    let one = send(&h, &li, "one.txt", b"one").await;
    let two = send(&h, &li, "two.txt", b"two!").await;
    send(&h, &han, "hers.txt", b"hers").await;
    let batches = || {
        got.lock()
            .unwrap()
            .iter()
            .filter_map(|(_, body)| serde_json::from_str::<Value>(body).ok())
            .filter(|sent| sent["event"] == "batch")
            .collect::<Vec<_>>()
    };
    // Li Lei's page ends its batch: one message with Li Lei's two files (not Han Meimei's).
    // (As the page's beacon sends it: JSON as text/plain.)
    let ended = h
        .http
        .post(format!("{}/r/{li}/api/end_batch", h.portal_url))
        .header("content-type", "text/plain;charset=UTF-8")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while batches().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no batch message");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let batch = batches().remove(0);
    assert_eq!(batch["sender"], "Li Lei");
    assert_eq!(batch["note"], "day 1");
    assert_eq!(batch["files"], 2);
    assert_eq!(batch["bytes"], 7);
    assert_eq!(batch["uploads"][0]["key"], json!(one));
    assert_eq!(batch["uploads"][1]["key"], json!(two));
    // Told once: ending again tells nothing more; a signed-in page has no batch to tell; a
    // forged pass is refused.
    assert_eq!(as_sender(&h, &li, "end_batch", json!({})).await.0, 200);
    let signed_in = h
        .http
        .post(format!("{}/api/end_batch", h.portal_url))
        .header("cookie", &alice)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200);
    let last = if li.ends_with('x') { "y" } else { "x" };
    let forged = format!("{}{last}", &li[..li.len() - 1]);
    let (status, body) = as_sender(&h, &forged, "end_batch", json!({})).await;
    assert_ne!(status, 200, "{forged} {li}: {body}");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(batches().len(), 1, "{:?}", batches());
    // Han Meimei's batch is her own.
    assert_eq!(as_sender(&h, &han, "end_batch", json!({})).await.0, 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while batches().len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "no second batch message"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(batches()[1]["sender"], "Han Meimei");
    assert_eq!(batches()[1]["files"], 1);
}

/// "Continue on phone" as `cookie`: the status and the answer.
async fn continue_on_phone(h: &Harness, cookie: &str, folder: &str) -> (u16, Value) {
    let response = h
        .http
        .post(format!("{}/api/continue_on_phone", h.portal_url))
        .header("cookie", cookie)
        .json(&json!({"folder": folder, "naming": "original", "locale": "zh-CN"}))
        .send()
        .await
        .unwrap();
    answer(response).await
}

#[tokio::test]
async fn continue_on_phone_opens_a_short_request_heard_by_the_uploader() {
    let (h, _users) = with_users(&[]).await;
    let alice = session(&h, "alice", ALICE_PASSWORD).await;
    // The uploader offers it on a desktop, not on a phone.
    let settings = |agent: &'static str| {
        let (h, alice) = (&h, alice.clone());
        async move {
            let response = h
                .http
                .post(format!("{}/api/portal_settings", h.portal_url))
                .header("cookie", alice)
                .header("user-agent", agent)
                .send()
                .await
                .unwrap();
            response
                .json::<upload_portal::model::UploaderSettings>()
                .await
                .unwrap()
        }
    };
    assert!(settings("Mozilla/5.0 (X11; Linux x86_64)").await.phone);
    assert!(
        !settings("Mozilla/5.0 (Linux; Android 13) Mobile MicroMessenger/8.0")
            .await
            .phone
    );

    let (status, id) = continue_on_phone(&h, &alice, "uploads/alice/desk/").await;
    assert_eq!(status, 200, "{id}");
    let id = id.as_str().unwrap().to_owned();
    // Its QR code, as an image, for its creator alone.
    let bob = session(&h, "bob", "bob-password-1").await;
    let qr = |cookie: String| {
        h.http
            .get(format!("{}/requests/{id}/qr.svg", h.portal_url))
            .header("cookie", cookie)
            .send()
    };
    let image = qr(alice.clone()).await.unwrap();
    assert_eq!(image.status(), 200);
    assert_eq!(image.headers()["content-type"], "image/svg+xml");
    assert!(image.text().await.unwrap().starts_with("<svg"));
    assert_eq!(qr(bob).await.unwrap().status(), StatusCode::BAD_REQUEST);
    let request = h.state.ledger.request(&id).await.unwrap().unwrap();
    assert_eq!(request.folder, "uploads/alice/desk/");
    assert_eq!(request.creator, "alice");
    assert_eq!(request.title, "来自我的手机");
    assert_eq!(request.expires_at - request.created_at, 15 * 60);
    assert!(request.password_hash.is_empty() && !request.ask_name && !request.ask_note);

    // The uploader listens for what the phone sends, one line each.
    let events = h
        .http
        .get(format!(
            "{}/requests/{id}/events?since=0&as=line",
            h.portal_url
        ))
        .header("cookie", &alice)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    let mut body = events.bytes_stream();
    // The phone opens the link: nothing is asked, the uploader is there at once.
    let (status, html) = page(&h, &format!("/r/{}", token(&h, &id)), None).await;
    assert_eq!(status, 200);
    let pass = h.state.links.pass(&id, "", "");
    assert!(html.contains(&pass));
    let key = send(&h, &pass, "IMG_0001.jpg", b"photo").await;
    assert_eq!(key, "uploads/alice/desk/IMG_0001.jpg");
    let seen = read_until(&mut body, "IMG_0001.jpg\t").await;
    let data = seen
        .lines()
        .find_map(|line| line.strip_prefix("data: "))
        .expect("a data line");
    let arrival = upload_portal::model::PhoneArrival::from_line(data).unwrap();
    assert_eq!(arrival.name, "IMG_0001.jpg");
    assert_eq!(arrival.size, 5);
    assert_eq!(arrival.key, key);
    assert!(!arrival.etag.is_empty() && !arrival.etag.contains('"'));

    // Stop: the request takes nothing more; nobody else can stop it.
    let stop = |cookie: String| {
        h.http
            .post(format!("{}/api/stop_phone", h.portal_url))
            .header("cookie", cookie)
            // As the page's beacon sends it.
            .header("content-type", "text/plain;charset=UTF-8")
            .body(format!(r#"{{"id":"{id}"}}"#))
            .send()
    };
    let bob = session(&h, "bob", "bob-password-1").await;
    assert_eq!(stop(bob).await.unwrap().status(), 400);
    assert_eq!(stop(alice.clone()).await.unwrap().status(), 200);
    let (status, _) = sign_as_sender(&h, &pass, json!([file("late.txt", 1, "text/plain")])).await;
    assert_eq!(status, 400);

    // Never outside the reader's root (a folder is read inside it, as the uploader's field
    // shows it; climbing out is refused); not signed out.
    let (status, id) = continue_on_phone(&h, &alice, "uploads/bob/").await;
    assert_eq!(status, 200, "{id}");
    let request = h
        .state
        .ledger
        .request(id.as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(request.folder, "uploads/alice/uploads/bob/");
    let (status, body) = continue_on_phone(&h, &alice, "../bob/").await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = continue_on_phone(&h, "", "uploads/alice/").await;
    assert_ne!(status, 200);
    drop(body);
}
