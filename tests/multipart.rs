//! Multipart uploads on the embedded bucket over a real socket, signed the way the portal signs
//! them: header signatures for initiate/list/complete/abort, presigned URLs for the parts the
//! browser sends. OSS semantics: part numbers, minimum part size, `HEX-N` ETags, error codes.
#![cfg(feature = "ssr")]

mod common;

use common::{error_code, signed, Harness, AK, SK};
use md5::{Digest, Md5};
use time::OffsetDateTime;

const BUCKET: &str = "portal-dev";
use upload_portal::server::protocol::signing::v1;

/// The presigned URL of one part, valid for `seconds`.
fn part_url(
    h: &Harness,
    key: &str,
    upload_id: &str,
    number: u32,
    seconds: i64,
    secret: &str,
) -> String {
    let expires = (OffsetDateTime::now_utc().unix_timestamp() + seconds).to_string();
    let number = number.to_string();
    let request = v1::HeaderRequest {
        method: "PUT",
        date: &expires,
        bucket: BUCKET,
        key,
        sub_resources: vec![("partNumber", Some(&number)), ("uploadId", Some(upload_id))],
        ..Default::default()
    };
    v1::presigned_url(&format!("{}{key}", h.bucket_url), AK, secret, &request)
}

fn xml_value(body: &str, tag: &str) -> String {
    let start = body.find(&format!("<{tag}>")).expect(tag) + tag.len() + 2;
    let end = body[start..].find(&format!("</{tag}>")).expect(tag) + start;
    body[start..end].to_owned()
}

