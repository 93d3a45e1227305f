//! Signed requests to the bucket: multipart calls, HEAD, DELETE, listings, `GET ?cors`, and the
//! XML replies they bring back. OSS and the embedded bucket get V1 or V4 signatures (as
//! OSS_SIGNATURE_VERSION says), S3 gets SigV4.

use secrecy::ExposeSecret;
use time::OffsetDateTime;

use super::{
    ListedObject, ListedPart, RequestError, S3Settings, Scheme, StoredObject, Target, TargetError,
};
use crate::server::protocol::credentials::Credentials;
use crate::server::protocol::signing::{self, s3, v1, v4, SignatureVersion};

/// Multipart uploads: the portal initiates, lists, completes and aborts with signed requests
/// (V1 or V4 headers for OSS and the embedded bucket, SigV4 for S3); the browser PUTs the parts
/// to presigned URLs (V1, V4 or SigV4 query signatures).
impl Target {
    /// Sends a signed request for `key` (the bucket itself when empty) with `sub_resources`
    /// (the query: V1 signs the OSS sub-resources among them, V4 and SigV4 all): a V1 or V4
    /// header signature for OSS and the embedded bucket, SigV4 for S3 (which ignores the
    /// `x-oss-*` `extra_headers`). A refusal comes back as its status and error code.
    async fn signed_request(
        &self,
        method: reqwest::Method,
        key: &str,
        sub_resources: &[(&str, Option<&str>)],
        content_type: &str,
        extra_headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Result<reqwest::Response, RequestError> {
        let (version, keys) = match &self.scheme {
            Scheme::S3 { s3, keys } => {
                return self
                    .s3_request(s3, keys, method, key, sub_resources, content_type, body)
                    .await
            }
            Scheme::Oss { version, keys } => (*version, keys),
        };
        let now = OffsetDateTime::now_utc();
        let signing = keys.current(now).await?;
        let token = signing.security_token.as_ref().map(|t| t.expose_secret());
        let (access_key_id, secret) = (
            signing.credentials.access_key_id.as_str(),
            signing.credentials.secret.expose_secret(),
        );
        let v1_date = v1::http_date(now);
        let v4_date = v4::format_date_time(now);
        let mut oss_headers = match version {
            SignatureVersion::V1 => vec![("x-oss-date", v1_date.as_str())],
            SignatureVersion::V4 => vec![
                ("x-oss-date", v4_date.as_str()),
                ("x-oss-content-sha256", v4::UNSIGNED_PAYLOAD),
            ],
        };
        oss_headers.extend_from_slice(extra_headers);
        if let Some(token) = token {
            oss_headers.push(("x-oss-security-token", token));
        }
        let authorization = match version {
            SignatureVersion::V1 => v1::authorization(
                access_key_id,
                secret,
                &v1::HeaderRequest {
                    method: method.as_str(),
                    content_type,
                    date: &v1_date,
                    oss_headers: oss_headers.clone(),
                    bucket: &self.bucket,
                    key,
                    sub_resources: sub_resources.to_vec(),
                    ..Default::default()
                },
            ),
            SignatureVersion::V4 => {
                let mut headers = oss_headers.clone();
                if !content_type.is_empty() {
                    headers.push(("content-type", content_type));
                }
                v4::authorization(
                    access_key_id,
                    secret,
                    &v4_date,
                    &self.region,
                    &v4::SignedRequest {
                        method: method.as_str(),
                        bucket: &self.bucket,
                        key,
                        query: sub_resources.to_vec(),
                        headers,
                        additional_headers: Vec::new(),
                    },
                )
            }
        };
        let query: Vec<String> = sub_resources
            .iter()
            .map(|(name, value)| match value {
                Some(value) => format!(
                    "{name}={}",
                    percent_encoding::utf8_percent_encode(value, signing::UNRESERVED)
                ),
                None => (*name).to_owned(),
            })
            .collect();
        let mut url = self.object_url(key);
        if !query.is_empty() {
            url = format!("{url}?{}", query.join("&"));
        }
        let mut builder = self
            .http
            .request(method, url)
            .header("authorization", authorization);
        for (name, value) in oss_headers {
            builder = builder.header(name, value);
        }
        if !content_type.is_empty() {
            builder = builder.header("content-type", content_type);
        }
        if let Some(body) = body {
            builder = builder.body(body);
        }
        refusal(builder.send().await?).await
    }

    /// The same, signed with SigV4.
    #[allow(clippy::too_many_arguments)]
    async fn s3_request(
        &self,
        s3: &S3Settings,
        credentials: &Credentials,
        method: reqwest::Method,
        key: &str,
        sub_resources: &[(&str, Option<&str>)],
        content_type: &str,
        body: Option<String>,
    ) -> Result<reqwest::Response, RequestError> {
        use sha2::{Digest, Sha256};
        let (host, path) = self.s3_host_and_path(s3, key);
        let date_time = v4::format_date_time(OffsetDateTime::now_utc());
        let payload_hash = signing::hex(&Sha256::digest(body.as_deref().unwrap_or("").as_bytes()));
        let mut headers = vec![
            ("host".to_owned(), host.clone()),
            ("x-amz-content-sha256".to_owned(), payload_hash.clone()),
            ("x-amz-date".to_owned(), date_time.clone()),
        ];
        if let Some(token) = &s3.session_token {
            headers.push((
                "x-amz-security-token".to_owned(),
                token.expose_secret().to_owned(),
            ));
        }
        if !content_type.is_empty() {
            headers.push(("content-type".to_owned(), content_type.to_owned()));
        }
        let query: Vec<(String, String)> = sub_resources
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.unwrap_or("").to_owned()))
            .collect();
        let request = s3::CanonicalRequest {
            method: method.as_str(),
            path: &path,
            query: query.clone(),
            headers: headers.clone(),
            payload_hash: &payload_hash,
        };
        let authorization = s3::authorization(
            &credentials.access_key_id,
            credentials.secret.expose_secret(),
            &date_time,
            &self.region,
            &request,
        );
        let query: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{}={}", s3::uri_encode(k, false), s3::uri_encode(v, false)))
            .collect();
        let mut url = format!(
            "{}://{host}{}",
            s3.endpoint.scheme(),
            s3::uri_encode(&path, true)
        );
        if !query.is_empty() {
            url = format!("{url}?{}", query.join("&"));
        }
        let mut builder = self
            .http
            .request(method, url)
            .header("authorization", authorization);
        for (name, value) in headers.iter().filter(|(n, _)| n != "host") {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(body) = body {
            builder = builder.body(body);
        }
        refusal(builder.send().await?).await
    }
}

