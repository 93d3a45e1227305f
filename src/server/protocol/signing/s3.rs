//! AWS Signature Version 4 for S3-compatible stores: POST policy signatures, header
//! signatures (HEAD before naming) and presigned GET links. Pure functions; the clock and the
//! keys come from the caller.

use sha2::{Digest, Sha256};

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// SHA-256 of an empty body.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// `kSigning` for `date` (YYYYMMDD), `region` and the `s3` service.
pub fn signing_key(secret: &str, date: &str, region: &str) -> [u8; 32] {
    super::derived_key("AWS4", secret, date, region, "s3", "aws4_request")
}

fn sign_hex(secret: &str, date: &str, region: &str, string_to_sign: &str) -> String {
    super::hex(&super::hmac_sha256(
        &signing_key(secret, date, region),
        string_to_sign,
    ))
}

/// `<AccessKeyId>/<YYYYMMDD>/<region>/s3/aws4_request`.
pub fn credential(access_key_id: &str, date: &str, region: &str) -> String {
    format!("{access_key_id}/{}", scope(date, region))
}

fn scope(date: &str, region: &str) -> String {
    format!("{date}/{region}/s3/aws4_request")
}

/// The `x-amz-signature` of a POST form: HMAC over the base64 policy exactly as sent.
pub fn post_signature(secret: &str, date: &str, region: &str, policy_b64: &str) -> String {
    sign_hex(secret, date, region, policy_b64)
}

/// S3's URI encoding: unreserved characters kept, `/` kept only in paths.
pub fn uri_encode(text: &str, keep_slash: bool) -> String {
    let set = if keep_slash {
        super::UNRESERVED_AND_SLASH
    } else {
        super::UNRESERVED
    };
    percent_encoding::utf8_percent_encode(text, set).to_string()
}

/// A request to sign: `path` is the raw (unencoded) path, `headers` are lower-case names and
/// must include `host`.
pub struct CanonicalRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub payload_hash: &'a str,
}

impl CanonicalRequest<'_> {
    fn signed_headers(&self) -> String {
        let mut names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        names.sort();
        names.join(";")
    }

    pub fn canonical(&self) -> String {
        let mut query: Vec<(String, String)> = self
            .query
            .iter()
            .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false)))
            .collect();
        query.sort();
        let query = query
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let mut headers: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        headers.sort();
        let headers: String = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
        format!(
            "{}\n{}\n{}\n{}\n{}\n{}",
            self.method,
            uri_encode(self.path, true),
            query,
            headers,
            self.signed_headers(),
            self.payload_hash
        )
    }
}

/// `AWS4-HMAC-SHA256\n<date-time>\n<scope>\nhex(sha256(canonical request))`.
pub fn string_to_sign(date_time: &str, region: &str, canonical: &str) -> String {
    format!(
        "{ALGORITHM}\n{date_time}\n{}\n{}",
        scope(&date_time[..8], region),
        super::hex(&Sha256::digest(canonical.as_bytes()))
    )
}

/// The `Authorization` header for `request` (whose headers carry `x-amz-date` = `date_time`).
pub fn authorization(
    access_key_id: &str,
    secret: &str,
    date_time: &str,
    region: &str,
    request: &CanonicalRequest<'_>,
) -> String {
    let signature = sign_hex(
        secret,
        &date_time[..8],
        region,
        &string_to_sign(date_time, region, &request.canonical()),
    );
    format!(
        "{ALGORITHM} Credential={},SignedHeaders={},Signature={signature}",
        credential(access_key_id, &date_time[..8], region),
        request.signed_headers()
    )
}

/// A GET to presign.
pub struct Presigned<'a> {
    /// `GET` for links, `PUT` for multipart parts.
    pub method: &'a str,
    /// Other query parameters, signed too (`partNumber`, `uploadId`).
    pub params: &'a [(&'a str, &'a str)],
    pub access_key_id: &'a str,
    pub secret: &'a str,
    pub security_token: Option<&'a str>,
    /// `YYYYMMDDTHHMMSSZ`.
    pub date_time: &'a str,
    pub region: &'a str,
    pub host: &'a str,
    /// The raw (unencoded) path.
    pub path: &'a str,
    pub expires_seconds: u64,
}

/// The query string of a presigned GET.
pub fn presign_query(presigned: &Presigned<'_>) -> String {
    let Presigned {
        method,
        params,
        access_key_id,
        secret,
        security_token,
        date_time,
        region,
        host,
        path,
        expires_seconds,
    } = *presigned;
    let mut query: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    query.extend([
        ("X-Amz-Algorithm".to_owned(), ALGORITHM.to_owned()),
        (
            "X-Amz-Credential".to_owned(),
            credential(access_key_id, &date_time[..8], region),
        ),
        ("X-Amz-Date".to_owned(), date_time.to_owned()),
        ("X-Amz-Expires".to_owned(), expires_seconds.to_string()),
        ("X-Amz-SignedHeaders".to_owned(), "host".to_owned()),
    ]);
    if let Some(token) = security_token {
        query.push(("X-Amz-Security-Token".to_owned(), token.to_owned()));
    }
    let request = CanonicalRequest {
        method,
        path,
        query: query.clone(),
        headers: vec![("host".to_owned(), host.to_owned())],
        payload_hash: "UNSIGNED-PAYLOAD",
    };
    let signature = sign_hex(
        secret,
        &date_time[..8],
        region,
        &string_to_sign(date_time, region, &request.canonical()),
    );
    query.push(("X-Amz-Signature".to_owned(), signature));
    query
        .iter()
        .map(|(k, v)| format!("{}={}", uri_encode(k, false), uri_encode(v, false)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    // The worked examples of AWS's "Signature Version 4 for Amazon S3" documentation.
    const AK: &str = "AKIAIOSFODNN7EXAMPLE";
    const SK: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    #[test]
    fn header_signature_matches_the_aws_get_object_example() {
        let request = CanonicalRequest {
            method: "GET",
            path: "/test.txt",
            query: vec![],
            headers: vec![
                ("host".into(), "examplebucket.s3.amazonaws.com".into()),
                ("range".into(), "bytes=0-9".into()),
                ("x-amz-content-sha256".into(), EMPTY_SHA256.into()),
                ("x-amz-date".into(), "20130524T000000Z".into()),
            ],
            payload_hash: EMPTY_SHA256,
        };
        assert_eq!(
            authorization(AK, SK, "20130524T000000Z", "us-east-1", &request),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,\
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,\
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    #[test]
    fn presigned_get_matches_the_aws_example() {
        let query = presign_query(&Presigned {
            method: "GET",
            params: &[],
            access_key_id: AK,
            secret: SK,
            security_token: None,
            date_time: "20130524T000000Z",
            region: "us-east-1",
            host: "examplebucket.s3.amazonaws.com",
            path: "/test.txt",
            expires_seconds: 86400,
        });
        assert!(
            query.ends_with(
                "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
            ),
            "{query}"
        );
    }

    #[test]
    fn uri_encoding() {
        assert_eq!(uri_encode("a b/ç~", true), "a%20b/%C3%A7~");
        assert_eq!(uri_encode("a/b", false), "a%2Fb");
    }
}
