//! The bucket's REST operations over a real socket, as the SDKs cannot test them: what a
//! stranger or a replayed signature gets from PutObject, ranged and conditional GETs, response
//! overrides, listings, multi-delete, path-style addressing and V4 signatures. (The SDKs'
//! happy paths run in scripts/sdk.sh, with oss2 and ali-oss themselves.)
#![cfg(feature = "ssr")]

mod common;

use base64::Engine;
use common::{error_code, md5_hex, signed, Harness, AK, SK};
use reqwest::Method;
use time::OffsetDateTime;
use upload_portal::server::protocol::signing::{v1, v4};

fn b64_md5(data: &[u8]) -> String {
    use md5::{Digest, Md5};
    base64::engine::general_purpose::STANDARD.encode(Md5::digest(data))
}

/// The bucket's own origin (`http://127.0.0.1:<port>`), for bucket-as-host URLs.
fn origin(h: &Harness) -> String {
    h.bucket_url
        .split('/')
        .take(3)
        .collect::<Vec<_>>()
        .join("/")
}

async fn put(h: &Harness, key: &str, data: &[u8], extra: &[(&str, &str)]) -> reqwest::Response {
    signed(h, Method::PUT, key, &[], "text/plain", extra)
        .body(data.to_vec())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn put_object_is_signed_checked_and_never_partial() {
    let h = Harness::start(&[]).await;
    let url = |key: &str| format!("{}{key}", h.bucket_url);
    // A stranger cannot write.
    let anonymous = h
        .http
        .put(url("uploads/a.txt"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 403);
    assert_eq!(error_code(&anonymous.text().await.unwrap()), "AccessDenied");
    // A signature for one key does not write another.
    let date = v1::http_date(OffsetDateTime::now_utc());
    let for_a = v1::authorization(
        AK,
        SK,
        &v1::HeaderRequest {
            method: "PUT",
            content_type: "text/plain",
            date: &date,
            oss_headers: vec![("x-oss-date", &date)],
            bucket: "portal-dev",
            key: "uploads/a.txt",
            ..Default::default()
        },
    );
    let replayed = h
        .http
        .put(url("uploads/b.txt"))
        .header("authorization", for_a)
        .header("x-oss-date", &date)
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status(), 403);
    let body = replayed.text().await.unwrap();
    assert_eq!(error_code(&body), "SignatureDoesNotMatch");
    // What was signed comes back to help debug a signer; the secret never does.
    assert!(body.contains("<StringToSign>PUT\n\ntext/plain\n"), "{body}");
    assert!(
        body.contains("/portal-dev/uploads/b.txt</StringToSign>"),
        "{body}"
    );
    assert!(
        body.contains("<SignatureProvided>") && !body.contains(SK),
        "{body}"
    );
    // A key that cannot be a file is refused (dots encoded, or the client would resolve them).
    let date = v1::http_date(OffsetDateTime::now_utc());
    let request = v1::HeaderRequest {
        method: "PUT",
        date: &date,
        oss_headers: vec![("x-oss-date", &date)],
        bucket: "portal-dev",
        key: "uploads/../../escape.txt",
        ..Default::default()
    };
    // As `curl --path-as-is` sends it: HTTP clients resolve dot segments themselves.
    let authority = origin(&h).trim_start_matches("http://").to_owned();
    let raw = format!(
        "PUT /portal-dev/uploads/../../escape.txt HTTP/1.1\r\nhost: {authority}\r\n\
         authorization: {}\r\nx-oss-date: {date}\r\ncontent-length: 1\r\nconnection: close\r\n\r\nx",
        v1::authorization(AK, SK, &request)
    );
    let mut socket = tokio::net::TcpStream::connect(&authority).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    socket.write_all(raw.as_bytes()).await.unwrap();
    let mut answer = String::new();
    socket.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains("<Code>InvalidObjectName</Code>"),
        "{answer}"
    );
    // A body that is not what its Content-MD5 says is refused, and nothing is stored.
    let data = b"hello, bucket";
    let wrong = put(&h, "uploads/a.txt", data, &[]).await;
    assert_eq!(wrong.status(), 200);
    let digest = b64_md5(b"something else");
    let mismatch = signed(&h, Method::PUT, "uploads/c.txt", &[], "text/plain", &[])
        .header("content-md5", &digest)
        .body(data.to_vec())
        .send()
        .await
        .unwrap();
    // Content-MD5 is signed in V1: the helper did not sign it, so the signature fails first.
    assert_eq!(mismatch.status(), 403);
    let date = v1::http_date(OffsetDateTime::now_utc());
    let request = v1::HeaderRequest {
        method: "PUT",
        content_md5: &digest,
        content_type: "text/plain",
        date: &date,
        oss_headers: vec![("x-oss-date", &date)],
        bucket: "portal-dev",
        key: "uploads/c.txt",
        ..Default::default()
    };
    let digest_refused = h
        .http
        .put(url("uploads/c.txt"))
        .header("authorization", v1::authorization(AK, SK, &request))
        .header("x-oss-date", &date)
        .header("content-type", "text/plain")
        .header("content-md5", &digest)
        .body(data.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(digest_refused.status(), 400);
    assert_eq!(
        error_code(&digest_refused.text().await.unwrap()),
        "InvalidDigest"
    );
    assert!(!h.object_path("uploads/c.txt").exists());
    assert_eq!(
        h.stored_files().len(),
        1,
        "only a.txt: {:?}",
        h.stored_files()
    );
    // x-oss-forbid-overwrite keeps what is there.
    let kept = put(
        &h,
        "uploads/a.txt",
        b"replaced",
        &[("x-oss-forbid-overwrite", "true")],
    )
    .await;
    assert_eq!(kept.status(), 409);
    assert_eq!(std::fs::read(h.object_path("uploads/a.txt")).unwrap(), data);
    // What a PutObject answers: the ETag and CRC-64 of what was stored.
    let again = put(&h, "uploads/d.txt", data, &[]).await;
    assert_eq!(
        again.headers()["etag"],
        format!("\"{}\"", md5_hex(data)).as_str()
    );
    assert!(again.headers().contains_key("x-oss-hash-crc64ecma"));
}

#[tokio::test]
async fn ranges_conditions_and_overrides_read_as_oss_does() {
    let h = Harness::start(&[]).await;
    let data: Vec<u8> = (0..100u8).collect();
    assert_eq!(put(&h, "uploads/r.bin", &data, &[]).await.status(), 200);
    let url = format!("{}uploads/r.bin", h.bucket_url);
    let get = |headers: &[(&str, &str)]| {
        let mut request = h.http.get(&url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };
    let part = get(&[("range", "bytes=10-19")]).await.unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.headers()["content-range"], "bytes 10-19/100");
    assert_eq!(part.headers()["accept-ranges"], "bytes");
    assert_eq!(part.bytes().await.unwrap().as_ref(), &data[10..20]);
    let tail = get(&[("range", "bytes=-5")]).await.unwrap();
    assert_eq!(tail.bytes().await.unwrap().as_ref(), &data[95..]);
    // Past the end: OSS serves the whole object, unless asked to follow the standard.
    let whole = get(&[("range", "bytes=200-")]).await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.bytes().await.unwrap().len(), 100);
    let refused = get(&[
        ("range", "bytes=200-"),
        ("x-oss-range-behavior", "standard"),
    ])
    .await
    .unwrap();
    assert_eq!(refused.status(), 416);
    assert_eq!(refused.headers()["content-range"], "bytes */100");
    assert_eq!(error_code(&refused.text().await.unwrap()), "InvalidRange");
    // Conditional reads.
    let etag = format!("\"{}\"", md5_hex(&data));
    let not_modified = get(&[("if-none-match", &etag)]).await.unwrap();
    assert_eq!(not_modified.status(), 304);
    assert!(not_modified.bytes().await.unwrap().is_empty());
    let failed = get(&[("if-match", "\"0000\"")]).await.unwrap();
    assert_eq!(failed.status(), 412);
    assert_eq!(get(&[("if-match", &etag)]).await.unwrap().status(), 200);
    // Anyone may read (public-read), but only a signed request overrides what the answer
    // says; and even then a type that could run script stays a sandboxed download.
    let anonymous = h
        .http
        .get(format!("{url}?response-content-type=text/html"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.headers()["content-type"], "text/plain");
    let expires = (OffsetDateTime::now_utc().unix_timestamp() + 300).to_string();
    let presigned = v1::presigned_url(
        &url,
        AK,
        SK,
        &v1::HeaderRequest {
            method: "GET",
            date: &expires,
            bucket: "portal-dev",
            key: "uploads/r.bin",
            sub_resources: vec![
                ("response-content-type", Some("text/html")),
                (
                    "response-content-disposition",
                    Some("inline; filename=\"r.html\""),
                ),
            ],
            ..Default::default()
        },
    );
    let overridden = h.http.get(&presigned).send().await.unwrap();
    assert_eq!(overridden.status(), 200);
    assert_eq!(overridden.headers()["content-type"], "text/html");
    assert_eq!(
        overridden.headers()["content-disposition"],
        "attachment; filename=\"r.html\""
    );
    assert_eq!(overridden.headers()["x-content-type-options"], "nosniff");
    assert!(overridden.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("sandbox"));
}

#[tokio::test]
async fn listings_and_multi_delete_are_signed_and_exact() {
    let h = Harness::start(&[]).await;
    for key in [
        "uploads/l/a.txt",
        "uploads/l/b/1.txt",
        "uploads/l/b/2.txt",
        "uploads/keep.txt",
    ] {
        assert_eq!(put(&h, key, b"x", &[]).await.status(), 200);
    }
    let anonymous = h
        .http
        .get(format!("{}?prefix=uploads/", h.bucket_url))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 403);
    let listing = signed(
        &h,
        Method::GET,
        "",
        &[("prefix", Some("uploads/l/")), ("delimiter", Some("/"))],
        "",
        &[],
    )
    .send()
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(listing.contains("<Key>uploads/l/a.txt</Key>"), "{listing}");
    assert!(
        listing.contains("<CommonPrefixes><Prefix>uploads/l/b/</Prefix></CommonPrefixes>"),
        "{listing}"
    );
    assert!(!listing.contains("uploads/l/b/1.txt"), "{listing}");
    assert!(listing.contains(".000Z</LastModified>"), "{listing}");
    // A stranger cannot delete in bulk; a body that is not what was signed deletes nothing.
    let body = "<Delete><Object><Key>uploads/l/a.txt</Key></Object><Object><Key>../../x</Key></Object><Object><Key>uploads/l/b/1.txt</Key></Object></Delete>";
    let anonymous = h
        .http
        .post(format!("{}?delete", h.bucket_url))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 403);
    let delete = |body: &'static str, md5: String| {
        signed(&h, Method::POST, "", &[("delete", None)], "", &[])
            .header("content-md5", md5)
            .body(body)
            .send()
    };
    // (Content-MD5 is not in this signature: the bucket checks it against the body itself.)
    let tampered = delete(body, b64_md5(b"another body")).await.unwrap();
    assert_eq!(tampered.status(), 403);
    assert_eq!(h.stored_files().len(), 4);
    let date = v1::http_date(OffsetDateTime::now_utc());
    let md5 = b64_md5(body.as_bytes());
    let request = v1::HeaderRequest {
        method: "POST",
        content_md5: &md5,
        date: &date,
        oss_headers: vec![("x-oss-date", &date)],
        bucket: "portal-dev",
        sub_resources: vec![("delete", None)],
        ..Default::default()
    };
    let done = h
        .http
        .post(format!("{}?delete", h.bucket_url))
        .header("authorization", v1::authorization(AK, SK, &request))
        .header("x-oss-date", &date)
        .header("content-md5", &md5)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let result = done.text().await.unwrap();
    assert!(
        result.contains("<Deleted><Key>uploads/l/a.txt</Key></Deleted>"),
        "{result}"
    );
    let mut left: Vec<String> = h
        .stored_files()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["2.txt", "keep.txt"]);
}

