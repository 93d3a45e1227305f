//! A running portal and embedded bucket on loopback ports, started by `server::start` as
//! `main` starts them, for tests.
#![allow(dead_code)]

use std::path::PathBuf;

use base64::Engine;
use clap::Parser;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use upload_portal::server::config::{Config, Settings};
use upload_portal::server::portal::AppState;
use upload_portal::server::protocol::policy::PolicyDocument;
use upload_portal::server::protocol::signing::v1;
use upload_portal::server::{self, Listeners, Running};

pub const AK: &str = "LTAI5tFakeAccessKeyId0001";
pub const SK: &str = "FakeAccessKeySecretForTestsOnly0001";
/// The fake RSA key of the callback vectors signs the embedded bucket's callbacks in tests.
pub const CALLBACK_KEY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/oss-test-callback-key.pem"
);

pub struct Harness {
    pub state: AppState,
    /// The local STS endpoint's URL, when started with one.
    pub sts_url: Option<String>,
    pub portal_url: String,
    pub bucket_url: String,
    pub settings: Settings,
    pub http: reqwest::Client,
    pub bucket_root: PathBuf,
    /// The servers run while this lives.
    _running: Running,
    _data: tempfile::TempDir,
}

impl Harness {
    pub async fn start(extra: &[&str]) -> Self {
        Self::launch(extra, false).await
    }

    /// With a local STS endpoint, and the portal signing with its temporary credentials.
    pub async fn start_with_sts(extra: &[&str]) -> Self {
        Self::launch(extra, true).await
    }

    async fn launch(extra: &[&str], with_sts: bool) -> Self {
        let data = tempfile::tempdir().unwrap();
        let sts_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sts_addr = sts_listener.local_addr().unwrap().to_string();
        let bucket_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let portal_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let bucket_addr = bucket_listener.local_addr().unwrap().to_string();
        let portal_addr = portal_listener.local_addr().unwrap().to_string();
        let data_dir = data.path().to_str().unwrap().to_owned();
        let mut args = vec![
            "upload-portal",
            "--site-addr",
            &portal_addr,
            "--bucket-addr",
            &bucket_addr,
            "--data-dir",
            &data_dir,
            "--access-key-id",
            AK,
            "--access-key-secret",
            SK,
            "--callback-key-file",
            CALLBACK_KEY,
        ];
        if with_sts {
            args.extend_from_slice(&[
                "--local-sts-addr",
                &sts_addr,
                "--sts-role-arn",
                "acs:ram::1234567890123456:role/uploader",
            ]);
        }
        // "{portal}" in an argument stands for the portal's address (known only now).
        let extra: Vec<String> = extra
            .iter()
            .map(|a| a.replace("{portal}", &portal_addr))
            .collect();
        args.extend(extra.iter().map(String::as_str));
        // With LEDGER_DATABASE_URL, every portal keeps its ledger in a PostgreSQL database of
        // its own.
        let database = if extra.iter().any(|a| a == "--database-url") {
            None
        } else {
            fresh_database().await
        };
        if let Some(url) = &database {
            args.extend_from_slice(&["--database-url", url]);
        }
        let settings = Config::try_parse_from(args).unwrap().validate().unwrap();
        let leptos_options = leptos::config::LeptosOptions::builder()
            .output_name("upload-portal")
            .site_addr(portal_listener.local_addr().unwrap())
            .build();
        let listeners = Listeners {
            portal: portal_listener,
            bucket: Some(bucket_listener),
            sts: with_sts.then_some(sts_listener),
        };
        let running = server::start(&settings, leptos_options, listeners)
            .await
            .unwrap();
        let state = running.state.clone();
        Harness {
            state,
            sts_url: with_sts.then(|| format!("http://{sts_addr}/")),
            portal_url: format!("http://{portal_addr}"),
            bucket_url: settings.portal.target.url.clone(),
            bucket_root: data.path().join(&settings.portal.target.bucket),
            settings,
            http: reqwest::Client::new(),
            _running: running,
            _data: data,
        }
    }

    /// Where the bucket keeps `key`'s bytes.
    pub fn object_path(&self, key: &str) -> PathBuf {
        self.bucket_root.join("objects").join(key)
    }

    /// Every file under `objects/` and `tmp/`: what "nothing on disk" is checked against.
    pub fn stored_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push(path);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.bucket_root.join("objects"), &mut out);
        walk(&self.bucket_root.join("tmp"), &mut out);
        out
    }

    pub fn sign_policy(&self, policy: &PolicyDocument) -> (String, String) {
        let b64 = base64::engine::general_purpose::STANDARD.encode(policy.to_json());
        let signature = v1::sign(SK, &b64);
        (b64, signature)
    }

    pub async fn post_form(&self, form: reqwest::multipart::Form) -> reqwest::Response {
        self.http
            .post(&self.bucket_url)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn call(&self, endpoint: &str, json: serde_json::Value) -> reqwest::Response {
        self.http
            .post(format!("{}/api/{endpoint}", self.portal_url))
            .json(&json)
            .send()
            .await
            .unwrap()
    }
}

