//! The signer against the official SDKs' vectors (`../shared/oss-vectors.json`): bit for bit.
#![cfg(feature = "ssr")]

use serde_json::Value;
use upload_portal::server::protocol::policy::{Condition, PolicyDocument};
use upload_portal::server::protocol::signing::v1;

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/oss-vectors.json");
    let text = std::fs::read_to_string(path).expect("../shared/oss-vectors.json is readable");
    serde_json::from_str::<Value>(&text).unwrap()["vectors"].clone()
}

fn s<'a>(v: &'a Value, path: &str) -> &'a str {
    v.pointer(path)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {path}"))
}

/// Rebuilds the vector's policy object through our policy model, so the test proves the
/// model serialises like ali-oss, not only that HMAC works.
fn policy_from_vector(object: &Value) -> PolicyDocument {
    let expiration = time::OffsetDateTime::parse(
        object["expiration"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let conditions = object["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| match c {
            Value::Object(map) => {
                let (k, v) = map.iter().next().unwrap();
                Condition::exact(k, v.as_str().unwrap())
            }
            Value::Array(items) => {
                let op = items[0].as_str().unwrap();
                let field = || {
                    items[1]
                        .as_str()
                        .unwrap()
                        .trim_start_matches('$')
                        .to_string()
                };
                let list = || {
                    items[2]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap().to_string())
                        .collect()
                };
                match op {
                    "eq" => Condition::eq(&field(), items[2].as_str().unwrap()),
                    "starts-with" => Condition::StartsWith {
                        field: field(),
                        prefix: items[2].as_str().unwrap().into(),
                    },
                    "in" => Condition::In {
                        field: field(),
                        values: list(),
                    },
                    "not-in" => Condition::NotIn {
                        field: field(),
                        values: list(),
                    },
                    "content-length-range" => Condition::ContentLengthRange {
                        min: items[1].as_u64().unwrap(),
                        max: items[2].as_u64().unwrap(),
                    },
                    other => panic!("vector uses {other}"),
                }
            }
            _ => panic!("unexpected condition"),
        })
        .collect();
    PolicyDocument {
        expiration,
        conditions,
    }
}

#[test]
fn postobject_v1_matches_ali_oss() {
    let v = &vectors()["postobject_v1"];
    let policy = policy_from_vector(&v["policy_object"]);
    let json = policy.to_json();
    assert_eq!(json, s(v, "/policy_json"));
    use base64::Engine;
    let policy_b64 = base64::engine::general_purpose::STANDARD.encode(json.as_bytes());
    assert_eq!(policy_b64, s(v, "/policy_b64"));
    let signature = v1::sign(s(v, "/access_key_secret"), &policy_b64);
    assert_eq!(signature, s(v, "/Signature"));
    assert!(v1::verify(
        s(v, "/access_key_secret"),
        &policy_b64,
        &signature
    ));
    assert!(!v1::verify("another secret", &policy_b64, &signature));
    assert!(!v1::verify(
        s(v, "/access_key_secret"),
        &policy_b64,
        "not base64!"
    ));
}

#[test]
fn postobject_v1_sts_matches_ali_oss() {
    let all = vectors();
    let v = &all["postobject_v1_sts"];
    let sts_secret = "FakeTemporarySecretForTestsOnly0001";
    assert_eq!(
        v1::sign(sts_secret, s(v, "/policy_b64")),
        s(v, "/Signature")
    );
}

#[test]
fn doc_example_postobject_signature() {
    let v = &vectors()["doc_examples"];
    assert_eq!(
        v1::sign(s(v, "/secret"), s(v, "/postobject_v1/policy_b64")),
        s(v, "/postobject_v1/signature_computed")
    );
}