/// A successful response as it is; any other as its status and error code.
async fn refusal(response: reqwest::Response) -> Result<reqwest::Response, RequestError> {
    if response.status().is_success() {
        Ok(response)
    } else {
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        Err(RequestError::Refused {
            status,
            code: xml_field::<ErrorReply>(&body)
                .map(|e| e.code)
                .unwrap_or_default(),
        })
    }
}

impl Target {
    /// Whether `key` exists, by a signed HEAD.
    pub async fn object_exists(&self, key: &str) -> Result<bool, TargetError> {
        match self
            .signed_request(reqwest::Method::HEAD, key, &[], "", &[], None)
            .await
        {
            Ok(_) => Ok(true),
            Err(RequestError::Refused { status: 404, .. }) => Ok(false),
            Err(RequestError::Refused { status, .. }) => Err(TargetError::Status(status)),
            Err(RequestError::Target(e)) => Err(e),
        }
    }

    /// Starts a multipart upload of `key`; returns its upload id.
    pub async fn initiate_multipart(
        &self,
        key: &str,
        content_type: &str,
    ) -> Result<String, RequestError> {
        let response = self
            .signed_request(
                reqwest::Method::POST,
                key,
                &[("uploads", None)],
                content_type,
                &[("x-oss-forbid-overwrite", "true")],
                None,
            )
            .await?;
        let body = response.text().await?;
        xml_field::<Initiated>(&body)
            .map(|i| i.upload_id)
            .ok_or(RequestError::Refused {
                status: 200,
                code: "NoUploadId".into(),
            })
    }

    /// The parts stored so far, all pages of them.
    pub async fn list_parts(
        &self,
        key: &str,
        upload_id: &str,
    ) -> Result<Vec<ListedPart>, RequestError> {
        let mut parts = Vec::new();
        let mut marker = 0u32;
        loop {
            let marker_text = marker.to_string();
            let mut sub: Vec<(&str, Option<&str>)> = vec![("uploadId", Some(upload_id))];
            if marker > 0 {
                sub.push(("part-number-marker", Some(&marker_text)));
            }
            let body = self
                .signed_request(reqwest::Method::GET, key, &sub, "", &[], None)
                .await?
                .text()
                .await?;
            let listing = xml_field::<Listing>(&body).unwrap_or_default();
            let next = listing.parts.last().map(|p| p.number);
            let truncated = listing.truncated;
            parts.extend(listing.parts.into_iter().map(|p| ListedPart {
                number: p.number,
                etag: p.etag.trim_matches('"').to_owned(),
                size: p.size,
            }));
            match next {
                Some(next) if truncated && next > marker => marker = next,
                _ => return Ok(parts),
            }
        }
    }

