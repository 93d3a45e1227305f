//! Crash safety: the real binary killed with SIGKILL while 100 uploads are in flight, then
//! started again on the same data. No partial or corrupt object is ever visible (before or after
//! the restart), the temp files of the interrupted uploads are gone after the restart, and a
//! multipart upload in progress resumes where it was.
#![cfg(feature = "ssr")]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures::StreamExt;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use upload_portal::model::{EntryState, LedgerQuery};
use upload_portal::server::portal::ledger::Ledger;

const AK: &str = "LTAIcrashtest0001";
const SK: &str = "crash-test-secret-0123456789";
const FILES: usize = 100;
const SIZE: usize = 256 * 1024;
/// The first files are one chunk long: they are stored before the kill.
const QUICK: usize = 10;
const CHUNK: usize = 16 * 1024;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server {
    portal: String,
    bucket: String,
    site_port: u16,
    bucket_port: u16,
    data: PathBuf,
    child: Option<Child>,
}

impl Server {
    async fn start(data: &Path) -> Self {
        let mut server = Server {
            site_port: free_port(),
            bucket_port: free_port(),
            portal: String::new(),
            bucket: String::new(),
            data: data.to_owned(),
            child: None,
        };
        server.portal = format!("http://127.0.0.1:{}", server.site_port);
        server.bucket = format!("http://127.0.0.1:{}/", server.bucket_port);
        server.restart().await;
        server
    }

    async fn restart(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_upload-portal"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{}", self.site_port))
            .env(
                "PORTAL_BUCKET_ADDR",
                format!("127.0.0.1:{}", self.bucket_port),
            )
            .env("PORTAL_DATA_DIR", &self.data)
            .env("OSS_ACCESS_KEY_ID", AK)
            .env("OSS_ACCESS_KEY_SECRET", SK)
            .env("PORTAL_MULTIPART_THRESHOLD", "200KiB")
            .env("PORTAL_PART_SIZE", "100KiB")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the portal binary starts");
        self.child = Some(child);
        let http = reqwest::Client::new();
        for _ in 0..200 {
            let up = http
                .post(format!("{}/api/portal_settings", self.portal))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if up && std::net::TcpStream::connect(("127.0.0.1", self.bucket_port)).is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the portal did not come up");
    }

    /// SIGKILL: no graceful shutdown, no chance to clean up.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    fn root(&self) -> PathBuf {
        self.data.join("portal-dev")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                stack.push(entry.path());
            } else {
                out.push(entry.path());
            }
        }
    }
    out
}

/// Every object on disk is one of ours, whole: its bytes are exactly what was sent for its key.
fn assert_objects_whole(server: &Server, sent: &[(String, Vec<u8>)]) -> usize {
    let objects = server.root().join("objects");
    let mut whole = 0;
    for path in files_under(&objects) {
        let key = path
            .strip_prefix(&objects)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let (_, data) = sent
            .iter()
            .find(|(k, _)| *k == key)
            .unwrap_or_else(|| panic!("an object nobody sent: {key}"));
        let stored = std::fs::read(&path).unwrap();
        assert_eq!(stored.len(), data.len(), "{key} is partial");
        assert_eq!(
            common::md5_hex(&stored),
            common::md5_hex(data),
            "{key} is corrupt"
        );
        whole += 1;
    }
    whole
}

/// The upload of one file: its first chunk goes at once, the rest only when `gate` opens, so
/// that every file longer than a chunk is in flight at the kill however busy the machine is.
async fn upload_held(
    http: reqwest::Client,
    ticket: Value,
    data: Vec<u8>,
    gate: tokio::sync::watch::Receiver<bool>,
) -> Result<u16, String> {
    let mut form = Form::new();
    for field in ticket["fields"].as_array().unwrap() {
        form = form.text(
            field[0].as_str().unwrap().to_owned(),
            field[1].as_str().unwrap().to_owned(),
        );
    }
    let chunks: Vec<Vec<u8>> = data.chunks(CHUNK).map(<[u8]>::to_vec).collect();
    let stream = futures::stream::iter(chunks.into_iter().enumerate()).then(move |(n, chunk)| {
        let mut gate = gate.clone();
        async move {
            if n > 0 {
                let _ = gate.wait_for(|open| *open).await;
            }
            Ok::<_, std::io::Error>(chunk)
        }
    });
    let part = Part::stream_with_length(reqwest::Body::wrap_stream(stream), data.len() as u64)
        .file_name("file.bin");
    let form = form.part("file", part);
    http.post(ticket["url"].as_str().unwrap())
        .multipart(form)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| e.to_string())
}