#[test]
fn header_v1_matches_ali_oss() {
    let all = vectors();
    // PutObject, InitiateMultipartUpload, UploadPart and CompleteMultipartUpload, as ali-oss
    // signs them: sub-resources come from the URL's query.
    for name in [
        "put_object",
        "initiate_multipart_upload",
        "upload_part",
        "complete_multipart_upload",
    ] {
        let v = &all["header_v1"][name];
        let headers = v["signed_headers_sent"].as_object().unwrap();
        let h = |name: &str| headers.get(name).and_then(Value::as_str).unwrap_or("");
        let url = s(v, "/url");
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let key = path.split_once(".com/").unwrap().1;
        let sub_resources: Vec<(&str, Option<&str>)> = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| match pair.split_once('=') {
                Some((k, "")) => (k, None),
                Some((k, v)) => (k, Some(v)),
                None => (pair, None),
            })
            .collect();
        let request = v1::HeaderRequest {
            method: s(v, "/method"),
            content_md5: h("content-md5"),
            content_type: h("content-type"),
            date: h("x-oss-date"),
            oss_headers: headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
                .filter(|(k, _)| k.starts_with("x-oss-"))
                .collect(),
            bucket: "examplebucket",
            key,
            sub_resources,
        };
        assert_eq!(
            v1::header_string_to_sign(&request),
            s(v, "/string_to_sign"),
            "{name}"
        );
        let authorization = v1::authorization(
            "LTAI5tFakeAccessKeyId0001",
            "FakeAccessKeySecretForTestsOnly0001",
            &request,
        );
        assert_eq!(authorization, s(v, "/authorization"), "{name}");
    }
}

/// Vector name, method, content type, key, sub-resources, access key id, secret.
type PresignCase<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    Vec<(&'a str, Option<&'a str>)>,
    &'a str,
    &'a str,
);

#[test]
fn presign_v1_matches_ali_oss() {
    let all = vectors();
    let v = &all["presign_v1"];
    let expires = v["expires_epoch"].as_i64().unwrap().to_string();
    let (ak, sk) = (
        "LTAI5tFakeAccessKeyId0001",
        "FakeAccessKeySecretForTestsOnly0001",
    );
    let (sts_ak, sts_sk, token) = (
        "STS.NFakeTemporaryAccessKeyId0001",
        "FakeTemporarySecretForTestsOnly0001",
        "CAISFakeSecurityToken+/=0001",
    );
    let base = "http://examplebucket.oss-cn-hangzhou.aliyuncs.com/";
    let cases: [PresignCase; 4] = [
        (
            "get_object",
            "GET",
            "",
            "user/alice/photo.jpg",
            vec![],
            ak,
            sk,
        ),
        (
            "put_object_with_content_type",
            "PUT",
            "image/jpeg",
            "user/alice/photo.jpg",
            vec![],
            ak,
            sk,
        ),
        (
            "upload_part",
            "PUT",
            "",
            "user/alice/big.bin",
            vec![
                ("partNumber", Some("1")),
                ("uploadId", Some("0004B9894A22E5B1888A1E29F8236E2D")),
            ],
            ak,
            sk,
        ),
        (
            "put_object_sts",
            "PUT",
            "",
            "user/alice/photo.jpg",
            vec![("security-token", Some(token))],
            sts_ak,
            sts_sk,
        ),
    ];
    for (name, method, content_type, key, sub_resources, access_key_id, secret) in cases {
        let request = v1::HeaderRequest {
            method,
            content_type,
            date: &expires,
            bucket: "examplebucket",
            key,
            sub_resources,
            ..Default::default()
        };
        let case = &v[name];
        assert_eq!(
            v1::header_string_to_sign(&request),
            s(case, "/string_to_sign"),
            "{name}"
        );
        assert_eq!(
            v1::presigned_url(&format!("{base}{key}"), access_key_id, secret, &request),
            s(case, "/url"),
            "{name}"
        );
    }
}