#[tokio::test]
async fn path_style_and_bucket_as_host_address_the_same_objects() {
    let h = Harness::start(&[]).await;
    // The portal addresses its embedded bucket path-style on an IP.
    assert_eq!(h.bucket_url, format!("{}/portal-dev/", origin(&h)));
    // A folder named like the bucket stays a folder.
    assert_eq!(
        put(&h, "portal-dev/inner.txt", b"inner", &[])
            .await
            .status(),
        200
    );
    assert!(h.object_path("portal-dev/inner.txt").exists());
    let path_style = h
        .http
        .get(format!("{}/portal-dev/portal-dev/inner.txt", origin(&h)))
        .send()
        .await
        .unwrap();
    assert_eq!(path_style.bytes().await.unwrap().as_ref(), b"inner");
    // Bucket as host: the whole path is the key (older links keep working).
    assert_eq!(put(&h, "uploads/x.txt", b"x", &[]).await.status(), 200);
    let as_host = h
        .http
        .get(format!("{}/uploads/x.txt", origin(&h)))
        .send()
        .await
        .unwrap();
    assert_eq!(as_host.bytes().await.unwrap().as_ref(), b"x");
}

/// A V4 header signature for a GET of `key`, by `secret`, at `at`, in `region`.
fn v4_get(
    h: &Harness,
    key: &str,
    secret: &str,
    at: OffsetDateTime,
    region: &str,
) -> reqwest::RequestBuilder {
    let date_time = v4::format_date_time(at);
    let headers = vec![
        ("x-oss-date", date_time.as_str()),
        ("x-oss-content-sha256", v4::UNSIGNED_PAYLOAD),
    ];
    let request = v4::SignedRequest {
        method: "GET",
        bucket: "portal-dev",
        key,
        headers: headers.clone(),
        ..Default::default()
    };
    let authorization = v4::authorization(AK, secret, &date_time, region, &request);
    let mut builder = h
        .http
        .get(format!("{}{key}", h.bucket_url))
        .header("authorization", authorization);
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    builder
}

