//! PostObject: the browser's form upload. Reads the form with multer while streaming the file
//! to a temp file; checks fields, signature and policy in the order PROTOCOL.md gives; the
//! object appears only when every check has passed and the bytes are on disk.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use percent_encoding::utf8_percent_encode;
use secrecy::ExposeSecret;
use serde::Serialize;

use super::errors::{BucketError, OssCode};
use super::put_object::{check_user_metadata, is_stored_header};
use super::state::{Bucket, RequestContext};
use super::store::{Intake, ObjectMeta, StoreError};
use crate::naming::basename;
use crate::server::protocol::callback::CallbackSpec;
use crate::server::protocol::policy::{PolicyDocument, PolicyViolation};
use crate::server::protocol::signing::{v1, v4, UNRESERVED};
use crate::server::protocol::MAX_CLOCK_SKEW;
use time::OffsetDateTime;

/// Longest form field name (OSS EC 0006-00000110).
const MAX_FIELD_NAME: usize = 8 * 1024;
/// Longest form field value.
const MAX_FIELD_VALUE: usize = 2 * 1024 * 1024;
/// All values before `file` together (OSS EC 0006-00000112).
const MAX_FIELDS_TOTAL: usize = 8 * 1024 * 1024;
/// Field bytes held before the policy is verified: the policy, its signature, a security
/// token and the pinned fields take a few KiB; a stranger gets no more than this.
const MAX_UNVERIFIED_FIELDS: usize = 16 * 1024;
/// Fields that send the bucket's requests or the browser elsewhere, or decide what the object
/// is, and (V4) the signature's fields: the policy must test each one the form carries. OSS
/// lets other fields through untested, as its official V1 samples rely on; stored headers the
/// policy does not test are not stored.
fn must_be_tested(name: &str, v4: bool) -> bool {
    let routes_or_decides = matches!(
        name,
        "key" | "callback" | "callback-var" | "success_action_redirect" | "x-oss-content-type"
    ) || name.starts_with("x:");
    let v4_signature = matches!(
        name,
        "x-oss-signature-version" | "x-oss-credential" | "x-oss-date" | "x-oss-security-token"
    );
    routes_or_decides || (v4 && v4_signature)
}

/// The form fields before `file`, names lower-case (OSS matches names case-insensitively).
#[derive(Default)]
struct Form {
    fields: Vec<(String, String)>,
}

