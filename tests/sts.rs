//! STS-backed signing end to end: the portal assumes a role at the local STS endpoint (which
//! verifies the RPC signature), signs with the temporary key, and the bucket checks the token.
#![cfg(feature = "ssr")]

mod common;

use common::{error_code, file, ticket_form, Harness, AK, SK};
use serde_json::{json, Value};
use time::OffsetDateTime;
use upload_portal::server::protocol::signing::sts;

fn field<'a>(ticket: &'a Value, name: &str) -> Option<&'a str> {
    ticket["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|pair| pair[0] == name)
        .and_then(|pair| pair[1].as_str())
}

#[tokio::test]
async fn uploads_signed_with_temporary_credentials_are_accepted() {
    for version in ["v4", "v1"] {
        let h = Harness::start_with_sts(&["--signature-version", version]).await;
        let text = file("a.txt", 3, "text/plain");
        let ticket = h.ticket(None, text, "random", "uploads/").await;
        let token = field(&ticket, "x-oss-security-token").expect("a security token field");
        assert!(token.starts_with("CAIS"));
        let key_id = field(&ticket, "OSSAccessKeyId")
            .or(field(&ticket, "x-oss-credential"))
            .unwrap();
        assert!(key_id.starts_with("STS."), "{key_id}");
        assert!(!ticket.to_string().contains(SK));

        // A forged token is refused, and so is the same key without one.
        let forged = h
            .post_form(ticket_form(
                &ticket,
                Some(("x-oss-security-token", "CAISforged")),
                b"abc",
                "a.txt",
            ))
            .await;
        assert_eq!(forged.status(), 403);
        assert_eq!(
            error_code(&forged.text().await.unwrap()),
            "InvalidSecurityToken"
        );
        let ok = h
            .post_form(ticket_form(&ticket, None, b"abc", "a.txt"))
            .await;
        assert_eq!(ok.status(), 200, "{version}: {}", ok.text().await.unwrap());
        let key = ticket["key"].as_str().unwrap();
        assert_eq!(std::fs::read(h.object_path(key)).unwrap(), b"abc");
    }
}

#[tokio::test]
async fn v4_policies_pin_the_security_token() {
    let h = Harness::start_with_sts(&[]).await;
    let text = file("a.txt", 3, "text/plain");
    let ticket = h.ticket(None, text, "random", "uploads/").await;
    use base64::Engine;
    let policy = base64::engine::general_purpose::STANDARD
        .decode(field(&ticket, "policy").unwrap())
        .unwrap();
    let policy = String::from_utf8(policy).unwrap();
    assert!(
        policy.contains("{\"x-oss-security-token\":\"CAIS"),
        "{policy}"
    );
}

#[tokio::test]
async fn concurrent_signing_shares_one_assume_role() {
    let h = Harness::start_with_sts(&[]).await;
    let text = file("a.txt", 1, "text/plain");
    let calls = (0..40).map(|_| h.ticket(None, text.clone(), "random", "uploads/"));
    let tickets = futures_util::future::join_all(calls).await;
    let mut key_ids = std::collections::HashSet::new();
    for ticket in tickets {
        key_ids.insert(
            field(&ticket, "x-oss-credential")
                .unwrap()
                .split('/')
                .next()
                .unwrap()
                .to_owned(),
        );
    }
    let sts = h.state.target.sts().unwrap();
    assert_eq!(sts.calls(), 1, "one AssumeRole for 40 concurrent signers");
    assert_eq!(key_ids.len(), 1);
}