impl Harness {
    /// Stops the servers as SIGTERM does: open event streams end, requests in flight finish.
    pub async fn stop(self) {
        self._running.stop().await.unwrap();
    }

    /// The ledger's completed entries, newest first.
    pub async fn completed_entries(&self) -> Vec<upload_portal::model::LedgerEntry> {
        let query = upload_portal::model::LedgerQuery {
            state: upload_portal::model::EntryState::Completed,
            ..Default::default()
        };
        self.state.ledger.page(&query, None).await.unwrap().entries
    }
}

/// With `LEDGER_DATABASE_URL` set (a PostgreSQL server's URL), a new empty database on that
/// server for one portal, as a URL; otherwise `None` (the portal's default SQLite file).
pub async fn fresh_database() -> Option<String> {
    use sqlx::Connection;
    let server = std::env::var("LEDGER_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let name = format!("ledger_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&server).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let base = server
        .rsplit_once('/')
        .map_or(server.as_str(), |(base, _)| base);
    Some(format!("{base}/{name}"))
}

/// A ledger entry as signing records it, for `key` of `size` bytes, valid five minutes.
pub fn signed_entry(
    id: &str,
    key: &str,
    size: u64,
) -> upload_portal::server::portal::ledger::NewEntry {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    upload_portal::server::portal::ledger::NewEntry {
        id: id.into(),
        user: "open".into(),
        key: key.into(),
        declared_size: size,
        content_type: "image/png".into(),
        signed_at: now,
        expires_at: now + 300,
        client_ip: "127.0.0.1".into(),
        user_agent: "test".into(),
        kind: upload_portal::server::portal::ledger::TicketKind::File,
        file_name: "photo.png".into(),
        request_id: String::new(),
        sender_name: String::new(),
        sender_note: String::new(),
    }
}

/// A V1 header-signed request to `key` with `sub_resources`.
pub fn signed(
    h: &Harness,
    method: reqwest::Method,
    key: &str,
    sub_resources: &[(&str, Option<&str>)],
    content_type: &str,
    extra: &[(&str, &str)],
) -> reqwest::RequestBuilder {
    let date = v1::http_date(time::OffsetDateTime::now_utc());
    let mut oss_headers = vec![("x-oss-date", date.as_str())];
    oss_headers.extend_from_slice(extra);
    let request = v1::HeaderRequest {
        method: method.as_str(),
        content_type,
        date: &date,
        oss_headers: oss_headers.clone(),
        bucket: "portal-dev",
        key,
        sub_resources: sub_resources.to_vec(),
        ..Default::default()
    };
    let query: Vec<String> = sub_resources
        .iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{k}={v}"),
            None => k.to_string(),
        })
        .collect();
    let mut builder = h
        .http
        .request(
            method.clone(),
            format!("{}{key}?{}", h.bucket_url, query.join("&")),
        )
        .header("authorization", v1::authorization(AK, SK, &request));
    for (name, value) in oss_headers {
        builder = builder.header(name, value);
    }
    if !content_type.is_empty() {
        builder = builder.header("content-type", content_type);
    }
    builder
}

/// The `<Code>` of an OSS error document.
pub fn error_code(body: &str) -> String {
    body.split("<Code>")
        .nth(1)
        .and_then(|rest| rest.split("</Code>").next())
        .unwrap_or("")
        .to_owned()
}

/// A ticket's form as the page sends it: its fields in order (`replace` swaps one value), then
/// `data` as the file.
pub fn ticket_form(
    ticket: &serde_json::Value,
    replace: Option<(&str, &str)>,
    data: &[u8],
    file_name: &str,
) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new();
    for pair in ticket["fields"].as_array().unwrap() {
        let name = pair[0].as_str().unwrap().to_owned();
        let value = match replace {
            Some((field, replacement)) if field == name => replacement.to_owned(),
            _ => pair[1].as_str().unwrap().to_owned(),
        };
        form = form.text(name, value);
    }
    form.part(
        "file",
        reqwest::multipart::Part::bytes(data.to_vec()).file_name(file_name.to_owned()),
    )
}

/// One file of a batch to sign, as the page describes it.
pub fn file(name: &str, size: u64, content_type: &str) -> Value {
    json!({"name": name, "size": size, "content_type": content_type})
}