    /// A presigned URL for the browser to PUT part `number` to, valid until `expires`.
    pub async fn presign_part(
        &self,
        key: &str,
        upload_id: &str,
        number: u32,
        expires: OffsetDateTime,
    ) -> Result<String, RequestError> {
        let number = number.to_string();
        let params = [("partNumber", number.as_str()), ("uploadId", upload_id)];
        Ok(self.presigned("PUT", key, &params, expires).await?)
    }

    /// Assembles the parts (`number`, ETag without quotes) into the object; returns its ETag.
    pub async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[(u32, String)],
    ) -> Result<String, RequestError> {
        let body: String = parts
            .iter()
            .map(|(number, etag)| {
                format!("<Part><PartNumber>{number}</PartNumber><ETag>\"{etag}\"</ETag></Part>")
            })
            .collect();
        let response = self
            .signed_request(
                reqwest::Method::POST,
                key,
                &[("uploadId", Some(upload_id))],
                "application/xml",
                &[("x-oss-forbid-overwrite", "true")],
                Some(format!(
                    "<CompleteMultipartUpload>{body}</CompleteMultipartUpload>"
                )),
            )
            .await?;
        let body = response.text().await?;
        Ok(xml_field::<Completed>(&body)
            .map(|c| c.etag.trim_matches('"').to_owned())
            .unwrap_or_default())
    }

    /// The multipart uploads in progress under `prefix`: key, upload id, when initiated. Every
    /// page of the listing, however many uploads there are.
    pub async fn list_multipart_uploads(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, String, OffsetDateTime)>, RequestError> {
        let mut uploads = Vec::new();
        let mut markers: Option<(String, String)> = None;
        let mut seen = std::collections::HashSet::new();
        loop {
            let mut query: Vec<(&str, Option<&str>)> = vec![
                ("uploads", None),
                ("prefix", Some(prefix)),
                ("max-uploads", Some("1000")),
            ];
            if let Some((key, id)) = &markers {
                query.push(("key-marker", Some(key)));
                query.push(("upload-id-marker", Some(id)));
            }
            let page: UploadListing = self.listing_page(&query, "multipart uploads").await?;
            uploads.extend(
                page.uploads
                    .into_iter()
                    .filter_map(|u| Some((u.key, u.upload_id, rfc3339(&u.initiated)?))),
            );
            let next = (page.next_key_marker, page.next_upload_id_marker);
            // A store that names no next page, or one it named before or behind this one, has
            // no more to give.
            let behind = markers.as_ref().is_some_and(|(key, _)| next.0 < *key);
            if !page.truncated || next.0.is_empty() || behind || !seen.insert(next.clone()) {
                return Ok(uploads);
            }
            markers = Some(next);
        }
    }

    /// The stored object's size, ETag and type, or `None` when there is none.
    pub async fn head_object(&self, key: &str) -> Result<Option<StoredObject>, RequestError> {
        match self
            .signed_request(reqwest::Method::HEAD, key, &[], "", &[], None)
            .await
        {
            Ok(response) => {
                let headers = response.headers();
                let text = |name: reqwest::header::HeaderName| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                };
                Ok(Some(StoredObject {
                    size: text(reqwest::header::CONTENT_LENGTH).parse().unwrap_or(0),
                    etag: text(reqwest::header::ETAG).trim_matches('"').to_owned(),
                    content_type: text(reqwest::header::CONTENT_TYPE).to_owned(),
                }))
            }
            Err(RequestError::Refused { status: 404, .. }) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// Deletes the object (nothing happens when there is none).
    pub async fn delete_object(&self, key: &str) -> Result<(), RequestError> {
        match self
            .signed_request(reqwest::Method::DELETE, key, &[], "", &[], None)
            .await
        {
            Ok(_) | Err(RequestError::Refused { status: 404, .. }) => Ok(()),
            Err(other) => Err(other),
        }
    }

    /// Every object whose key starts with `prefix` (ListObjectsV2, all pages).
    pub async fn list_objects(&self, prefix: &str) -> Result<Vec<ListedObject>, RequestError> {
        let mut objects = Vec::new();
        let mut token: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        loop {
            let mut query: Vec<(&str, Option<&str>)> =
                vec![("list-type", Some("2")), ("prefix", Some(prefix))];
            if let Some(token) = &token {
                query.push(("continuation-token", Some(token)));
            }
            let page: ObjectListing = self.listing_page(&query, "objects").await?;
            objects.extend(page.contents.into_iter().map(|o| ListedObject {
                key: o.key,
                size: o.size,
                etag: o.etag.trim_matches('"').to_owned(),
                last_modified: rfc3339(&o.last_modified).map_or(0, |t| t.unix_timestamp()),
            }));
            // A token given before would list the same pages again, without end.
            match page.next_continuation_token {
                Some(next) if page.truncated && !next.is_empty() && seen.insert(next.clone()) => {
                    token = Some(next)
                }
                _ => return Ok(objects),
            }
        }
    }

    /// One page of a bucket listing (`GET /?…` with `query`): the storage's list of `what`.
    async fn listing_page<T: serde::de::DeserializeOwned>(
        &self,
        query: &[(&str, Option<&str>)],
        what: &'static str,
    ) -> Result<T, RequestError> {
        let body = self
            .signed_request(reqwest::Method::GET, "", query, "", &[], None)
            .await?
            .text()
            .await?;
        Ok(xml_field(&body).ok_or(TargetError::Unreadable(what))?)
    }

    /// The bucket's CORS rules (`GET /?cors`, signed): the XML document, or `None` when the
    /// bucket has none. A refusal here also says the credentials are wrong.
    pub async fn bucket_cors(&self) -> Result<Option<String>, RequestError> {
        match self
            .signed_request(reqwest::Method::GET, "", &[("cors", None)], "", &[], None)
            .await
        {
            Ok(response) => Ok(Some(response.text().await?)),
            Err(RequestError::Refused { status: 404, code })
                if code.contains("CORS") || code.is_empty() =>
            {
                Ok(None)
            }
            Err(other) => Err(other),
        }
    }

    /// The storage's clock: the `Date` header of an unsigned request to the bucket's URL
    /// (every answer, even a refusal, carries one).
    pub async fn storage_date(&self) -> Result<Option<OffsetDateTime>, TargetError> {
        let response = self
            .http
            .head(&self.url)
            .send()
            .await
            .map_err(TargetError::Request)?;
        Ok(response
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(v1::parse_http_date))
    }

    /// Drops the upload and its parts.
    pub async fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<(), RequestError> {
        self.signed_request(
            reqwest::Method::DELETE,
            key,
            &[("uploadId", Some(upload_id))],
            "",
            &[],
            None,
        )
        .await?;
        Ok(())
    }
}