#[tokio::test]
async fn v4_signatures_are_verified_with_their_scope_and_clock() {
    let h = Harness::start(&[]).await;
    assert_eq!(put(&h, "uploads/v4.txt", b"four", &[]).await.status(), 200);
    let region = h.settings.portal.target.region.clone();
    let now = OffsetDateTime::now_utc();
    let good = v4_get(&h, "uploads/v4.txt", SK, now, &region)
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), 200);
    assert_eq!(good.bytes().await.unwrap().as_ref(), b"four");
    let forged = v4_get(&h, "uploads/v4.txt", "not the secret", now, &region)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let body = forged.text().await.unwrap();
    assert_eq!(error_code(&body), "SignatureDoesNotMatch");
    assert!(
        body.contains("<CanonicalRequest>GET\n/portal-dev/uploads/v4.txt\n"),
        "{body}"
    );
    assert!(body.contains("<StringToSign>OSS4-HMAC-SHA256\n"), "{body}");
    let elsewhere = v4_get(&h, "uploads/v4.txt", SK, now, "cn-hangzhou")
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 400);
    let stale = v4_get(
        &h,
        "uploads/v4.txt",
        SK,
        now - time::Duration::hours(1),
        &region,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(stale.status(), 403);
    assert_eq!(
        error_code(&stale.text().await.unwrap()),
        "RequestTimeTooSkewed"
    );
    // A V4 presigned URL lives x-oss-expires seconds from x-oss-date, no longer.
    let presign = |at: OffsetDateTime, expires: u64| {
        let query = v4::presign_query(
            AK,
            SK,
            &v4::format_date_time(at),
            &region,
            expires,
            &v4::SignedRequest {
                method: "GET",
                bucket: "portal-dev",
                key: "uploads/v4.txt",
                ..Default::default()
            },
        );
        format!("{}uploads/v4.txt?{query}", h.bucket_url)
    };
    assert_eq!(
        h.http.get(presign(now, 60)).send().await.unwrap().status(),
        200
    );
    let expired = h
        .http
        .get(presign(now - time::Duration::minutes(10), 60))
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), 403);
    assert_eq!(error_code(&expired.text().await.unwrap()), "AccessDenied");
    // A HEAD's error has no body: its document rides in x-oss-err, as OSS sends it.
    let head = h
        .http
        .head(format!("{}uploads/missing.txt", h.bucket_url))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 404);
    let document = base64::engine::general_purpose::STANDARD
        .decode(head.headers()["x-oss-err"].as_bytes())
        .unwrap();
    assert_eq!(
        error_code(&String::from_utf8(document).unwrap()),
        "NoSuchKey"
    );
}