#[test]
fn doc_example_header_signature() {
    let v = &vectors()["doc_examples"];
    assert_eq!(
        v1::sign(s(v, "/secret"), s(v, "/header_v1/string_to_sign")),
        s(v, "/header_v1/signature_published_in_doc")
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn postobject_v4_matches_ali_oss() {
    use upload_portal::server::protocol::signing::v4;
    let v = &vectors()["postobject_v4"];
    let secret = s(v, "/access_key_secret");
    let policy = policy_from_vector(&v["policy_object"]);
    let json = policy.to_json();
    assert_eq!(json, s(v, "/policy_json"));
    use base64::Engine;
    let policy_b64 = base64::engine::general_purpose::STANDARD.encode(json.as_bytes());
    assert_eq!(policy_b64, s(v, "/policy_b64_string_to_sign"));
    let key = v4::signing_key(secret, "20231203", "cn-hangzhou");
    assert_eq!(
        hex(&key),
        v["signing_key_chain_hex"]["HMAC-SHA256(prev, \"aliyun_v4_request\")"]
            .as_str()
            .unwrap()
    );
    let signature = v4::post_signature(secret, "20231203", "cn-hangzhou", &policy_b64);
    assert_eq!(signature, s(v, "/x_oss_signature"));
    assert!(v4::verify_post_signature(
        secret,
        "20231203",
        "cn-hangzhou",
        &policy_b64,
        &signature
    ));
    assert!(!v4::verify_post_signature(
        secret,
        "20231204",
        "cn-hangzhou",
        &policy_b64,
        &signature
    ));
}

/// The OSS target, configured as a user would, signs the vector's V4 form bit for bit.
#[tokio::test]
async fn oss_target_signs_v4_forms_like_ali_oss() {
    use clap::Parser;
    use time::macros::datetime;
    use upload_portal::server::config::Config;
    use upload_portal::server::portal::storage::Target;
    let v = &vectors()["postobject_v4"];
    let settings = Config::try_parse_from([
        "upload-portal",
        "--target",
        "oss",
        "--bucket",
        "examplebucket",
        "--oss-region",
        "cn-hangzhou",
        "--access-key-id",
        "LTAI5tFakeAccessKeyId0001",
        "--access-key-secret",
        s(v, "/access_key_secret"),
    ])
    .unwrap()
    .validate()
    .unwrap();
    let target = Target::new(&settings.portal.target, settings.portal.rules.policy_ttl);
    // The vector's own conditions, without the three V4 ones the target adds.
    let mut conditions = policy_from_vector(&v["policy_object"]).conditions;
    conditions.retain(|c| !c.field().is_some_and(|f| f.starts_with("x-oss-")));
    let fields = target
        .sign_post(
            conditions,
            datetime!(2023-12-03 13:12:12 UTC),
            datetime!(2023-12-03 12:12:12 UTC),
        )
        .await
        .unwrap();
    let expected: Vec<(String, String)> = v["form_fields_in_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| {
            (
                pair[0].as_str().unwrap().to_owned(),
                pair[1].as_str().unwrap().to_owned(),
            )
        })
        .filter(|(name, _)| name == "policy" || name.starts_with("x-oss-"))
        .collect();
    assert_eq!(fields, expected);
}

#[test]
fn sts_assume_role_matches_ali_oss() {
    use upload_portal::server::protocol::signing::sts;
    let v = &vectors()["sts_assume_role"];
    let params: Vec<(String, String)> = v["params"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let value = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), value)
        })
        .collect();
    let canonical = sts::canonical_query(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    assert_eq!(canonical, s(v, "/canonicalized_query"));
    let secret = "FakeAccessKeySecretForTestsOnly0001";
    for method in ["GET", "POST"] {
        let string_to_sign = sts::string_to_sign(method, &canonical);
        assert_eq!(string_to_sign, s(v, &format!("/{method}/string_to_sign")));
        let signature = sts::signature(secret, &string_to_sign);
        assert_eq!(signature, s(v, &format!("/{method}/signature")));
        assert!(sts::verify(secret, &string_to_sign, &signature));
    }
}

#[test]
fn callback_signatures_match_the_vectors() {
    use upload_portal::server::protocol::signing::callback;
    let all = vectors();
    let v = &all["callback"];
    let key = callback::parse_private_key(s(v, "/test_rsa_private_key_pem")).unwrap();
    let public = callback::parse_public_key(s(v, "/test_rsa_public_key_pem")).unwrap();
    assert_eq!(key.to_public_key(), public);
    for request in v["signed_requests"].as_array().unwrap() {
        let line = request["request_line"].as_str().unwrap();
        let target = line.split(' ').nth(1).unwrap();
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (target, None),
        };
        let body = request["body"].as_str().unwrap().as_bytes();
        let message = callback::string_to_sign(path, query, body);
        assert_eq!(
            message,
            request["string_to_sign"].as_str().unwrap().as_bytes()
        );
        let authorization = callback::sign(&key, &message);
        assert_eq!(authorization, request["authorization"].as_str().unwrap());
        assert!(callback::verify(&public, &message, &authorization));
        let mut tampered = message.clone();
        tampered.push(b'x');
        assert!(!callback::verify(&public, &tampered, &authorization));
    }
    assert_eq!(
        s(v, "/x_oss_pub_key_url_header"),
        "aHR0cHM6Ly9nb3NzcHVibGljLmFsaWNkbi5jb20vY2FsbGJhY2tfcHViX2tleV92MS5wZW0="
    );
}