async fn initiate(h: &Harness, key: &str) -> String {
    let response = signed(
        h,
        reqwest::Method::POST,
        key,
        &[("uploads", None)],
        "video/mp4",
        &[("x-oss-forbid-overwrite", "true")],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    assert_eq!(xml_value(&body, "Key"), key);
    assert_eq!(xml_value(&body, "Bucket"), BUCKET);
    xml_value(&body, "UploadId")
}

async fn put_part(h: &Harness, key: &str, id: &str, number: u32, data: &[u8]) -> reqwest::Response {
    h.http
        .put(part_url(h, key, id, number, 600, SK))
        .body(data.to_vec())
        .send()
        .await
        .unwrap()
}

fn complete_body(parts: &[(u32, &str)]) -> String {
    let parts: String = parts
        .iter()
        .map(|(n, etag)| {
            format!("<Part><PartNumber>{n}</PartNumber><ETag>\"{etag}\"</ETag></Part>")
        })
        .collect();
    format!("<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>")
}

async fn complete(h: &Harness, key: &str, id: &str, parts: &[(u32, &str)]) -> reqwest::Response {
    signed(
        h,
        reqwest::Method::POST,
        key,
        &[("uploadId", Some(id))],
        "application/xml",
        &[],
    )
    .body(complete_body(parts))
    .send()
    .await
    .unwrap()
}

#[tokio::test]
async fn parts_are_listed_and_assembled_into_the_object() {
    let h = Harness::start(&[]).await;
    let key = "uploads/big/video.mp4";
    let id = initiate(&h, key).await;
    let one = vec![1u8; 100 * 1024];
    let two: Vec<u8> = (0..150_000u32).map(|i| (i % 251) as u8).collect();
    let three = b"the tail".to_vec();
    // Part 2 first, and part 1 twice: order does not matter, a part sent again replaces it.
    for (number, data) in [
        (2, &two),
        (1, &vec![9u8; 100 * 1024]),
        (1, &one),
        (3, &three),
    ] {
        let response = put_part(&h, key, &id, number, data).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["etag"],
            format!("\"{}\"", common::md5_hex(data))
        );
    }
    let listing = signed(
        &h,
        reqwest::Method::GET,
        key,
        &[("uploadId", Some(&id))],
        "",
        &[],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(listing.status(), 200);
    let body = listing.text().await.unwrap();
    assert_eq!(body.matches("<Part>").count(), 3, "{body}");
    assert!(body.contains("<PartNumber>1</PartNumber><LastModified>"));
    assert!(
        body.contains(&format!(
            "<ETag>\"{}\"</ETag><Size>102400</Size>",
            common::md5_hex(&one)
        )),
        "{body}"
    );

    let parts = [
        (1, common::md5_hex(&one)),
        (2, common::md5_hex(&two)),
        (3, common::md5_hex(&three)),
    ];
    let parts: Vec<(u32, &str)> = parts.iter().map(|(n, e)| (*n, e.as_str())).collect();
    let response = complete(&h, key, &id, &parts).await;
    assert_eq!(response.status(), 200);
    let mut binary = Vec::new();
    for data in [&one, &two, &three] {
        binary.extend_from_slice(&Md5::digest(data));
    }
    let etag = format!("\"{}-3\"", common::md5_hex(&binary));
    assert_eq!(response.headers()["etag"], etag);
    assert_eq!(xml_value(&response.text().await.unwrap(), "ETag"), etag);

    let stored = h
        .http
        .get(format!("{}{key}", h.bucket_url))
        .send()
        .await
        .unwrap();
    assert_eq!(stored.headers()["etag"], etag);
    assert_eq!(stored.headers()["content-type"], "video/mp4");
    let bytes = stored.bytes().await.unwrap();
    assert_eq!(bytes, [one, two, three].concat());
    // The upload is gone once complete.
    let again = complete(&h, key, &id, &parts).await;
    assert_eq!(again.status(), 404);
    assert_eq!(error_code(&again.text().await.unwrap()), "NoSuchUpload");
    assert_eq!(entries(&h, "multipart"), 0);
}

#[tokio::test]
async fn completing_checks_parts_order_and_sizes() {
    let h = Harness::start(&[]).await;
    let key = "uploads/bad.bin";
    let id = initiate(&h, key).await;
    let small = vec![7u8; 1000];
    let big = vec![8u8; 100 * 1024];
    assert_eq!(put_part(&h, key, &id, 1, &small).await.status(), 200);
    assert_eq!(put_part(&h, key, &id, 2, &big).await.status(), 200);
    let (s, b) = (common::md5_hex(&small), common::md5_hex(&big));
    for (parts, status, code) in [
        (
            vec![(1, s.as_str()), (2, "00000000000000000000000000000000")],
            400,
            "InvalidPart",
        ),
        (vec![(1, s.as_str()), (4, b.as_str())], 400, "InvalidPart"),
        (
            vec![(2, b.as_str()), (1, s.as_str())],
            400,
            "InvalidPartOrder",
        ),
        (
            vec![(1, s.as_str()), (2, b.as_str())],
            400,
            "EntityTooSmall",
        ),
    ] {
        let response = complete(&h, key, &id, &parts).await;
        assert_eq!(response.status(), status, "{parts:?}");
        assert_eq!(
            error_code(&response.text().await.unwrap()),
            code,
            "{parts:?}"
        );
    }
    let malformed = signed(
        &h,
        reqwest::Method::POST,
        key,
        &[("uploadId", Some(&id))],
        "application/xml",
        &[],
    )
    .body("<CompleteMultipartUpload><Part>")
    .send()
    .await
    .unwrap();
    assert_eq!(error_code(&malformed.text().await.unwrap()), "MalformedXML");
    for number in [0, 10_001] {
        let response = put_part(&h, key, &id, number, b"x").await;
        assert_eq!(response.status(), 400);
        assert_eq!(
            error_code(&response.text().await.unwrap()),
            "InvalidArgument"
        );
    }
    // Nothing became an object; a single last part may be small.
    assert!(h.stored_files().is_empty(), "{:?}", h.stored_files());
    let response = complete(&h, key, &id, &[(1, s.as_str())]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(std::fs::read(h.object_path(key)).unwrap(), small);
}

#[tokio::test]
async fn every_request_must_be_signed_and_fresh() {
    let h = Harness::start(&[]).await;
    let key = "uploads/signed.bin";
    let id = initiate(&h, key).await;
    let unsigned = h
        .http
        .put(format!("{}{key}?partNumber=1&uploadId={id}", h.bucket_url))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 403);
    assert_eq!(error_code(&unsigned.text().await.unwrap()), "AccessDenied");
    let expired = h
        .http
        .put(part_url(&h, key, &id, 1, -5, SK))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), 403);
    assert_eq!(error_code(&expired.text().await.unwrap()), "AccessDenied");
    let forged = h
        .http
        .put(part_url(&h, key, &id, 1, 600, "wrong"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(
        error_code(&forged.text().await.unwrap()),
        "SignatureDoesNotMatch"
    );
    // A URL signed for part 1 does not upload part 2.
    let moved = part_url(&h, key, &id, 1, 600, SK).replace("partNumber=1", "partNumber=2");
    let response = h.http.put(moved).body("x").send().await.unwrap();
    assert_eq!(
        error_code(&response.text().await.unwrap()),
        "SignatureDoesNotMatch"
    );
    // ...nor a part of another upload.
    let other = put_part(&h, key, "0123456789ABCDEF0123456789ABCDEF", 1, b"x").await;
    assert_eq!(other.status(), 404);
    assert_eq!(error_code(&other.text().await.unwrap()), "NoSuchUpload");
    let list = signed(
        &h,
        reqwest::Method::GET,
        "uploads/elsewhere.bin",
        &[("uploadId", Some(&id))],
        "",
        &[],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(error_code(&list.text().await.unwrap()), "NoSuchUpload");
    assert!(h.stored_files().is_empty());
}

#[tokio::test]
async fn aborting_removes_the_parts_and_overwrites_stay_refused() {
    let h = Harness::start(&[]).await;
    let key = "uploads/abort.bin";
    let id = initiate(&h, key).await;
    assert_eq!(put_part(&h, key, &id, 1, b"part").await.status(), 200);
    let abort = signed(
        &h,
        reqwest::Method::DELETE,
        key,
        &[("uploadId", Some(&id))],
        "",
        &[],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(abort.status(), 204);
    assert_eq!(entries(&h, "multipart"), 0);
    let late = put_part(&h, key, &id, 2, b"late").await;
    assert_eq!(error_code(&late.text().await.unwrap()), "NoSuchUpload");
    assert!(h.stored_files().is_empty());

    // Initiated with x-oss-forbid-overwrite: completing onto an existing object is refused.
    for round in 0..2 {
        let id = initiate(&h, key).await;
        assert_eq!(put_part(&h, key, &id, 1, b"one").await.status(), 200);
        let response = complete(&h, key, &id, &[(1, &common::md5_hex(b"one"))]).await;
        if round == 0 {
            assert_eq!(response.status(), 200);
        } else {
            assert_eq!(response.status(), 409);
            assert_eq!(
                error_code(&response.text().await.unwrap()),
                "FileAlreadyExists"
            );
        }
    }
}

/// The inode of a file (the same file under two names has one).
/// How many entries the bucket's folder `folder` holds (`multipart`, `tmp`).
fn entries(h: &Harness, folder: &str) -> usize {
    std::fs::read_dir(h.bucket_root.join(folder))
        .unwrap()
        .count()
}

fn inode(path: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).unwrap().ino()
}

async fn delete_object(h: &Harness, key: &str) {
    let response = signed(h, reqwest::Method::DELETE, key, &[], "", &[])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
}

/// Parts as long as the first are written at their place in the upload's body file, and the
/// body becomes the object: completing copies only the short last part (the object's file is
/// the body's, not a copy). A completion that fails leaves the upload as it was.
#[tokio::test]
async fn parts_go_into_their_place_and_the_body_becomes_the_object() {
    let h = Harness::start(&[]).await;
    let key = "uploads/in-place.bin";
    let id = initiate(&h, key).await;
    let dir = h.bucket_root.join("multipart").join(&id);
    let part =
        |fill: u32| -> Vec<u8> { (0..100 * 1024u32).map(|i| (i / 7 + fill) as u8).collect() };
    let (one, two, tail) = (part(1), part(2), b"the short last part".to_vec());
    // Part 2 first (its length sets the part size), then 1, then part 2 again with other
    // bytes: the later one is kept (in a file of its own: the bytes in the body stay whole
    // until it is), and it is what completing copies in.
    for (number, data) in [(2, &part(9)), (1, &one), (2, &two), (3, &tail)] {
        let response = put_part(&h, key, &id, number, data).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["etag"],
            format!("\"{}\"", common::md5_hex(data))
        );
    }
    let body = dir.join("body");
    let record = |number: u32| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(dir.join(format!("{number:05}.json"))).unwrap())
            .unwrap()
    };
    assert_eq!(record(1)["body_offset"], 0);
    for number in [2, 3] {
        let part = record(number);
        assert!(part.get("body_offset").is_none(), "{part}");
        assert!(dir.join(part["file"].as_str().unwrap()).is_file(), "{part}");
    }
    assert_eq!(
        std::fs::read(dir.join("body-part-size")).unwrap(),
        b"102400"
    );
    let body_inode = inode(&body);

    let parts = [
        (1, common::md5_hex(&one)),
        (2, common::md5_hex(&two)),
        (3, common::md5_hex(&tail)),
    ];
    let parts: Vec<(u32, &str)> = parts.iter().map(|(n, e)| (*n, e.as_str())).collect();
    // The key is taken and the upload forbids overwriting: refused, and nothing changes.
    std::fs::create_dir_all(h.object_path(key).parent().unwrap()).unwrap();
    std::fs::write(h.object_path(key), b"already here").unwrap();
    let refused = complete(&h, key, &id, &parts).await;
    assert_eq!(refused.status(), 409);
    assert_eq!(std::fs::read(h.object_path(key)).unwrap(), b"already here");
    delete_object(&h, key).await;

    // Tried again: the object is the body, with the last part copied in after the others.
    let response = complete(&h, key, &id, &parts).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        std::fs::read(h.object_path(key)).unwrap(),
        [one, two, tail].concat()
    );
    assert_eq!(inode(&h.object_path(key)), body_inode);
    assert!(!dir.exists());
    assert_eq!(
        complete(&h, key, &id, &parts).await.status(),
        404,
        "completed once"
    );
    // Nothing was left in the bucket's temp folder.
    assert_eq!(entries(&h, "tmp"), 0);
}