/// The names of a ticket's form fields, in order.
pub fn field_names(ticket: &serde_json::Value) -> Vec<&str> {
    ticket["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f[0].as_str().unwrap())
        .collect()
}

impl Harness {
    /// Posts a ticket's form to the URL the ticket names.
    pub async fn post_ticket(
        &self,
        ticket: &serde_json::Value,
        form: reqwest::multipart::Form,
    ) -> reqwest::Response {
        self.http
            .post(ticket["url"].as_str().unwrap())
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// Posts `data` as the file `file_name` with a ticket's form, exactly as the page does.
    pub async fn upload(&self, ticket: &Value, file_name: &str, data: &[u8]) -> reqwest::Response {
        self.post_ticket(ticket, ticket_form(ticket, None, data, file_name))
            .await
    }

    /// Asks the portal to sign a batch of `files` (a JSON array of `file`s), with a session
    /// cookie or none.
    pub async fn sign_batch(
        &self,
        cookie: Option<&str>,
        files: Value,
        naming: &str,
        folder: &str,
    ) -> reqwest::Response {
        let batch = json!({"batch": {"files": files, "naming": naming, "folder": folder}});
        call_as(self, cookie, "sign_uploads", batch).await
    }

    /// `sign_batch`'s status and reply (JSON, or else its text as a string); the reply must not
    /// carry the secret.
    pub async fn sign(
        &self,
        cookie: Option<&str>,
        files: Value,
        naming: &str,
        folder: &str,
    ) -> (u16, Value) {
        let response = self.sign_batch(cookie, files, naming, folder).await;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert!(!text.contains(SK), "the secret leaked into a reply");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Signs one `file` and returns its ticket, which the portal must grant.
    pub async fn ticket(
        &self,
        cookie: Option<&str>,
        file: Value,
        naming: &str,
        folder: &str,
    ) -> Value {
        let (status, tickets) = self.sign(cookie, json!([file]), naming, folder).await;
        assert_eq!(status, 200, "{tickets}");
        tickets[0].clone()
    }
}

pub const ALICE_PASSWORD: &str = "alice-correct-horse";
pub const ROOT_PASSWORD: &str = "root-battery-staple";

/// A portal in users mode: alice (root uploads/alice/), bob, and root (admin).
pub async fn with_users(extra: &[&str]) -> (Harness, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users");
    let alice =
        upload_portal::server::portal::access::accounts::hash_password(ALICE_PASSWORD).unwrap();
    let bob =
        upload_portal::server::portal::access::accounts::hash_password("bob-password-1").unwrap();
    let root =
        upload_portal::server::portal::access::accounts::hash_password(ROOT_PASSWORD).unwrap();
    std::fs::write(
        &users,
        format!("# test accounts\nalice:{alice}\nbob:{bob}:uploads/team/bob\nroot:{root}:uploads/:admin\n"),
    )
    .unwrap();
    let users = users.to_str().unwrap().to_owned();
    let mut args = vec!["--access", "users", "--users-file", &users];
    args.extend_from_slice(extra);
    let h = Harness::start(&args).await;
    let engine = match std::env::var("LEDGER_DATABASE_URL") {
        Ok(url) if !url.is_empty() => "postgres",
        _ => "sqlite",
    };
    assert_eq!(h.state.ledger.engine, engine);
    (h, dir)
}

/// A server fn call with a session cookie (or none).
pub async fn call_as(
    h: &Harness,
    cookie: Option<&str>,
    endpoint: &str,
    body: Value,
) -> reqwest::Response {
    let mut request = h
        .http
        .post(format!("{}/api/{endpoint}", h.portal_url))
        .json(&body);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.unwrap()
}

pub async fn login(h: &Harness, name: &str, password: &str) -> reqwest::Response {
    h.http
        .post(format!("{}/api/login", h.portal_url))
        .form(&[("name", name), ("password", password)])
        .send()
        .await
        .unwrap()
}

/// Signs in and returns the `Cookie` header value of the session.
pub async fn session(h: &Harness, name: &str, password: &str) -> String {
    let response = login(h, name, password).await;
    assert_eq!(response.status(), 200, "{name} signs in");
    let set = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    set.split(';').next().unwrap().to_owned()
}

/// Upper-case hex MD5, as the bucket writes ETags.
pub fn md5_hex(data: &[u8]) -> String {
    <md5::Md5 as md5::Digest>::digest(data)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// A callback as the embedded bucket would send it, signed with `key_pem`, naming `key_url`.
pub async fn send_callback(
    h: &Harness,
    body: &str,
    key_pem: &str,
    key_url: &str,
    tamper: bool,
) -> reqwest::Response {
    use base64::engine::general_purpose::STANDARD as BASE64;
    use upload_portal::server::protocol::signing::callback;
    let key = callback::parse_private_key(key_pem).unwrap();
    let message = callback::string_to_sign("/oss/callback", None, body.as_bytes());
    let mut authorization = callback::sign(&key, &message);
    if tamper {
        authorization = callback::sign(&key, b"something else");
    }
    h.http
        .post(format!("{}/oss/callback", h.portal_url))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", authorization)
        .header("x-oss-pub-key-url", BASE64.encode(key_url))
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}