/// A listing's time (`2026-12-05T13:56:09.000Z`).
fn rfc3339(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// An XML reply read into `T` (serde names are the XML element names).
fn xml_field<T: serde::de::DeserializeOwned>(body: &str) -> Option<T> {
    quick_xml::de::from_str(body).ok()
}

#[derive(serde::Deserialize)]
struct ErrorReply {
    #[serde(rename = "Code")]
    code: String,
}

#[derive(serde::Deserialize)]
struct Initiated {
    #[serde(rename = "UploadId")]
    upload_id: String,
}

#[derive(serde::Deserialize)]
struct Completed {
    #[serde(rename = "ETag")]
    etag: String,
}

#[derive(serde::Deserialize)]
struct UploadListing {
    #[serde(rename = "IsTruncated", default)]
    truncated: bool,
    #[serde(rename = "NextKeyMarker", default)]
    next_key_marker: String,
    #[serde(rename = "NextUploadIdMarker", default)]
    next_upload_id_marker: String,
    #[serde(rename = "Upload", default)]
    uploads: Vec<ListedUpload>,
}

#[derive(serde::Deserialize)]
struct ListedUpload {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "UploadId")]
    upload_id: String,
    #[serde(rename = "Initiated")]
    initiated: String,
}

#[derive(serde::Deserialize)]
struct ObjectListing {
    #[serde(rename = "IsTruncated", default)]
    truncated: bool,
    #[serde(rename = "NextContinuationToken", default)]
    next_continuation_token: Option<String>,
    #[serde(rename = "Contents", default)]
    contents: Vec<ListingObject>,
}

#[derive(serde::Deserialize)]
struct ListingObject {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "LastModified", default)]
    last_modified: String,
    #[serde(rename = "ETag", default)]
    etag: String,
    #[serde(rename = "Size")]
    size: u64,
}

#[derive(Default, serde::Deserialize)]
struct Listing {
    #[serde(rename = "IsTruncated", default)]
    truncated: bool,
    #[serde(rename = "Part", default)]
    parts: Vec<ListingPart>,
}

#[derive(serde::Deserialize)]
struct ListingPart {
    #[serde(rename = "PartNumber")]
    number: u32,
    #[serde(rename = "ETag")]
    etag: String,
    #[serde(rename = "Size")]
    size: u64,
}