impl Form {
    fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

pub async fn post_object(
    State(bucket): State<Arc<Bucket>>,
    Extension(ctx): Extension<RequestContext>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match receive(&bucket, &ctx.request_id, &headers, body).await {
        Ok(response) => response,
        Err(error) => {
            tracing::info!(request_id = %ctx.request_id, code = error.code.as_str(), message = %error.message, "PostObject refused");
            error.into_response(&ctx.request_id, &bucket.host_id, true)
        }
    }
}

fn malformed(cause: impl std::fmt::Display) -> BucketError {
    tracing::debug!(%cause, "malformed multipart body");
    BucketError::new(
        OssCode::MalformedPostRequest,
        "The body of your POST request is not well-formed multipart/form-data.",
    )
}

fn key_missing() -> BucketError {
    BucketError::new(
        OssCode::InvalidArgument,
        "The bucket POST must contain the specified 'key'. If it is specified, please check the order of the fields.",
    )
}

async fn receive(
    bucket: &Bucket,
    request_id: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, BucketError> {
    let boundary = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| multer::parse_boundary(ct).ok())
        .ok_or_else(|| malformed("no multipart boundary"))?;
    let limits = multer::SizeLimit::new()
        .whole_stream(bucket.max_object_size + MAX_FIELDS_TOTAL as u64 + 64 * 1024);
    let mut multipart = multer::Multipart::with_constraints(
        body.into_data_stream(),
        boundary,
        multer::Constraints::new().size_limit(limits),
    );

    // 1. The fields before `file`. A stranger's form is held only up to a few KiB: past that,
    //    the policy must already vouch for it (its signature fields come first in every form
    //    the portal signs).
    let now = OffsetDateTime::now_utc();
    let mut form = Form::default();
    let mut verified: Option<PolicyDocument> = None;
    let mut total = 0usize;
    let mut file = loop {
        let Some(mut field) = multipart.next_field().await.map_err(malformed)? else {
            return Err(if form.get("key").is_none() {
                key_missing()
            } else {
                BucketError::new(
                    OssCode::IncorrectNumberOfFilesInPostRequest,
                    "POST requires exactly one file upload per request.",
                )
            });
        };
        let name = field
            .name()
            .ok_or_else(|| malformed("a part has no name"))?
            .to_ascii_lowercase();
        if name.len() > MAX_FIELD_NAME {
            return Err(BucketError::new(
                OssCode::FieldItemTooLong,
                "A form field name is longer than 8 KB.",
            ));
        }
        if name == "file" {
            break field;
        }
        total += name.len();
        let mut value = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(malformed)? {
            total += chunk.len();
            if value.len() + chunk.len() > MAX_FIELD_VALUE {
                return Err(BucketError::new(
                    OssCode::FieldItemTooLong,
                    format!("The form field {name} is longer than 2 MB."),
                ));
            }
            if total > MAX_FIELDS_TOTAL {
                return Err(BucketError::new(
                    OssCode::FieldItemTooLong,
                    "The form fields before the file are larger than 8 MB together.",
                ));
            }
            if verified.is_none() && total > MAX_UNVERIFIED_FIELDS {
                let policy = authorize(bucket, &form, now).map_err(|error| {
                    tracing::debug!(code = error.code.as_str(), "early authorization failed");
                    BucketError::new(
                        OssCode::InvalidArgument,
                        "The form sends more than 16 KB of fields before a valid policy and \
                         signature; send the policy and signature fields first.",
                    )
                })?;
                verified = Some(policy);
            }
            value.extend_from_slice(&chunk);
        }
        let value = String::from_utf8(value).map_err(|_| {
            BucketError::new(
                OssCode::InvalidArgument,
                format!("The form field {name} is not UTF-8."),
            )
        })?;
        if form.get(&name).is_some() {
            // OSS's behaviour is unconfirmed; a second value could dodge a policy, so refuse.
            return Err(BucketError::new(
                OssCode::InvalidArgument,
                format!("The form field {name} appears more than once."),
            ));
        }
        form.fields.push((name, value));
    };

    // 2–5. Key, signature, policy: every condition holds, and every field that could send a
    //      request or a browser elsewhere or change what the object is, the policy tests: a
    //      ticket's holder cannot add a callback, a redirect or a type the signer never saw.
    let key_template = form.get("key").ok_or_else(key_missing)?.to_owned();
    let policy = match verified {
        Some(policy) => policy,
        None => authorize(bucket, &form, now)?,
    };
    policy
        .check_form(now, |name| {
            if name == "bucket" {
                Some(bucket.name.as_str())
            } else {
                form.get(name)
            }
        })
        .map_err(policy_error)?;
    policy
        .check_fields(
            form.fields
                .iter()
                .map(|(name, _)| name.as_str())
                .filter(|name| must_be_tested(name, form.get("x-oss-signature-version").is_some())),
        )
        .map_err(policy_error)?;
    let callback = match form.get("callback") {
        None => None,
        Some(field) => {
            // The bucket POSTs to the callback URL and returns its reply: only to a URL the
            // signer fixed, never to one a policy merely allows a prefix of.
            if !policy.pins("callback") {
                return Err(BucketError::new(
                    OssCode::AccessDenied,
                    "Invalid according to Policy: the callback field must be fixed by an eq \
                     condition.",
                ));
            }
            let spec = CallbackSpec::decode(field).map_err(invalid)?;
            let signer = bucket
                .callback
                .clone()
                .ok_or_else(|| invalid("This bucket does not perform callbacks."))?;
            Some((spec, signer))
        }
    };
    let filename = basename(file.file_name().unwrap_or(""));
    let key = key_template.replace("${filename}", filename);
    bucket.store.object_path(&key).map_err(store_error)?;
    let forbid_overwrite = form
        .get("x-oss-forbid-overwrite")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if forbid_overwrite && bucket.store.exists(&key).await.map_err(store_error)? {
        return Err(store_error(StoreError::AlreadyExists));
    }
    let redirect = form.get("success_action_redirect").map(str::to_owned);
    if let Some(url) = &redirect {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(BucketError::new(
                OssCode::InvalidArgument,
                "success_action_redirect must be an http or https URL.",
            ));
        }
    }
    let content_type = form
        .get("x-oss-content-type")
        .or_else(|| form.get("content-type"))
        .or_else(|| file.content_type().map(|m| m.essence_str()))
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| {
            mime_guess::from_path(&key)
                .first_or_octet_stream()
                .essence_str()
                .to_owned()
        });
    let mut stored_headers: Vec<(String, String)> = form
        .fields
        .iter()
        .filter(|(k, _)| is_stored_header(k))
        // A header the signer did not vouch for is not stored with the object.
        .filter(|(k, _)| policy.constrains(k))
        .cloned()
        .collect();
    check_user_metadata(&stored_headers)?;
    for (_, value) in &stored_headers {
        if HeaderValue::from_str(value).is_err() {
            return Err(BucketError::new(
                OssCode::InvalidArgument,
                "A stored header value is not valid.",
            ));
        }
    }

    // 6. The file, streamed to disk, stopped as soon as it passes the policy's maximum.
    let limit = policy
        .max_length()
        .unwrap_or(u64::MAX)
        .min(bucket.max_object_size);
    let received = bucket
        .store
        .receive(&mut file, limit)
        .await
        .map_err(|e| match e {
            Intake::TooLarge => policy_error(PolicyViolation::TooLarge),
            Intake::Source(e) => malformed(e),
            Intake::Io(e) => BucketError::internal(e),
        })?;
    let size = received.size;
    policy.check_length(size).map_err(policy_error)?;
    drop(file);
    // The strict reading of "file must be last": a field after it is an error, not ignored.
    if multipart.next_field().await.map_err(malformed)?.is_some() {
        return Err(BucketError::new(
            OssCode::InvalidArgument,
            "The file field must be the last field of the form; fields after it are not allowed.",
        ));
    }

    let digest = received.md5;
    let md5_hex = received.md5_hex();
    let crc64 = received.crc64;
    let temp = received.temp;
    stored_headers.sort();
    let meta = ObjectMeta {
        size,
        md5_hex: md5_hex.clone(),
        crc64,
        content_type,
        headers: stored_headers,
        last_modified: now.unix_timestamp(),
        etag: None,
    };
    bucket
        .store
        .commit(temp, &key, &meta, !forbid_overwrite)
        .await
        .map_err(store_error)?;
    tracing::info!(key = %key, size, "object stored");

    let etag = format!("\"{md5_hex}\"");
    let content_md5 = BASE64.encode(digest);
    if let Some((spec, signer)) = callback {
        let body = spec.render(|name| match name {
            "bucket" => Some(bucket.name.clone()),
            "object" => Some(key.clone()),
            "etag" => Some(md5_hex.clone()),
            "size" => Some(size.to_string()),
            "mimeType" => Some(meta.content_type.clone()),
            "crc64" => Some(crc64.to_string()),
            "contentMd5" => Some(content_md5.clone()),
            "reqId" => Some(request_id.to_owned()),
            custom => form.get(custom).map(str::to_owned),
        });
        let response = match signer.call(&spec, body).await {
            Ok(reply) => ([(header::CONTENT_TYPE, "application/json")], reply).into_response(),
            Err(message) => {
                // The object stays stored; the uploader learns that the callback failed.
                tracing::info!(key = %key, %message, "callback failed");
                BucketError::new(OssCode::CallbackFailed, message).into_response(
                    request_id,
                    &bucket.host_id,
                    true,
                )
            }
        };
        return Ok(with_object_headers(response, &etag, &content_md5, crc64));
    }
    let response = match (redirect, form.get("success_action_status")) {
        (Some(url), _) => redirect_response(&url, &bucket.name, &key, &etag),
        (None, Some("201")) => created_response(bucket, &key, &etag),
        (None, Some("200")) => StatusCode::OK.into_response(),
        _ => StatusCode::NO_CONTENT.into_response(),
    };
    Ok(with_object_headers(response, &etag, &content_md5, crc64))
}