#[tokio::test]
async fn copies_stay_in_the_bucket_and_keep_or_replace_headers() {
    let h = Harness::start(&[]).await;
    assert_eq!(
        put(
            &h,
            "uploads/src.txt",
            b"source",
            &[("x-oss-meta-owner", "alice")]
        )
        .await
        .status(),
        200
    );
    let copy = |to: &str, source: &str, extra: &[(&str, &str)]| {
        let mut headers = vec![("x-oss-copy-source", source)];
        headers.extend_from_slice(extra);
        signed(&h, Method::PUT, to, &[], "", &headers).send()
    };
    let kept = copy("uploads/copy.txt", "/portal-dev/uploads%2Fsrc.txt", &[])
        .await
        .unwrap();
    assert_eq!(kept.status(), 200);
    assert!(kept
        .text()
        .await
        .unwrap()
        .contains("<CopyObjectResult><ETag>"));
    let read = h
        .http
        .get(format!("{}uploads/copy.txt", h.bucket_url))
        .send()
        .await
        .unwrap();
    assert_eq!(read.headers()["x-oss-meta-owner"], "alice");
    assert_eq!(read.bytes().await.unwrap().as_ref(), b"source");
    let replaced = copy(
        "uploads/bare.txt",
        "/portal-dev/uploads/src.txt",
        &[("x-oss-metadata-directive", "REPLACE")],
    )
    .await
    .unwrap();
    assert_eq!(replaced.status(), 200);
    let read = h
        .http
        .get(format!("{}uploads/bare.txt", h.bucket_url))
        .send()
        .await
        .unwrap();
    assert!(!read.headers().contains_key("x-oss-meta-owner"));
    // Another bucket, a missing key, a path out of the store: refused, nothing written.
    let other = copy("uploads/x.txt", "/other-bucket/uploads/src.txt", &[])
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    assert_eq!(error_code(&other.text().await.unwrap()), "NoSuchBucket");
    let missing = copy("uploads/x.txt", "/portal-dev/uploads/none.txt", &[])
        .await
        .unwrap();
    assert_eq!(error_code(&missing.text().await.unwrap()), "NoSuchKey");
    let escape = copy("uploads/x.txt", "/portal-dev/..%2F..%2Fetc%2Fpasswd", &[])
        .await
        .unwrap();
    assert_eq!(error_code(&escape.text().await.unwrap()), "NoSuchKey");
    assert!(!h.object_path("uploads/x.txt").exists());
}