#[tokio::test]
async fn credentials_are_renewed_before_they_expire() {
    let h = Harness::start_with_sts(&[]).await;
    let sts = h.state.target.sts().unwrap();
    let now = OffsetDateTime::now_utc();
    let first = sts.credentials(now).await.unwrap();
    let again = sts.credentials(now).await.unwrap();
    assert_eq!(
        first.credentials.access_key_id,
        again.credentials.access_key_id
    );
    assert_eq!(sts.calls(), 1);
    // Close to the expiry (within the policy TTL + 2 minutes), a new key is fetched.
    let late = first.expiration - time::Duration::minutes(3);
    let renewed = sts.credentials(late).await.unwrap();
    assert_ne!(
        renewed.credentials.access_key_id,
        first.credentials.access_key_id
    );
    assert_eq!(sts.calls(), 2);
}

#[tokio::test]
async fn sts_refusal_is_a_clear_error_and_signs_nothing() {
    // The portal's base key is unknown to this STS endpoint.
    let other = Harness::start_with_sts(&[]).await;
    let sts_url = other.sts_url.clone().unwrap();
    let h = Harness::start(&[
        "--sts-role-arn",
        "acs:ram::1234567890123456:role/uploader",
        "--sts-endpoint",
        &sts_url,
        "--access-key-id",
        "LTAIunknown",
    ])
    .await;
    let files = json!([file("a.txt", 1, "text/plain")]);
    let (status, body) = h.sign(None, files, "random", "uploads/").await;
    assert_eq!(status, 503);
    assert_eq!(body, json!("Unavailable"));
}

fn signed_params(secret: &str, method: &str, nonce: &str, timestamp: &str) -> String {
    let params = [
        ("Action", "AssumeRole"),
        ("RoleArn", "acs:ram::1234567890123456:role/uploader"),
        ("RoleSessionName", "test-session"),
        ("DurationSeconds", "900"),
        ("Format", "JSON"),
        ("Version", "2015-04-01"),
        ("AccessKeyId", AK),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", nonce),
        ("Timestamp", timestamp),
    ];
    let canonical = sts::canonical_query(params);
    let signature = sts::signature(secret, &sts::string_to_sign(method, &canonical));
    format!("{canonical}&Signature={}", sts::percent_encode(&signature))
}

#[tokio::test]
async fn local_sts_verifies_like_alibaba_sts() {
    let h = Harness::start_with_sts(&[]).await;
    let url = h.sts_url.clone().unwrap();
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let timestamp = now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let post = |body: String| {
        h.http
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    // The Go SDK's GET form is accepted too.
    let get = h
        .http
        .get(format!(
            "{url}?{}",
            signed_params(SK, "GET", "n-get", &timestamp)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 200);
    let reply: Value = get.json().await.unwrap();
    assert!(reply["Credentials"]["AccessKeyId"]
        .as_str()
        .unwrap()
        .starts_with("STS."));
    assert!(reply["Credentials"]["Expiration"]
        .as_str()
        .unwrap()
        .ends_with('Z'));

    let wrong_verb = post(signed_params(SK, "GET", "n-1", &timestamp))
        .await
        .unwrap();
    assert_eq!(wrong_verb.status(), 400);
    assert_eq!(
        wrong_verb.json::<Value>().await.unwrap()["Code"],
        "SignatureDoesNotMatch"
    );
    let forged = post(signed_params("not the secret", "POST", "n-2", &timestamp))
        .await
        .unwrap();
    assert_eq!(
        forged.json::<Value>().await.unwrap()["Code"],
        "SignatureDoesNotMatch"
    );
    assert_eq!(
        post(signed_params(SK, "POST", "n-3", &timestamp))
            .await
            .unwrap()
            .status(),
        200
    );
    let replay = post(signed_params(SK, "POST", "n-3", &timestamp))
        .await
        .unwrap();
    assert_eq!(
        replay.json::<Value>().await.unwrap()["Code"],
        "SignatureNonceUsed"
    );
    let old = (now - time::Duration::hours(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let stale = post(signed_params(SK, "POST", "n-4", &old)).await.unwrap();
    assert_eq!(
        stale.json::<Value>().await.unwrap()["Code"],
        "InvalidTimeStamp.Expired"
    );
}