/// A part kept in the body but left out of the object: the object is copied from the parts
/// instead, and the body is left as it is, so a later completion may still use every part.
#[tokio::test]
async fn a_part_left_out_keeps_the_body_as_it_is() {
    let h = Harness::start(&[]).await;
    let key = "uploads/left-out.bin";
    let id = initiate(&h, key).await;
    let dir = h.bucket_root.join("multipart").join(&id);
    let parts: Vec<Vec<u8>> = (1..=3u8).map(|n| vec![n; 100 * 1024]).collect();
    for (number, data) in (1..).zip(&parts) {
        assert_eq!(put_part(&h, key, &id, number, data).await.status(), 200);
    }
    let body_inode = inode(&dir.join("body"));
    let etags: Vec<String> = parts.iter().map(|p| common::md5_hex(p)).collect();
    // Parts 1 and 2 only, onto a key that is taken: the copy is refused.
    std::fs::create_dir_all(h.object_path(key).parent().unwrap()).unwrap();
    std::fs::write(h.object_path(key), b"taken").unwrap();
    let refused = complete(&h, key, &id, &[(1, &etags[0]), (2, &etags[1])]).await;
    assert_eq!(refused.status(), 409);
    delete_object(&h, key).await;
    // All three: the body, untouched by the copy, is the object.
    let listed: Vec<(u32, &str)> = (1..).zip(etags.iter().map(String::as_str)).collect();
    let response = complete(&h, key, &id, &listed).await;
    assert_eq!(response.status(), 200);
    assert_eq!(std::fs::read(h.object_path(key)).unwrap(), parts.concat());
    assert_eq!(inode(&h.object_path(key)), body_inode);

    // Another upload: part 3 left out, the object copied from parts 1 and 2.
    let id = initiate(&h, "uploads/two-of-three.bin").await;
    let key = "uploads/two-of-three.bin";
    for (number, data) in (1..).zip(&parts) {
        assert_eq!(put_part(&h, key, &id, number, data).await.status(), 200);
    }
    let body_inode = inode(&h.bucket_root.join("multipart").join(&id).join("body"));
    let response = complete(&h, key, &id, &listed[..2]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        std::fs::read(h.object_path(key)).unwrap(),
        parts[..2].concat()
    );
    assert_ne!(inode(&h.object_path(key)), body_inode);
}