/// A part's presigned URL (V1, as a V1 portal hands it to the browser) cannot be replayed as a
/// PutObject: not by splitting its parameters into one value, not by moving them into the key,
/// not by dropping one. (Found by the review of this change.)
#[tokio::test]
async fn a_part_url_is_never_a_put_object() {
    let h = Harness::start(&[]).await;
    let initiated = signed(
        &h,
        Method::POST,
        "uploads/big.bin",
        &[("uploads", None)],
        "",
        &[],
    )
    .send()
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    let id = initiated
        .split("<UploadId>")
        .nth(1)
        .unwrap()
        .split("</UploadId>")
        .next()
        .unwrap()
        .to_owned();
    let expires = (OffsetDateTime::now_utc().unix_timestamp() + 300).to_string();
    let signature = |sub_resources| {
        v1::sign(
            SK,
            &v1::header_string_to_sign(&v1::HeaderRequest {
                method: "PUT",
                date: &expires,
                bucket: "portal-dev",
                key: "uploads/big.bin",
                sub_resources,
                ..Default::default()
            }),
        )
    };
    let signed_part = signature(vec![("partNumber", Some("1")), ("uploadId", Some(&id))]);
    let encode = |t: &str| {
        percent_encoding::utf8_percent_encode(t, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let credentials = format!(
        "OSSAccessKeyId={AK}&Expires={expires}&Signature={}",
        encode(&signed_part)
    );
    let send = |url: String| h.http.put(url).body(vec![7u8; 1000]).send();
    // The honest use works.
    let part = send(format!(
        "{}uploads/big.bin?partNumber=1&uploadId={id}&{credentials}",
        h.bucket_url
    ))
    .await
    .unwrap();
    assert_eq!(part.status(), 200);
    // One value holding both parameters.
    let split = send(format!(
        "{}uploads/big.bin?partNumber={}&{credentials}",
        h.bucket_url,
        encode(&format!("1&uploadId={id}"))
    ))
    .await
    .unwrap();
    assert_eq!(split.status(), 400);
    // The parameters moved into the key.
    let in_key = send(format!(
        "{}uploads/big.bin{}?{credentials}",
        h.bucket_url,
        encode(&format!("?partNumber=1&uploadId={id}"))
    ))
    .await
    .unwrap();
    assert_eq!(in_key.status(), 400);
    // One parameter dropped.
    let dropped = send(format!(
        "{}uploads/big.bin?partNumber=1&{credentials}",
        h.bucket_url
    ))
    .await
    .unwrap();
    assert_eq!(dropped.status(), 400);
    assert!(h.stored_files().is_empty(), "{:?}", h.stored_files());
    // A header the signature cannot read is refused, not acted on unsigned.
    let unreadable = signed(&h, Method::PUT, "uploads/c.txt", &[], "", &[])
        .header(
            "x-oss-copy-source",
            reqwest::header::HeaderValue::from_bytes(b"/portal-dev/\xff").unwrap(),
        )
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(unreadable.status(), 400);
    assert!(h.stored_files().is_empty());
}