/// The checksums OSS returns with every stored object.
fn with_object_headers(
    mut response: Response,
    etag: &str,
    content_md5: &str,
    crc64: u64,
) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::ETAG,
        HeaderValue::from_str(etag).expect("hex is a valid header"),
    );
    headers.insert(
        "content-md5",
        HeaderValue::from_str(content_md5).expect("base64 header"),
    );
    headers.insert("x-oss-hash-crc64ecma", HeaderValue::from(crc64));
    response
}

/// Checks the signature fields (V1 or V4) and returns the decoded policy they vouch for.
fn authorize(
    bucket: &Bucket,
    form: &Form,
    now: OffsetDateTime,
) -> Result<PolicyDocument, BucketError> {
    match form.get("x-oss-signature-version") {
        Some(version) => authorize_v4(bucket, form, version, now),
        None => authorize_v1(bucket, form, now),
    }
}

fn invalid(message: impl Into<String>) -> BucketError {
    BucketError::new(OssCode::InvalidArgument, message)
}

fn signature_mismatch() -> BucketError {
    BucketError::new(
        OssCode::SignatureDoesNotMatch,
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    )
}

fn authorize_v1(
    bucket: &Bucket,
    form: &Form,
    now: OffsetDateTime,
) -> Result<PolicyDocument, BucketError> {
    let (access_key_id, policy_b64, signature) = match (
        form.get("ossaccesskeyid"),
        form.get("policy"),
        form.get("signature"),
    ) {
        (None, None, None) => {
            // This bucket is private: anonymous writes are refused, as OSS does.
            return Err(BucketError::new(
                OssCode::AccessDenied,
                "You have no right to access this object because of bucket acl.",
            ));
        }
        (Some(ak), Some(policy), Some(signature)) => (ak, policy, signature),
        (None, _, _) => {
            return Err(invalid(
                "The form must contain OSSAccessKeyId with policy and Signature.",
            ))
        }
        (_, None, _) => {
            return Err(invalid(
                "The form must contain a policy with OSSAccessKeyId and Signature.",
            ))
        }
        (_, _, None) => {
            return Err(invalid(
                "The form must contain a Signature with OSSAccessKeyId and policy.",
            ))
        }
    };
    if signature.is_empty() {
        return Err(invalid("The Signature field is empty."));
    }
    let secret = bucket.secret_for(access_key_id, form.get("x-oss-security-token"), now)?;
    if !v1::verify(secret.expose_secret(), policy_b64, signature) {
        return Err(signature_mismatch());
    }
    decode_policy(policy_b64)
}