/// A part's record that cannot be read (a damaged disk) stops the completion with an error and
/// keeps that part's place in the body from being written over; sent again, the part goes to a
/// file of its own and the upload completes.
#[tokio::test]
async fn an_unreadable_record_is_never_taken_for_a_free_place() {
    let h = Harness::start(&[]).await;
    let key = "uploads/damaged.bin";
    let id = initiate(&h, key).await;
    let dir = h.bucket_root.join("multipart").join(&id);
    let parts: Vec<Vec<u8>> = (1..=2u8).map(|n| vec![n; 100 * 1024]).collect();
    for (number, data) in (1..).zip(&parts) {
        assert_eq!(put_part(&h, key, &id, number, data).await.status(), 200);
    }
    std::fs::write(dir.join("00002.json"), b"{\"number\":2,").unwrap();
    let etags: Vec<String> = parts.iter().map(|p| common::md5_hex(p)).collect();
    let listed: Vec<(u32, &str)> = (1..).zip(etags.iter().map(String::as_str)).collect();
    assert_eq!(complete(&h, key, &id, &listed).await.status(), 500);
    assert!(h.stored_files().is_empty(), "{:?}", h.stored_files());
    let again = vec![7u8; 100 * 1024];
    assert_eq!(put_part(&h, key, &id, 2, &again).await.status(), 200);
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("00002.json")).unwrap()).unwrap();
    assert!(record.get("body_offset").is_none(), "{record}");
    let listed = [(1, etags[0].as_str()), (2, &common::md5_hex(&again))];
    assert_eq!(complete(&h, key, &id, &listed).await.status(), 200);
    assert_eq!(
        std::fs::read(h.object_path(key)).unwrap(),
        [&parts[0][..], &again[..]].concat()
    );
}

