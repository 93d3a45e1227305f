//! Running it in production, over real sockets: sign-in (users file with argon2 hashes, access
//! codes), sessions and sign-out, per-user roots enforced by the signer, rate limits and the
//! daily quota (429 + Retry-After), the ledger (HEAD completion, "My uploads", admin filters,
//! CSV), health and readiness, self-diagnosis of the bucket's CORS rules, security headers.
//! `LEDGER_DATABASE_URL` (a PostgreSQL URL) runs the same tests against PostgreSQL.
#![cfg(feature = "ssr")]

mod common;

use common::{
    call_as, file, login, md5_hex, session, signed, with_users, Harness, ALICE_PASSWORD,
    ROOT_PASSWORD,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// One page of the admin's ledger view for `query`, as JSON.
async fn admin_page(h: &Harness, cookie: &str, query: Value) -> Value {
    call_as(h, Some(cookie), "admin_uploads", query)
        .await
        .json()
        .await
        .unwrap()
}

/// Signs one text file for the session and posts it to the bucket; returns (key, ETag).
async fn upload_as(
    h: &Harness,
    cookie: &str,
    folder: &str,
    name: &str,
    data: &[u8],
) -> (String, String) {
    let text = file(name, data.len() as u64, "text/plain");
    let ticket = h.ticket(Some(cookie), text, "original", folder).await;
    let stored = h.upload(&ticket, name, data).await;
    assert_eq!(stored.status(), 200);
    let etag = stored.headers()["etag"]
        .to_str()
        .unwrap()
        .trim_matches('"')
        .to_owned();
    (ticket["key"].as_str().unwrap().to_owned(), etag)
}

/// `upload_as`, then the page's confirmation (which must succeed); returns (key, ETag).
async fn upload_confirmed(
    h: &Harness,
    cookie: &str,
    folder: &str,
    name: &str,
    data: &[u8],
) -> (String, String) {
    let (key, etag) = upload_as(h, cookie, folder, name, data).await;
    let confirmed = call_as(
        h,
        Some(cookie),
        "confirm_upload",
        json!({"key": key, "etag": etag}),
    )
    .await;
    assert_eq!(confirmed.status(), 200);
    (key, etag)
}

#[tokio::test]
async fn nothing_is_signed_without_a_session() {
    let (h, _users) = with_users(&[]).await;
    for (endpoint, body) in [
        (
            "sign_uploads",
            json!({"batch": {"files": [{"name": "a.txt", "size": 3, "content_type": "text/plain"}], "naming": "original", "folder": "uploads/alice/"}}),
        ),
        (
            "start_multipart",
            json!({"file": {"name": "a.bin", "size": 1, "content_type": ""}, "naming": "random", "folder": "uploads/"}),
        ),
        (
            "confirm_upload",
            json!({"key": "uploads/alice/a.txt", "etag": "00"}),
        ),
        ("admin_uploads", json!({"query": {}})),
    ] {
        let response = call_as(&h, None, endpoint, body).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{endpoint}");
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!("Unauthenticated")
        );
    }
    for (endpoint, body) in [
        ("portal_settings", ""),
        ("my_uploads", "page=1"),
        ("diagnose", ""),
        ("viewer", ""),
    ] {
        let response = h
            .http
            .post(format!("{}/api/{endpoint}", h.portal_url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{endpoint}");
    }
    // A forged cookie is no session.
    let forged = format!("portal_session={}", "ab".repeat(32));
    let files = json!([file("a.txt", 3, "text/plain")]);
    let response = h
        .sign_batch(Some(&forged), files, "original", "uploads/alice/")
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // The page offers the sign-in form instead of the uploader.
    let page = h
        .http
        .get(&h.portal_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("name=\"password\""),
        "sign-in form on the page"
    );
    assert!(!page.contains("OSSAccessKeyId") && !page.contains("x-oss-credential"));
}

#[tokio::test]
async fn users_sign_in_and_sign_only_inside_their_root() {
    let (h, _users) = with_users(&[]).await;
    assert_eq!(
        login(&h, "alice", "wrong password").await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        login(&h, "mallory", ALICE_PASSWORD).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(login(&h, "", "").await.status(), StatusCode::BAD_REQUEST);
    let response = login(&h, "alice", ALICE_PASSWORD).await;
    assert_eq!(response.status(), 200);
    let set = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    for part in ["portal_session=", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(part), "{set}");
    }
    assert!(
        !set.contains("Secure"),
        "plain http on loopback: no Secure flag"
    );
    let alice = set.split(';').next().unwrap().to_owned();
    let viewer: Value = response.json().await.unwrap();
    assert_eq!(viewer["name"], "alice");
    assert_eq!(viewer["root"], "uploads/alice/");
    assert_eq!(viewer["admin"], false);

    // Inside her root: signed, the key there.
    let text = file("a.txt", 3, "text/plain");
    let ticket = h
        .ticket(Some(&alice), text, "original", "uploads/alice/notes")
        .await;
    assert_eq!(ticket["key"], "uploads/alice/notes/a.txt");
    // Whatever the form says, never outside her root: another folder is read as one inside it
    // (as her page's field shows it, after her root), and a path climbing out is refused.
    for (folder, key) in [
        ("notes", "uploads/alice/notes/a.txt"),
        ("/uploads/alice/", "uploads/alice/a.txt"),
        ("uploads/team/bob/", "uploads/alice/uploads/team/bob/a.txt"),
        ("uploads/", "uploads/alice/uploads/a.txt"),
        ("other/", "uploads/alice/other/a.txt"),
    ] {
        let text = file("a.txt", 3, "text/plain");
        let ticket = h.ticket(Some(&alice), text, "original", folder).await;
        assert_eq!(ticket["key"], key, "{folder}");
    }
    for folder in ["uploads/alice/../bob/", "../bob", "a\\b"] {
        let files = json!([file("a.txt", 3, "text/plain")]);
        let (status, body) = h.sign(Some(&alice), files, "original", folder).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{folder}");
        assert!(
            body["Invalid"]["Folder"].is_object() || body["Invalid"]["Folder"].is_string(),
            "{folder}: {body}"
        );
    }
    // Links only inside her root too: /object redirects to what she stored, 404 elsewhere.
    let (alice_key, _) = upload_confirmed(&h, &alice, "uploads/alice/notes", "a.txt", b"abc").await;
    let link = |key: &str| {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(format!("{}/object", h.portal_url))
            .query(&[("key", key)])
            .header("cookie", &alice)
            .send()
    };
    let found = link(&alice_key).await.unwrap();
    assert_eq!(found.status(), 303);
    // A signed GET of the object (it names the download), which the bucket serves.
    let location = found.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("{}{alice_key}?", h.bucket_url)),
        "{location}"
    );
    let object = h.http.get(&location).send().await.unwrap();
    assert_eq!(object.bytes().await.unwrap().as_ref(), b"abc");
    assert_eq!(link("uploads/team/bob/x.txt").await.unwrap().status(), 404);
    assert_eq!(link("uploads/alice/never.txt").await.unwrap().status(), 404);

    // Signed out: the same cookie no longer works (the session is gone from the database).
    let out = call_as(&h, Some(&alice), "logout", json!({})).await;
    assert_eq!(out.status(), 200);
    assert!(out.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let files = json!([file("a.txt", 3, "text/plain")]);
    let after = h
        .sign_batch(Some(&alice), files, "original", "uploads/alice/")
        .await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn sign_in_attempts_are_rate_limited() {
    let (h, _users) = with_users(&["--login-rate", "3"]).await;
    for _ in 0..3 {
        assert_eq!(
            login(&h, "alice", "guess").await.status(),
            StatusCode::BAD_REQUEST
        );
    }
    let limited = login(&h, "alice", ALICE_PASSWORD).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(
        limited.headers().get("set-cookie").is_none(),
        "no session while limited"
    );
    assert_eq!(
        limited.json::<Value>().await.unwrap()["Limited"]["limit"],
        json!("Logins")
    );
}

#[tokio::test]
async fn signing_is_rate_limited_and_the_daily_quota_holds() {
    let (h, _users) = with_users(&["--sign-rate", "3", "--daily-bytes", "10"]).await;
    let alice = session(&h, "alice", ALICE_PASSWORD).await;
    // 8 of 10 bytes: fine. 3 more: over the quota, refused with the figures.
    let files = json!([file("a.txt", 8, "text/plain")]);
    let first = h
        .sign_batch(Some(&alice), files, "original", "uploads/alice/")
        .await;
    assert_eq!(first.status(), 200);
    let files = json!([file("b.txt", 3, "text/plain")]);
    let over = h
        .sign_batch(Some(&alice), files, "original", "uploads/alice/")
        .await;
    assert_eq!(over.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(over.headers().contains_key("retry-after"));
    let body: Value = over.json().await.unwrap();
    assert_eq!(
        body["Limited"]["limit"]["DailyBytes"],
        json!({"limit": 10, "used": 8, "asked": 3})
    );
    // The third request of the minute passes the rate limit (2 bytes fit the quota)...
    let files = json!([file("c.txt", 2, "text/plain")]);
    let third = h
        .sign_batch(Some(&alice), files, "original", "uploads/alice/")
        .await;
    assert_eq!(third.status(), 200, "{:?}", third.text().await);
    // ...the fourth does not.
    let files = json!([file("d.txt", 0, "text/plain")]);
    let fourth = h
        .sign_batch(Some(&alice), files, "original", "uploads/alice/")
        .await;
    assert_eq!(fourth.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = fourth.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait));
    assert_eq!(
        fourth.json::<Value>().await.unwrap()["Limited"]["limit"],
        json!("Signing")
    );
    // Bob signs from the same address, which has had its three: limited too (per address).
    let bob = session(&h, "bob", "bob-password-1").await;
    let files = json!([file("a.txt", 10, "text/plain")]);
    let his = h
        .sign_batch(Some(&bob), files, "original", "uploads/team/bob/")
        .await;
    assert_eq!(his.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_ledger_records_uploads_completed_by_head() {
    let (h, _users) = with_users(&[]).await;
    let alice = session(&h, "alice", ALICE_PASSWORD).await;
    let bob = session(&h, "bob", "bob-password-1").await;
    let data = b"ledger bytes\n";
    let (key, etag) = upload_as(&h, &alice, "uploads/alice/", "l.txt", data).await;
    assert_eq!(etag, md5_hex(data));
    // Not yet confirmed: signed, pending.
    let pending = h
        .state
        .ledger
        .latest_for_key(&key, Some("alice"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pending.completed_at, None);
    assert_eq!(pending.declared_size, data.len() as u64);
    assert_eq!(pending.content_type, "text/plain");
    assert_eq!(pending.client_ip, "127.0.0.1");

    // A wrong ETag, or someone else's key: refused, nothing completed.
    let wrong = call_as(
        &h,
        Some(&alice),
        "confirm_upload",
        json!({"key": key, "etag": "0".repeat(32)}),
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let not_his = call_as(
        &h,
        Some(&bob),
        "confirm_upload",
        json!({"key": key, "etag": etag}),
    )
    .await;
    assert_eq!(not_his.status(), StatusCode::BAD_REQUEST);
    assert!(h.completed_entries().await.is_empty());

    let confirmed = call_as(
        &h,
        Some(&alice),
        "confirm_upload",
        json!({"key": key, "etag": etag}),
    )
    .await;
    assert_eq!(confirmed.status(), 200);
    let reply: Value = confirmed.json().await.unwrap();
    assert_eq!(reply["etag"], etag);
    assert_eq!(reply["key"], key.as_str());
    let entries = h.completed_entries().await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].stored_size, Some(data.len() as u64));
    assert_eq!(entries[0].completed_by.as_deref(), Some("head"));
    // Confirming again changes nothing.
    let again = call_as(
        &h,
        Some(&alice),
        "confirm_upload",
        json!({"key": key, "etag": etag}),
    )
    .await;
    assert_eq!(again.json::<Value>().await.unwrap()["etag"], etag);
    assert_eq!(
        h.completed_entries().await[0].completed_at,
        entries[0].completed_at
    );

    // An object signed but never stored cannot be confirmed.
    let text = file("ghost.txt", 5, "text/plain");
    let ticket = h
        .ticket(Some(&alice), text, "original", "uploads/alice/")
        .await;
    let ghost = ticket["key"].as_str().unwrap().to_owned();
    let refused = call_as(
        &h,
        Some(&alice),
        "confirm_upload",
        json!({"key": ghost, "etag": md5_hex(b"ghost")}),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);

    // "My uploads": hers, stored ones, newest first, with link and ETag; Bob sees none of them.
    let mine = h
        .http
        .post(format!("{}/api/my_uploads", h.portal_url))
        .header("cookie", &alice)
        .form(&[("page", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(mine.status(), 200);
    let page: Value = mine.json().await.unwrap();
    assert_eq!(page["total"], 1);
    assert_eq!(page["entries"][0]["key"], key);
    assert_eq!(page["entries"][0]["etag"], etag);
    // The page links through the portal, which sends the browser on to the object.
    assert_eq!(
        page["entries"][0]["url"],
        "/object?key=uploads%2Falice%2Fl%2Etxt"
    );
    let his = h
        .http
        .post(format!("{}/api/my_uploads", h.portal_url))
        .header("cookie", &bob)
        .form(&[("page", "1")])
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(his["total"], 0);
}

#[tokio::test]
async fn admins_filter_the_ledger_and_export_csv() {
    let (h, _users) = with_users(&[]).await;
    let alice = session(&h, "alice", ALICE_PASSWORD).await;
    let root = session(&h, "root", ROOT_PASSWORD).await;
    let (key, etag) = upload_confirmed(&h, &alice, "uploads/alice/", "r,eport.txt", b"a,b\n").await;
    let text = file("=cmd.txt", 1, "text/plain");
    h.ticket(Some(&root), text, "original", "uploads/").await;

    // Not for alice.
    let forbidden = call_as(&h, Some(&alice), "admin_uploads", json!({"query": {}})).await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    let csv_url = format!(
        "{}/admin/uploads.csv?user=&key_prefix=&state=all&page=1",
        h.portal_url
    );
    let denied = h
        .http
        .get(&csv_url)
        .header("cookie", &alice)
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        h.http.get(&csv_url).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    // Root sees everyone, and filters.
    let all: Value = admin_page(&h, &root, json!({"query": {}})).await;
    assert_eq!(all["total"], 2);
    let theirs: Value = admin_page(
        &h,
        &root,
        json!({"query": {"user": "alice", "state": "completed"}}),
    )
    .await;
    assert_eq!(theirs["total"], 1);
    assert_eq!(theirs["entries"][0]["key"], key);
    let pending: Value = admin_page(
        &h,
        &root,
        json!({"query": {"state": "pending", "key_prefix": "uploads/="}}),
    )
    .await;
    assert_eq!(pending["total"], 1);
    assert_eq!(pending["entries"][0]["user"], "root");
    let bad = call_as(
        &h,
        Some(&root),
        "admin_uploads",
        json!({"query": {"user": "a b"}}),
    )
    .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    // The CSV: a header, one line per entry, quoted where needed, formulas defused.
    let csv = h
        .http
        .get(&csv_url)
        .header("cookie", &root)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("id,user,key,declared_size,content_type,signed_at"));
    let alice_line = lines.iter().find(|l| l.contains(",alice,")).unwrap();
    assert!(alice_line.contains(&format!("\"{key}\"")), "{alice_line}");
    assert!(alice_line.contains(&etag));
    assert!(alice_line.contains(",head,127.0.0.1,"));
    let root_line = lines.iter().find(|l| l.contains(",root,")).unwrap();
    assert!(
        root_line.contains(",'=cmd.txt") || root_line.contains("uploads/=cmd.txt"),
        "{root_line}"
    );
}

#[tokio::test]
async fn access_codes_sign_in_under_their_label() {
    let h = Harness::start(&[
        "--access",
        "codes",
        "--access-codes",
        "team-a=open sesame 1,longenough",
    ])
    .await;
    let response = login(&h, "", "open sesame 1").await;
    assert_eq!(response.status(), 200);
    let viewer: Value = response.json().await.unwrap();
    assert_eq!(viewer["name"], "team-a");
    assert_eq!(viewer["root"], "uploads/");
    assert_eq!(
        login(&h, "", "open sesame 2").await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        login(&h, "", "longenough")
            .await
            .json::<Value>()
            .await
            .unwrap()["name"],
        "code-2"
    );
}

#[test]
fn open_access_needs_loopback_alone_or_force() {
    use clap::Parser;
    use upload_portal::server::config::Config;
    let config = |extra: &[&str]| {
        let mut args = vec!["upload-portal", "--site-addr", "0.0.0.0:3000"];
        args.extend_from_slice(extra);
        Config::try_parse_from(args).unwrap().validate()
    };
    let refused = config(&[]).unwrap_err().to_string();
    assert!(refused.starts_with("PORTAL_ACCESS:"), "{refused}");
    assert!(config(&["--force-open", "true"]).is_ok());
    assert!(config(&["--access", "users"])
        .unwrap_err()
        .to_string()
        .starts_with("PORTAL_USERS_FILE"));
    assert!(config(&["--access", "codes", "--access-codes", "short"])
        .unwrap_err()
        .to_string()
        .starts_with("PORTAL_ACCESS_CODES"));
    assert!(
        config(&["--force-open", "true", "--database-url", "mysql://x"])
            .unwrap_err()
            .to_string()
            .starts_with("DATABASE_URL")
    );
    // On loopback, but reachable from elsewhere all the same (W6): refused, and never admin.
    let on_loopback = |extra: &[&str]| {
        let mut args = vec!["upload-portal", "--site-addr", "127.0.0.1:3000"];
        args.extend_from_slice(extra);
        Config::try_parse_from(args).unwrap().validate()
    };
    for reachable in [
        &["--behind-proxy", "true"][..],
        &["--public-url", "https://uploads.example.com"],
        &["--public-url", "http://uploads.example.com"],
    ] {
        let refused = on_loopback(reachable).unwrap_err().to_string();
        assert!(
            refused.starts_with("PORTAL_ACCESS:"),
            "{reachable:?}: {refused}"
        );
        let mut forced = reachable.to_vec();
        forced.extend_from_slice(&["--force-open", "true"]);
        let settings = on_loopback(&forced).unwrap();
        assert!(matches!(
            settings.portal.access.mode,
            upload_portal::server::portal::access::AccessMode::Open { admin: false }
        ));
    }
    let local = on_loopback(&[]).unwrap();
    assert!(matches!(
        local.portal.access.mode,
        upload_portal::server::portal::access::AccessMode::Open { admin: true }
    ));
    assert!(local
        .portal
        .site
        .hosts
        .contains(&"127.0.0.1:3000".to_owned()));
    assert!(local
        .portal
        .site
        .hosts
        .contains(&"localhost:3000".to_owned()));
    // Callback keys over plain http only from this machine.
    let plain_key = on_loopback(&[
        "--callback-url",
        "http://127.0.0.1:3000/oss/callback",
        "--callback-key-urls",
        "http://keys.example.com/pub.pem",
    ])
    .unwrap_err()
    .to_string();
    assert!(
        plain_key.starts_with("OSS_CALLBACK_KEY_URLS"),
        "{plain_key}"
    );
    let no_ticket = on_loopback(&[
        "--callback-url",
        "http://127.0.0.1:3000/oss/callback",
        "--callback-body",
        "object=${object}&etag=${etag}&size=${size}",
    ])
    .unwrap_err()
    .to_string();
    assert!(no_ticket.starts_with("OSS_CALLBACK_BODY"), "{no_ticket}");
}

#[tokio::test]
async fn health_and_readiness() {
    let h = Harness::start(&[]).await;
    let health = h
        .http
        .get(format!("{}/healthz", h.portal_url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = h
        .http
        .get(format!("{}/readyz", h.portal_url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(
        ready.json::<Value>().await.unwrap(),
        json!({"ready": true, "database": "ok", "storage": "ok"})
    );
    // A storage nobody answers for: not ready, and it says which part.
    let down = Harness::start(&[
        "--target",
        "s3",
        "--bucket",
        "nowhere",
        "--s3-endpoint",
        "http://127.0.0.1:9",
    ])
    .await;
    let ready = down
        .http
        .get(format!("{}/readyz", down.portal_url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        ready.json::<Value>().await.unwrap()["storage"],
        "unreachable"
    );
}

#[tokio::test]
async fn the_admin_diagnosis_names_a_missing_etag_exposure() {
    let h = Harness::start(&[]).await;
    let diagnose = || async {
        h.http
            .post(format!("{}/api/diagnose", h.portal_url))
            .header("content-type", "application/x-www-form-urlencoded")
            .send()
            .await
            .unwrap()
            .json::<Vec<Value>>()
            .await
            .unwrap()
    };
    let check = |findings: &[Value], name: &str| {
        findings
            .iter()
            .find(|f| f["check"] == name)
            .cloned()
            .unwrap()
    };
    let healthy = diagnose().await;
    for name in ["database", "clock", "credentials", "cors"] {
        assert_eq!(check(&healthy, name)["ok"], true, "{name}: {healthy:?}");
    }
    // The operator replaces the bucket's CORS rule with one that forgets ExposeHeader ETag.
    let origin = h.portal_url.clone();
    let rule = format!(
        "<CORSConfiguration><CORSRule><AllowedOrigin>{origin}</AllowedOrigin><AllowedMethod>POST</AllowedMethod>\
         <AllowedMethod>PUT</AllowedMethod><AllowedHeader>*</AllowedHeader></CORSRule></CORSConfiguration>"
    );
    let put = signed(
        &h,
        reqwest::Method::PUT,
        "",
        &[("cors", None)],
        "application/xml",
        &[],
    )
    .body(rule)
    .send()
    .await
    .unwrap();
    assert_eq!(put.status(), 200);
    // The bucket now answers uploads without exposing the ETag...
    let preflight = h
        .http
        .request(reqwest::Method::OPTIONS, &h.bucket_url)
        .header("origin", &origin)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    let exposed = preflight
        .headers()
        .get("access-control-expose-headers")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(!exposed.contains("ETag"), "{exposed}");
    // ...and the diagnosis says exactly that.
    let findings = diagnose().await;
    let cors = check(&findings, "cors");
    assert_eq!(cors["ok"], false);
    let detail = cors["detail"].as_str().unwrap();
    assert!(
        detail.contains("does not expose the ETag header"),
        "{detail}"
    );
    assert!(detail.contains(&origin), "{detail}");
    // Unsigned, nobody changes the rules.
    let anonymous = h
        .http
        .put(format!("{}?cors", h.bucket_url))
        .body("<CORSConfiguration/>")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 403);
    // The rule survives a restart of the bucket: it is kept in the data folder.
    let kept = std::fs::read_to_string(h.bucket_root.join("cors.xml")).unwrap();
    assert!(kept.contains(&origin) && !kept.contains("ETag"));
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let h = Harness::start(&[]).await;
    let page = h.http.get(&h.portal_url).send().await.unwrap();
    let headers = page.headers().clone();
    let html = page.text().await.unwrap();
    let csp = headers["content-security-policy"].to_str().unwrap();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the page's policy")
        .to_owned();
    // Every inline script of the page carries that nonce.
    let scripts = html.matches("<script").count();
    assert!(scripts >= 2, "{html}");
    let without: Vec<&str> = html
        .split("<script")
        .skip(1)
        // An empty script runs nothing, and browsers skip it before any policy check.
        .filter(|s| !s.starts_with("></script>"))
        .filter(|s| {
            !s.split('>')
                .next()
                .unwrap()
                .contains(&format!("nonce=\"{nonce}\""))
        })
        .collect();
    assert!(without.is_empty(), "scripts without the nonce: {without:?}");
    // The bucket's origin (its URL is path-style on an IP: http://127.0.0.1:<port>/<bucket>/).
    let bucket_origin = h
        .bucket_url
        .split('/')
        .take(3)
        .collect::<Vec<_>>()
        .join("/");
    assert!(
        csp.contains(&format!("connect-src 'self' {bucket_origin};")),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"));
    for response in [
        headers,
        h.http
            .get(format!("{}/nowhere", h.portal_url))
            .send()
            .await
            .unwrap()
            .headers()
            .clone(),
        h.call("sign_uploads", json!({"batch": 1}))
            .await
            .headers()
            .clone(),
    ] {
        assert_eq!(response["x-content-type-options"], "nosniff");
        assert_eq!(response["x-frame-options"], "DENY");
        assert_eq!(response["referrer-policy"], "same-origin");
        assert!(response.contains_key("content-security-policy"));
        assert_eq!(
            response["x-request-id"].len(),
            36,
            "a request id on every response"
        );
    }
    // Two pages, two nonces.
    let again = h.http.get(&h.portal_url).send().await.unwrap();
    assert!(!again.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains(&nonce));
}

/// The ledger entries of `cookie`'s "My uploads", first page.
async fn my_entries(h: &Harness, cookie: &str) -> Vec<Value> {
    let page: Value = h
        .http
        .post(format!("{}/api/my_uploads", h.portal_url))
        .header("cookie", cookie)
        .form(&[("page", "1")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["entries"].as_array().unwrap().clone()
}

async fn delete_as(h: &Harness, cookie: &str, id: &str) -> reqwest::Response {
    h.http
        .post(format!("{}/api/delete_upload", h.portal_url))
        .header("cookie", cookie)
        .form(&[("id", id)])
        .send()
        .await
        .unwrap()
}

/// Delete: the owner's own uploads, an admin's any; the object leaves the storage, the entry
/// stays marked (and exported); nobody else's, nothing twice, nothing from another site.
#[tokio::test]
async fn owners_delete_their_uploads_and_the_ledger_keeps_the_record() {
    let (h, _users) = with_users(&[]).await;
    let alice = session(&h, "alice", ALICE_PASSWORD).await;
    let bob = session(&h, "bob", "bob-password-1").await;
    let root = session(&h, "root", ROOT_PASSWORD).await;
    let (key, _) = upload_confirmed(&h, &alice, "uploads/alice/", "gone.txt", b"bye").await;
    let (his, _) = upload_confirmed(&h, &bob, "uploads/team/bob/", "his.txt", b"his").await;
    let id = my_entries(&h, &alice).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let his_id = my_entries(&h, &bob).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Bob cannot delete Alice's upload (nor learn that it exists), nor can a stranger.
    let refused = delete_as(&h, &bob, &id).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let anonymous = h
        .http
        .post(format!("{}/api/delete_upload", h.portal_url))
        .form(&[("id", id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    // A page on another site cannot make Alice's browser delete it.
    let forged = h
        .http
        .post(format!("{}/api/delete_upload", h.portal_url))
        .header("cookie", &alice)
        .header("origin", "https://evil.example")
        .form(&[("id", id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    assert!(forged.text().await.unwrap().contains("CrossSite"));
    assert!(h.object_path(&key).exists());

    // Alice deletes it: the object is gone, the entry is kept and says so, the link is gone.
    assert_eq!(delete_as(&h, &alice, &id).await.status(), StatusCode::OK);
    assert!(!h.object_path(&key).exists());
    let entry = &my_entries(&h, &alice).await[0];
    assert_eq!(entry["id"], id.as_str());
    assert!(entry["deleted_at"].as_i64().is_some(), "{entry}");
    assert_eq!(entry["deleted_by"], "alice");
    assert_eq!(entry["url"], "");
    let link = h
        .http
        .get(format!("{}/object?key={key}", h.portal_url))
        .header("cookie", &alice)
        .send()
        .await
        .unwrap();
    assert_eq!(link.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        delete_as(&h, &alice, &id).await.status(),
        StatusCode::BAD_REQUEST
    );
    // An administrator may delete anyone's; the CSV keeps both, with who deleted them.
    assert_eq!(delete_as(&h, &root, &his_id).await.status(), StatusCode::OK);
    assert!(!h.object_path(&his).exists());
    let csv = h
        .http
        .get(format!("{}/admin/uploads.csv", h.portal_url))
        .header("cookie", &root)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with(",file_name,deleted_at,deleted_by,request_id,sender_name,sender_note"),
        "{csv}"
    );
    // Deleted by whom, then the (empty) request columns: not sent through a request.
    let line = |k: &str| csv.lines().find(|l| l.contains(k)).unwrap().to_owned();
    assert!(line(&key).ends_with(",alice,,,"), "{csv}");
    assert!(line(&his).ends_with(",root,,,"), "{csv}");
}

/// A random name downloads under the name it was picked with: the portal's link signs a GET
/// whose `response-content-disposition` carries it.
#[tokio::test]
async fn links_download_under_the_picked_name() {
    let (h, _users) = with_users(&[]).await;
    let alice = session(&h, "alice", ALICE_PASSWORD).await;
    let name = "季度 report.pdf";
    let ticket = h
        .ticket(
            Some(&alice),
            file(name, 3, "application/pdf"),
            "random",
            "uploads/alice/",
        )
        .await;
    let key = ticket["key"].as_str().unwrap().to_owned();
    assert!(!key.contains("report"), "{key}");
    assert_eq!(h.upload(&ticket, name, b"pdf").await.status(), 200);
    let etag = md5_hex(b"pdf");
    let confirmed = call_as(
        &h,
        Some(&alice),
        "confirm_upload",
        json!({"key": key, "etag": etag}),
    )
    .await;
    assert_eq!(confirmed.status(), 200);
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let link = my_entries(&h, &alice).await[0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let redirect = no_redirects
        .get(format!("{}{link}", h.portal_url))
        .header("cookie", &alice)
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), StatusCode::SEE_OTHER);
    let location = redirect.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&h.bucket_url), "{location}");
    let object = h.http.get(&location).send().await.unwrap();
    assert_eq!(object.status(), StatusCode::OK);
    assert_eq!(
        object.headers()["content-disposition"],
        "attachment; filename=\"__ report.pdf\"; filename*=UTF-8''%E5%AD%A3%E5%BA%A6%20report.pdf"
    );
    assert_eq!(object.bytes().await.unwrap().as_ref(), b"pdf");
}

/// Open to anyone (PORTAL_FORCE_OPEN): every visitor is the same user, so nobody deletes; on a
/// loopback portal its one visitor is its administrator and may.
#[tokio::test]
async fn nobody_deletes_on_a_portal_open_to_anyone() {
    for (args, deletes) in [
        (
            &["--behind-proxy", "true", "--force-open", "true"][..],
            false,
        ),
        (&[][..], true),
    ] {
        let h = Harness::start(args).await;
        let ticket = h
            .ticket(None, file("a.txt", 1, "text/plain"), "random", "uploads/")
            .await;
        assert_eq!(h.upload(&ticket, "a.txt", b"a").await.status(), 200);
        let key = ticket["key"].as_str().unwrap().to_owned();
        let confirmed = call_as(
            &h,
            None,
            "confirm_upload",
            json!({"key": key, "etag": md5_hex(b"a")}),
        )
        .await;
        assert_eq!(confirmed.status(), StatusCode::OK);
        let page: Value = h
            .http
            .post(format!("{}/api/my_uploads", h.portal_url))
            .form(&[("page", "1")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(page["deletable"], deletes, "{args:?}");
        let id = page["entries"][0]["id"].as_str().unwrap().to_owned();
        let deleted = h
            .http
            .post(format!("{}/api/delete_upload", h.portal_url))
            .form(&[("id", id.as_str())])
            .send()
            .await
            .unwrap();
        let expected = if deletes {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        };
        assert_eq!(deleted.status(), expected, "{args:?}");
        assert_eq!(h.object_path(&key).exists(), !deletes, "{args:?}");
    }
}