/// How long after its `x-oss-date` a V4 signature stays valid.
const V4_MAX_AGE: time::Duration = time::Duration::days(7);

fn authorize_v4(
    bucket: &Bucket,
    form: &Form,
    version: &str,
    now: OffsetDateTime,
) -> Result<PolicyDocument, BucketError> {
    if version != v4::ALGORITHM {
        return Err(invalid(format!(
            "x-oss-signature-version must be {}.",
            v4::ALGORITHM
        )));
    }
    let required = |name: &str| {
        form.get(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| invalid(format!("A V4 form must contain {name}.")))
    };
    let credential = required("x-oss-credential")?;
    let date = required("x-oss-date")?;
    let signature = required("x-oss-signature")?;
    let policy_b64 = required("policy")?;
    let scope = v4::parse_credential(credential).map_err(|e| invalid(format!("{e}.")))?;
    if scope.region != bucket.region {
        return Err(invalid(format!(
            "The region in x-oss-credential ({}) is not this bucket's region ({}).",
            scope.region, bucket.region
        )));
    }
    let signed_at = v4::parse_date_time(date)
        .ok_or_else(|| invalid("x-oss-date must be written YYYYMMDDTHHMMSSZ."))?;
    if !date.starts_with(scope.date) {
        return Err(invalid(
            "x-oss-date must fall on the date of x-oss-credential.",
        ));
    }
    if signed_at - now > MAX_CLOCK_SKEW {
        return Err(BucketError::new(
            OssCode::RequestTimeTooSkewed,
            "The difference between the request time and the current time is too large.",
        ));
    }
    if now - signed_at > V4_MAX_AGE {
        return Err(BucketError::new(
            OssCode::AccessDenied,
            "Invalid according to Policy: Request has expired (x-oss-date is more than 7 days old).",
        ));
    }
    let secret = bucket.secret_for(scope.access_key_id, form.get("x-oss-security-token"), now)?;
    if !v4::verify_post_signature(
        secret.expose_secret(),
        scope.date,
        scope.region,
        policy_b64,
        signature,
    ) {
        return Err(signature_mismatch());
    }
    decode_policy(policy_b64)
}