/// A body that became an object's file (a completion stopped between making the object and
/// taking the body out of the upload) ends the upload: no part is written into the object.
#[tokio::test]
async fn a_body_that_became_an_object_ends_its_upload() {
    let h = Harness::start(&[]).await;
    let key = "uploads/published.bin";
    let id = initiate(&h, key).await;
    let dir = h.bucket_root.join("multipart").join(&id);
    let first = vec![5u8; 100 * 1024];
    assert_eq!(put_part(&h, key, &id, 1, &first).await.status(), 200);
    std::fs::create_dir_all(h.object_path(key).parent().unwrap()).unwrap();
    std::fs::hard_link(dir.join("body"), h.object_path(key)).unwrap();
    let late = put_part(&h, key, &id, 2, &vec![6u8; 100 * 1024]).await;
    assert_eq!(error_code(&late.text().await.unwrap()), "NoSuchUpload");
    let again = complete(&h, key, &id, &[(1, &common::md5_hex(&first))]).await;
    assert_eq!(error_code(&again.text().await.unwrap()), "NoSuchUpload");
    assert_eq!(std::fs::read(h.object_path(key)).unwrap(), first);
}

/// The portal's four multipart endpoints against the embedded bucket, as the page uses them.
#[tokio::test]
async fn the_portal_starts_resumes_completes_and_aborts() {
    use serde_json::{json, Value};
    let h = Harness::start(&["--multipart-threshold", "250KiB", "--part-size", "100KiB"]).await;
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let file = json!({"name": "movie.mp4", "size": data.len(), "content_type": "video/mp4"});
    let started = h
        .call(
            "start_multipart",
            json!({"file": file, "naming": "original", "folder": "uploads/films"}),
        )
        .await;
    assert_eq!(started.status(), 200);
    let plan: Value = started.json().await.unwrap();
    let upload = plan["upload"].clone();
    assert_eq!(upload["key"], "uploads/films/movie.mp4");
    assert_eq!(upload["part_size"], 102_400);
    let urls = plan["urls"].as_array().unwrap();
    assert_eq!(urls.len(), 3);
    // Send parts 1 and 3, then "reload": resume lists them and presigns only part 2.
    let part = |n: usize| &data[(n - 1) * 102_400..(n * 102_400).min(data.len())];
    for (number, url) in urls
        .iter()
        .map(|u| (u[0].as_u64().unwrap() as usize, u[1].as_str().unwrap()))
    {
        if number != 2 {
            let response = h
                .http
                .put(url)
                .body(part(number).to_vec())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "part {number}");
        }
    }
    let resumed: Value = h
        .call("resume_multipart", json!({"upload": upload}))
        .await
        .json()
        .await
        .unwrap();
    let stored: Vec<u64> = resumed["stored"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["number"].as_u64().unwrap())
        .collect();
    assert_eq!(stored, vec![1, 3]);
    let missing: Vec<u64> = resumed["urls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u[0].as_u64().unwrap())
        .collect();
    assert_eq!(missing, vec![2]);
    let url = resumed["urls"][0][1].as_str().unwrap();
    assert_eq!(
        h.http
            .put(url)
            .body(part(2).to_vec())
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // A reference the portal did not make is refused everywhere.
    let mut forged = upload.clone();
    forged["key"] = json!("uploads/elsewhere.mp4");
    for endpoint in ["resume_multipart", "abort_multipart"] {
        let response = h.call(endpoint, json!({"upload": forged})).await;
        assert_eq!(response.status(), 400, "{endpoint}");
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"Invalid": "UploadGone"})
        );
    }
    let parts: Vec<Value> = (1..=3)
        .map(|n| json!({"number": n, "etag": common::md5_hex(part(n))}))
        .collect();
    let wrong = h
        .call(
            "complete_multipart",
            json!({"upload": upload, "parts": &parts[..2]}),
        )
        .await;
    assert_eq!(
        wrong.json::<Value>().await.unwrap(),
        json!({"Invalid": "WrongParts"})
    );
    let done = h
        .call(
            "complete_multipart",
            json!({"upload": upload, "parts": parts}),
        )
        .await;
    assert_eq!(done.status(), 200);
    let done: Value = done.json().await.unwrap();
    assert!(done["etag"].as_str().unwrap().ends_with("-3"));
    assert_eq!(
        std::fs::read(h.object_path("uploads/films/movie.mp4")).unwrap(),
        data
    );

    // A second upload, aborted: its parts go, nothing is stored; then it is gone.
    let again: Value = h
        .call(
            "start_multipart",
            json!({"file": file, "naming": "original", "folder": "uploads/films"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["upload"]["key"], "uploads/films/movie-1.mp4");
    let url = again["urls"][0][1].as_str().unwrap();
    assert_eq!(
        h.http
            .put(url)
            .body(part(1).to_vec())
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        h.call("abort_multipart", json!({"upload": again["upload"]}))
            .await
            .status(),
        200
    );
    assert_eq!(entries(&h, "multipart"), 0);
    assert!(!h.object_path("uploads/films/movie-1.mp4").exists());
    let gone = h
        .call("resume_multipart", json!({"upload": again["upload"]}))
        .await;
    assert_eq!(
        gone.json::<Value>().await.unwrap(),
        json!({"Invalid": "UploadGone"})
    );
    // Small files are not multipart; bad folders are refused as for any upload.
    let small = json!({"name": "a.txt", "size": 10, "content_type": "text/plain"});
    let refused = h
        .call(
            "start_multipart",
            json!({"file": small, "naming": "random", "folder": "uploads/"}),
        )
        .await;
    assert_eq!(refused.status(), 400);
    let outside = h
        .call(
            "start_multipart",
            json!({"file": file, "naming": "random", "folder": "../etc"}),
        )
        .await;
    assert_eq!(
        outside.json::<Value>().await.unwrap(),
        json!({"Invalid": {"Folder": "DotSegment"}})
    );
}

/// Uploads whose page never came back are aborted once old enough, only the portal's own.
#[tokio::test]
async fn abandoned_uploads_are_aborted_when_old_enough() {
    use std::time::Duration;
    use upload_portal::server::portal::multipart::abort_abandoned;
    let h = Harness::start(&[]).await;
    let ours = [
        initiate(&h, "uploads/a.bin").await,
        initiate(&h, "uploads/deep/b.bin").await,
    ];
    let theirs = initiate(&h, "backups/c.bin").await;
    assert_eq!(
        put_part(&h, "uploads/a.bin", &ours[0], 1, b"part")
            .await
            .status(),
        200
    );
    let now = OffsetDateTime::now_utc();
    let target = &h.state.target;
    assert_eq!(
        abort_abandoned(target, "uploads/", Duration::from_secs(3600), now)
            .await
            .unwrap(),
        0
    );
    let later = now + Duration::from_secs(7200);
    assert_eq!(
        abort_abandoned(target, "uploads/", Duration::from_secs(3600), later)
            .await
            .unwrap(),
        2
    );
    let left: Vec<String> = std::fs::read_dir(h.bucket_root.join("multipart"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, vec![theirs]);
    let gone = put_part(&h, "uploads/a.bin", &ours[0], 2, b"late").await;
    assert_eq!(error_code(&gone.text().await.unwrap()), "NoSuchUpload");
}

/// The `(Key, UploadId)` of each `<Upload>` and each common prefix of a ListMultipartUploads
/// reply.
fn listed_uploads(body: &str) -> (Vec<(String, String)>, Vec<String>) {
    let uploads = body
        .split("<Upload>")
        .skip(1)
        .map(|upload| (xml_value(upload, "Key"), xml_value(upload, "UploadId")))
        .collect();
    let prefixes = body
        .split("<CommonPrefixes>")
        .skip(1)
        .map(|common| xml_value(common, "Prefix"))
        .collect();
    (uploads, prefixes)
}

async fn list_uploads(h: &Harness, query: &[(&str, Option<&str>)]) -> reqwest::Response {
    let mut query = query.to_vec();
    query.insert(0, ("uploads", None));
    signed(h, reqwest::Method::GET, "", &query, "", &[])
        .send()
        .await
        .unwrap()
}

/// ListMultipartUploads as OSS answers it: under a prefix, by key and then upload id, a page
/// of `max-uploads` after the markers of the page before, folded at a delimiter.
#[tokio::test]
async fn uploads_in_progress_are_listed_a_page_at_a_time() {
    let h = Harness::start(&[]).await;
    let mut ours = Vec::new();
    // Three of one key, so that a page ends among them and the next goes on by upload id.
    let keys = [
        "up/a.bin",
        "up/a.bin",
        "up/a.bin",
        "up/b/1.bin",
        "up/b/2.bin",
        "up/d e.bin",
    ];
    for key in keys {
        ours.push((key.to_owned(), initiate(&h, key).await));
    }
    initiate(&h, "other/d.bin").await;
    ours.sort();

    // Two a page: every upload under the prefix once, in order, whatever the page size.
    let (mut seen, mut markers, mut pages) = (Vec::new(), None::<(String, String)>, 0);
    while pages < 10 {
        let mut query = vec![("prefix", Some("up/")), ("max-uploads", Some("2"))];
        if let Some((key, id)) = &markers {
            query.push(("key-marker", Some(key.as_str())));
            query.push(("upload-id-marker", Some(id.as_str())));
        }
        let body = list_uploads(&h, &query).await.text().await.unwrap();
        let (page, _) = listed_uploads(&body);
        assert!(page.len() <= 2, "{body}");
        seen.extend(page);
        pages += 1;
        if xml_value(&body, "IsTruncated") == "false" {
            break;
        }
        markers = Some((
            xml_value(&body, "NextKeyMarker"),
            xml_value(&body, "NextUploadIdMarker"),
        ));
    }
    assert_eq!((seen, pages), (ours.clone(), 3));

    // A key marker alone starts after every upload of that key.
    let body = list_uploads(
        &h,
        &[("prefix", Some("up/")), ("key-marker", Some("up/a.bin"))],
    )
    .await
    .text()
    .await
    .unwrap();
    assert_eq!(listed_uploads(&body).0, ours[3..].to_vec());

    // Folded at '/': the uploads under up/b/ count once, as their common prefix.
    let body = list_uploads(&h, &[("prefix", Some("up/")), ("delimiter", Some("/"))])
        .await
        .text()
        .await
        .unwrap();
    let (uploads, prefixes) = listed_uploads(&body);
    let keys: Vec<&str> = uploads.iter().map(|(key, _)| key.as_str()).collect();
    assert_eq!(keys, ["up/a.bin", "up/a.bin", "up/a.bin", "up/d e.bin"]);
    assert_eq!(prefixes, ["up/b/"]);

    // Names URL-encoded when asked, markers too.
    let query = [
        ("prefix", Some("up/d")),
        ("max-uploads", Some("1")),
        ("encoding-type", Some("url")),
    ];
    let body = list_uploads(&h, &query).await.text().await.unwrap();
    assert_eq!(listed_uploads(&body).0[0].0, "up/d%20e.bin");
    assert_eq!(xml_value(&body, "NextKeyMarker"), "up/d%20e.bin");
    assert_eq!(xml_value(&body, "EncodingType"), "url");

    for bad in ["0", "1001", "many"] {
        let refused = list_uploads(&h, &[("max-uploads", Some(bad))]).await;
        assert_eq!(refused.status(), 400);
        assert_eq!(
            error_code(&refused.text().await.unwrap()),
            "InvalidArgument"
        );
    }
}

/// The portal finds every upload under its root, past the store's first page of 1000.
#[tokio::test]
async fn the_portal_lists_uploads_past_the_first_page() {
    use futures::StreamExt;
    let h = Harness::start(&[]).await;
    let keys: Vec<String> = (0..1003).map(|n| format!("uploads/{n:04}.bin")).collect();
    let mut started: Vec<String> = futures::stream::iter(&keys)
        .map(|key| initiate(&h, key))
        .buffer_unordered(16)
        .collect()
        .await;
    initiate(&h, "elsewhere/x.bin").await;
    let mut listed: Vec<String> = h
        .state
        .target
        .list_multipart_uploads("uploads/")
        .await
        .unwrap()
        .into_iter()
        .map(|(key, id, _)| {
            assert!(key.starts_with("uploads/"), "{key}");
            id
        })
        .collect();
    started.sort();
    listed.sort();
    assert_eq!(listed, started);
}
