//! A local STS-compatible endpoint for the embedded bucket: it answers AssumeRole like Alibaba's
//! STS (RPC signature 1.0, verified; JSON replies) and issues temporary keys into the bucket's
//! key ring, so STS-backed signing runs end to end with no cloud account.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use secrecy::ExposeSecret;
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::keys::KeyRing;
use crate::server::protocol::credentials::{is_role_arn, is_session_name, SESSION_DURATIONS};
use crate::server::protocol::signing::sts;
use crate::server::protocol::MAX_CLOCK_SKEW;

pub struct LocalSts {
    pub keys: Arc<KeyRing>,
    /// Nonces seen within the skew window, to refuse replays.
    nonces: Mutex<HashMap<String, OffsetDateTime>>,
}

impl LocalSts {
    pub fn new(keys: Arc<KeyRing>) -> Self {
        LocalSts {
            keys,
            nonces: Mutex::new(HashMap::new()),
        }
    }
}

pub fn router(sts: Arc<LocalSts>) -> Router {
    Router::new().route("/", any(assume_role)).with_state(sts)
}

struct StsError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

fn refuse(status: StatusCode, code: &'static str, message: impl Into<String>) -> StsError {
    StsError {
        status,
        code,
        message: message.into(),
    }
}

async fn assume_role(
    State(sts): State<Arc<LocalSts>>,
    method: Method,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string().to_ascii_uppercase();
    // Parameters come in the query (GET, as the Go SDK sends) or the form body (POST, ali-oss).
    let raw = if method == Method::POST {
        body.to_vec()
    } else {
        query.unwrap_or_default().into_bytes()
    };
    let params: Vec<(String, String)> = url_decoded_pairs(&raw);
    match issue(&sts, method.as_str(), &params) {
        Ok(reply) => {
            let mut reply = reply;
            reply["RequestId"] = json!(request_id);
            Json(reply).into_response()
        }
        Err(e) => {
            tracing::info!(code = e.code, message = %e.message, "AssumeRole refused");
            let body = json!({
                "RequestId": request_id,
                "HostId": "sts.local",
                "Code": e.code,
                "Message": e.message,
            });
            (e.status, Json(body)).into_response()
        }
    }
}

fn url_decoded_pairs(raw: &[u8]) -> Vec<(String, String)> {
    raw.split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let text = String::from_utf8_lossy(pair).replace('+', " ");
            let (k, v) = text.split_once('=').unwrap_or((&text, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}

fn issue(
    sts: &LocalSts,
    method: &str,
    params: &[(String, String)],
) -> Result<serde_json::Value, StsError> {
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let required = |name: &'static str| {
        get(name).filter(|v| !v.is_empty()).ok_or_else(|| {
            refuse(StatusCode::BAD_REQUEST, "MissingParameter", format!("The input parameter \"{name}\" that is mandatory for processing this request is not supplied."))
        })
    };
    let bad = |code: &'static str, message: &str| refuse(StatusCode::BAD_REQUEST, code, message);
    if required("Action")? != "AssumeRole" {
        return Err(bad(
            "InvalidAction.NotFound",
            "Specified api is not found, please check your url and method.",
        ));
    }
    let access_key_id = required("AccessKeyId")?;
    let signature = required("Signature")?;
    let nonce = required("SignatureNonce")?;
    let timestamp = required("Timestamp")?;
    let role_arn = required("RoleArn")?;
    let session = required("RoleSessionName")?;
    if required("SignatureMethod")? != "HMAC-SHA1" || required("SignatureVersion")? != "1.0" {
        return Err(bad(
            "InvalidParameter",
            "Only SignatureMethod HMAC-SHA1 with SignatureVersion 1.0 is supported.",
        ));
    }
    if required("Version")? != "2015-04-01" {
        return Err(bad(
            "InvalidVersion",
            "Specified parameter Version is not valid.",
        ));
    }
    let Some(secret) = sts.keys.permanent_secret(access_key_id) else {
        return Err(refuse(
            StatusCode::NOT_FOUND,
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
        ));
    };
    let canonical = sts::canonical_query(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    if !sts::verify(secret, &sts::string_to_sign(method, &canonical), signature) {
        return Err(bad(
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation.",
        ));
    }
    let now = OffsetDateTime::now_utc();
    let sent_at = OffsetDateTime::parse(timestamp, &Rfc3339).map_err(|_| {
        bad(
            "InvalidTimeStamp.Format",
            "Specified time stamp or date value is not well formatted.",
        )
    })?;
    if (now - sent_at).abs() > MAX_CLOCK_SKEW {
        return Err(bad(
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired.",
        ));
    }
    {
        let mut nonces = sts.nonces.lock().expect("nonce lock");
        nonces.retain(|_, seen| now - *seen < MAX_CLOCK_SKEW * 2);
        if nonces.insert(nonce.to_owned(), now).is_some() {
            return Err(bad(
                "SignatureNonceUsed",
                "Specified signature nonce was used already.",
            ));
        }
    }
    if !is_role_arn(role_arn) {
        return Err(bad(
            "InvalidParameter.RoleArn",
            "The parameter RoleArn is wrongly formed.",
        ));
    }
    if !is_session_name(session) {
        return Err(bad(
            "InvalidParameter.RoleSessionName",
            "The parameter RoleSessionName is wrongly formed.",
        ));
    }
    let duration: u32 = match get("DurationSeconds") {
        None => 3600,
        Some(text) => text
            .parse()
            .ok()
            .filter(|d| SESSION_DURATIONS.contains(d))
            .ok_or_else(|| {
                bad(
                    "InvalidParameter.DurationSeconds",
                    "The Min/Max value of DurationSeconds is 15min/12hr.",
                )
            })?,
    };
    if let Some(policy) = get("Policy") {
        serde_json::from_str::<serde_json::Value>(policy).map_err(|_| {
            bad(
                "InvalidParameter.PolicyGrammar",
                "The parameter Policy has not passed grammar check.",
            )
        })?;
    }
    let issued = sts
        .keys
        .issue(time::Duration::seconds(i64::from(duration)), now);
    let expiration = issued
        .expiration
        .format(&Rfc3339)
        .expect("RFC 3339 formats");
    Ok(json!({
        "AssumedRoleUser": {
            "Arn": format!("{role_arn}/{session}"),
            "AssumedRoleId": format!("3{}:{session}", &uuid::Uuid::new_v4().simple().to_string()[..17]),
        },
        "Credentials": {
            "AccessKeyId": issued.credentials.access_key_id,
            "AccessKeySecret": issued.credentials.secret.expose_secret(),
            "SecurityToken": issued.security_token.expose_secret(),
            "Expiration": expiration,
        },
    }))
}