fn decode_policy(policy_b64: &str) -> Result<PolicyDocument, BucketError> {
    let json = BASE64.decode(policy_b64.trim()).map_err(|_| {
        BucketError::new(
            OssCode::InvalidPolicyDocument,
            "Invalid Policy: Invalid Base64 policy.",
        )
    })?;
    PolicyDocument::parse(&json)
        .map_err(|e| BucketError::new(OssCode::InvalidPolicyDocument, e.to_string()))
}

fn policy_error(violation: PolicyViolation) -> BucketError {
    let code = match violation {
        PolicyViolation::TooLarge => OssCode::EntityTooLarge,
        PolicyViolation::TooSmall => OssCode::EntityTooSmall,
        PolicyViolation::Expired
        | PolicyViolation::ConditionFailed(_)
        | PolicyViolation::ExtraField(_) => OssCode::AccessDenied,
    };
    BucketError::new(code, violation.to_string())
}

fn store_error(error: StoreError) -> BucketError {
    match error {
        StoreError::AlreadyExists => BucketError::new(
            OssCode::FileAlreadyExists,
            "The object you specified already exists and can not be overwritten.",
        ),
        StoreError::InvalidKey(_) | StoreError::Conflict => {
            BucketError::new(OssCode::InvalidObjectName, error.to_string())
        }
        StoreError::Io(e) => BucketError::internal(e),
    }
}

fn created_response(bucket: &Bucket, key: &str, etag: &str) -> Response {
    #[derive(Serialize)]
    #[serde(rename = "PostResponse", rename_all = "PascalCase")]
    struct PostResponse<'a> {
        bucket: &'a str,
        location: String,
        key: &'a str,
        #[serde(rename = "ETag")]
        etag: &'a str,
    }
    let xml = PostResponse {
        bucket: &bucket.name,
        location: bucket.object_url(key),
        key,
        etag,
    };
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}\n",
        quick_xml::se::to_string(&xml).unwrap_or_default()
    );
    (
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/xml")],
        body,
    )
        .into_response()
}

/// 303 to the form's redirect URL with bucket, key and ETag in the query (as S3 does).
fn redirect_response(url: &str, bucket: &str, key: &str, etag: &str) -> Response {
    let encode = |v: &str| utf8_percent_encode(v, UNRESERVED).to_string();
    let separator = if url.contains('?') { '&' } else { '?' };
    let location = format!(
        "{url}{separator}bucket={}&key={}&etag={}",
        encode(bucket),
        encode(key),
        encode(etag)
    );
    match HeaderValue::from_str(&location) {
        Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        Err(_) => StatusCode::NO_CONTENT.into_response(),
    }
}