async fn call(http: &reqwest::Client, server: &Server, endpoint: &str, body: Value) -> Value {
    let response = http
        .post(format!("{}/api/{endpoint}", server.portal))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let value: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{endpoint}: {status} {value}");
    value
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_mid_upload_leaves_no_partial_object_and_uploads_resume() {
    let data_dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(data_dir.path()).await;
    let http = reqwest::Client::new();

    // A multipart upload with two of its three parts stored before the crash.
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 31 % 256) as u8).collect();
    let file =
        json!({"name": "big.bin", "size": big.len(), "content_type": "application/octet-stream"});
    let plan = call(
        &http,
        &server,
        "start_multipart",
        json!({"file": file, "naming": "random", "folder": "uploads/crash"}),
    )
    .await;
    let upload = plan["upload"].clone();
    let part = |n: usize| big[(n - 1) * 102_400..(n * 102_400).min(big.len())].to_vec();
    for url in plan["urls"].as_array().unwrap().iter().take(2) {
        let n = url[0].as_u64().unwrap() as usize;
        let response = http
            .put(url[1].as_str().unwrap())
            .body(part(n))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    // 100 uploads, signed, then all sent at once, slowly.
    let size = |i: usize| if i < QUICK { CHUNK } else { SIZE };
    let specs: Vec<Value> = (0..FILES)
        .map(|i| json!({"name": format!("f{i}.bin"), "size": size(i), "content_type": "application/octet-stream"}))
        .collect();
    let tickets = call(
        &http,
        &server,
        "sign_uploads",
        json!({"batch": {"files": specs, "naming": "random", "folder": "uploads/crash"}}),
    )
    .await;
    // Every body is made before the first is sent: made in between (slow in a debug build on a
    // busy machine), the first uploads could finish before the last began.
    let tickets = tickets.as_array().unwrap();
    let sent: Vec<(String, Vec<u8>)> = tickets
        .iter()
        .enumerate()
        .map(|(i, ticket)| {
            let data = (0..size(i)).map(|j| ((i * 7 + j) % 251) as u8).collect();
            (ticket["key"].as_str().unwrap().to_owned(), data)
        })
        .collect();
    let (open_gate, gate) = tokio::sync::watch::channel(false);
    let tasks: Vec<_> = tickets
        .iter()
        .zip(&sent)
        .map(|(ticket, (_, data))| {
            tokio::spawn(upload_held(
                http.clone(),
                ticket.clone(),
                data.clone(),
                gate.clone(),
            ))
        })
        .collect();
    // Mid-flight: the quick ones are stored, every other body has its first chunk on disk.
    let (tmp, objects) = (server.root().join("tmp"), server.root().join("objects"));
    let mut in_flight = 0;
    for _ in 0..1000 {
        in_flight = files_under(&tmp).len();
        if in_flight == FILES - QUICK && files_under(&objects).len() == QUICK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill();
    open_gate.send(true).unwrap();
    let mut failed = 0;
    for task in tasks {
        if task
            .await
            .unwrap()
            .map(|status| status != 200)
            .unwrap_or(true)
        {
            failed += 1;
        }
    }
    assert!(
        in_flight == FILES - QUICK,
        "only {in_flight} uploads were in flight at the kill"
    );
    assert!(
        failed >= FILES - QUICK,
        "only {failed} uploads were cut by the kill"
    );

    // Dead: what is visible is whole. The interrupted uploads left temp files behind.
    let whole_before = assert_objects_whole(&server, &sent);
    assert!(
        whole_before == QUICK,
        "only {whole_before} uploads finished before the kill"
    );
    assert!(!files_under(&server.root().join("tmp")).is_empty());

    // Restarted: the temp files are gone, the objects unchanged, and the reads agree.
    server.restart().await;
    assert_eq!(
        files_under(&server.root().join("tmp")),
        Vec::<PathBuf>::new()
    );
    assert_eq!(assert_objects_whole(&server, &sent), whole_before);
    for (key, data) in &sent {
        let response = http
            .get(format!("{}{key}", server.bucket))
            .send()
            .await
            .unwrap();
        match response.status().as_u16() {
            200 => assert_eq!(response.bytes().await.unwrap().as_ref(), data.as_slice()),
            404 => {}
            other => panic!("{key}: {other}"),
        }
    }

    // The page confirms what it sent: whole objects are completed in the ledger, the rest are
    // refused (the ledger never completes an object that is not there).
    let mut confirmed = 0;
    for (key, data) in &sent {
        let response = http
            .post(format!("{}/api/confirm_upload", server.portal))
            .json(&json!({"key": key, "etag": common::md5_hex(data)}))
            .send()
            .await
            .unwrap();
        match response.status().as_u16() {
            200 => confirmed += 1,
            400 => {}
            other => panic!("confirm {key}: {other}"),
        }
    }
    assert_eq!(confirmed, whole_before);

    // The multipart upload resumes: two parts stored, only the third to send.
    let resumed = call(
        &http,
        &server,
        "resume_multipart",
        json!({"upload": upload}),
    )
    .await;
    let stored: Vec<u64> = resumed["stored"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["number"].as_u64().unwrap())
        .collect();
    assert_eq!(stored, vec![1, 2]);
    let url = resumed["urls"][0][1].as_str().unwrap();
    assert_eq!(
        http.put(url).body(part(3)).send().await.unwrap().status(),
        200
    );
    let mut parts: Vec<Value> = resumed["stored"].as_array().unwrap().clone();
    parts.push(json!({"number": 3, "etag": common::md5_hex(&part(3))}));
    let done = call(
        &http,
        &server,
        "complete_multipart",
        json!({"upload": upload, "parts": parts}),
    )
    .await;
    let key = done["key"].as_str().unwrap();
    let served = http
        .get(format!("{}{key}", server.bucket))
        .send()
        .await
        .unwrap();
    assert_eq!(served.bytes().await.unwrap().as_ref(), big.as_slice());

    // The ledger (read as a second instance would): every completed record's object exists,
    // with the recorded size, and no other record is completed.
    let ledger = Ledger::open(&format!(
        "sqlite://{}",
        data_dir.path().join("ledger.sqlite").display()
    ))
    .await
    .unwrap();
    let completed = ledger
        .export(&LedgerQuery {
            state: EntryState::Completed,
            ..LedgerQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(completed.len(), whole_before + 1);
    for entry in &completed {
        let response = http
            .get(format!("{}{}", server.bucket, entry.key))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}", entry.key);
        let body = response.bytes().await.unwrap();
        assert_eq!(Some(body.len() as u64), entry.stored_size, "{}", entry.key);
        if !entry.etag.as_deref().unwrap_or("").contains('-') {
            assert_eq!(entry.etag.as_deref(), Some(common::md5_hex(&body).as_str()));
        }
    }
}