/// A V4 `Authorization` header for PutObject, as ali-oss signs it: canonical request, string
/// to sign and header bit for bit; the header parses back into its parts.
#[test]
fn header_v4_matches_ali_oss() {
    use upload_portal::server::protocol::signing::v4;
    let v = &vectors()["header_v4_put_object"];
    let headers: Vec<(&str, &str)> = v["headers_signed"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
        // A header OSS does not sign is left out of the canonical request.
        .chain([("user-agent", "aliyun-sdk-js/6.23.0")])
        .collect();
    let request = v4::SignedRequest {
        method: "PUT",
        bucket: "examplebucket",
        key: "user/alice/photo.jpg",
        headers,
        ..Default::default()
    };
    assert_eq!(request.canonical(), s(v, "/canonical_request"));
    let to_sign = v4::string_to_sign("20231203T121212Z", "cn-hangzhou", &request.canonical());
    assert_eq!(to_sign, s(v, "/string_to_sign"));
    let authorization = v4::authorization(
        "LTAI5tFakeAccessKeyId0001",
        "FakeAccessKeySecretForTestsOnly0001",
        "20231203T121212Z",
        "cn-hangzhou",
        &request,
    );
    assert_eq!(authorization, s(v, "/authorization"));
    let parsed = v4::parse_authorization(&authorization).unwrap();
    assert_eq!(
        parsed.credential,
        "LTAI5tFakeAccessKeyId0001/20231203/cn-hangzhou/oss/aliyun_v4_request"
    );
    assert!(v4::verify(
        "FakeAccessKeySecretForTestsOnly0001",
        "20231203T121212Z",
        "cn-hangzhou",
        &to_sign,
        parsed.signature
    ));
    assert!(!v4::verify(
        "another secret",
        "20231203T121212Z",
        "cn-hangzhou",
        &to_sign,
        parsed.signature
    ));
}

/// A V4 presigned UploadPart URL, as ali-oss's signatureUrlV4 writes it.
#[test]
fn presign_v4_matches_ali_oss() {
    use upload_portal::server::protocol::signing::v4;
    let v = &vectors()["presign_v4_upload_part"];
    let request = v4::SignedRequest {
        method: "PUT",
        bucket: "examplebucket",
        key: "user/alice/big.bin",
        query: vec![
            ("partNumber", Some("1")),
            ("uploadId", Some("0004B9894A22E5B1888A1E29F8236E2D")),
        ],
        ..Default::default()
    };
    let query = v4::presign_query(
        "LTAI5tFakeAccessKeyId0001",
        "FakeAccessKeySecretForTestsOnly0001",
        "20231203T121212Z",
        "cn-hangzhou",
        3600,
        &request,
    );
    let expected = s(v, "/url").split_once('?').unwrap().1;
    let sorted = |q: &str| {
        let mut pairs: Vec<String> = q.split('&').map(str::to_owned).collect();
        pairs.sort();
        pairs
    };
    // The same parameters (ali-oss orders them its own way; the signature does not depend on it).
    assert_eq!(sorted(&query), sorted(expected));
    // What the bucket rebuilds from the URL it receives gives the vector's canonical request.
    let decode = |t: &str| {
        percent_encoding::percent_decode_str(t)
            .decode_utf8()
            .unwrap()
            .into_owned()
    };
    let received: Vec<(String, String)> = expected
        .split('&')
        .map(|pair| pair.split_once('=').unwrap())
        .map(|(k, v)| (decode(k), decode(v)))
        .filter(|(k, _)| k != "x-oss-signature")
        .collect();
    let rebuilt = v4::SignedRequest {
        query: received
            .iter()
            .map(|(k, v)| (k.as_str(), Some(v.as_str())))
            .collect(),
        ..request
    };
    assert_eq!(rebuilt.canonical(), s(v, "/canonical_request"));
    assert_eq!(
        v4::string_to_sign("20231203T121212Z", "cn-hangzhou", &rebuilt.canonical()),
        s(v, "/string_to_sign")
    );
}
