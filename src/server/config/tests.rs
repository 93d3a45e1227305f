//! The configuration's checks, each with the variable a bad value names.

use super::storage::region_of_endpoint;
use super::*;
use crate::server::portal::settings::PhotoRules;

fn config(args: &[&str]) -> Config {
    let mut all = vec!["upload-portal"];
    all.extend_from_slice(args);
    Config::try_parse_from(all).unwrap()
}

#[test]
fn sizes_parse_with_units() {
    assert_eq!(parse_size("1048576"), Ok(1048576));
    assert_eq!(parse_size("500MB"), Ok(500_000_000));
    assert_eq!(parse_size("5GiB"), Ok(5 << 30));
    assert_eq!(parse_size("64 KiB"), Ok(65536));
    assert!(parse_size("lots").is_err());
    assert!(parse_size("5 parsecs").is_err());
    assert!(parse_size("99999999999999999999GiB").is_err());
}

#[test]
fn a_named_bucket_host_is_the_bucket() {
    let url = |given: &str| {
        let settings = config(&[
            "--access-key-id",
            "id",
            "--access-key-secret",
            "s",
            "--bucket-url",
            given,
        ])
        .validate()
        .unwrap();
        settings.portal.target.url
    };
    assert_eq!(
        url("https://files.example.com"),
        "https://files.example.com/"
    );
    assert_eq!(
        url("http://localhost:9300/"),
        "http://localhost:9300/portal-dev/"
    );
    assert_eq!(
        url("http://127.0.0.1:8080/bucket/"),
        "http://127.0.0.1:8080/bucket/"
    );
}

#[test]
fn defaults_run_on_the_embedded_bucket() {
    // Flags only, so the test does not depend on the environment it runs in.
    let settings = config(&["--access-key-id", "id", "--access-key-secret", "s"])
        .validate()
        .unwrap();
    let target = &settings.portal.target;
    assert!(matches!(target.store, Store::Local(_)));
    assert_eq!(target.bucket, "portal-dev");
    // On an IP the bucket is addressed path-style, like the SDKs address it there.
    assert_eq!(target.url, "http://127.0.0.1:9300/portal-dev/");
    let local = settings.bucket.unwrap();
    assert_eq!(local.name, "portal-dev");
    assert_eq!(
        local.cors_origins,
        vec!["http://127.0.0.1:3000", "http://localhost:3000"]
    );
    assert_eq!(settings.portal.rules.upload_root, "uploads/");
    assert_eq!(settings.portal.rules.default_folder, "uploads/");
}

#[test]
fn bad_values_name_their_variable() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "--target",
                "oss",
                "--access-key-id",
                "a",
                "--access-key-secret",
                "b",
            ],
            "PORTAL_BUCKET",
        ),
        (
            &[
                "--target",
                "oss",
                "--bucket",
                "b1b",
                "--access-key-id",
                "a",
                "--access-key-secret",
                "b",
            ],
            "OSS_ENDPOINT",
        ),
        (
            &[
                "--target",
                "oss",
                "--bucket",
                "b1b",
                "--oss-region",
                "cn-hangzhou",
            ],
            "OSS_ACCESS_KEY_ID",
        ),
        (
            &[
                "--target",
                "oss",
                "--bucket",
                "b1b",
                "--oss-region",
                "cn-hangzhou",
                "--access-key-id",
                "a",
            ],
            "OSS_ACCESS_KEY_SECRET",
        ),
        (&["--target", "s3", "--bucket", "b1b"], "S3_ENDPOINT"),
        (
            &["--target", "s3", "--s3-endpoint", "http://s3.local"],
            "PORTAL_BUCKET",
        ),
        (
            &[
                "--target",
                "s3",
                "--bucket",
                "b1b",
                "--s3-endpoint",
                "s3.local",
            ],
            "S3_ENDPOINT",
        ),
        (
            &[
                "--target",
                "s3",
                "--bucket",
                "b1b",
                "--s3-endpoint",
                "http://s3.local",
                "--callback-url",
                "http://p/cb",
                "--access-key-id",
                "a",
                "--access-key-secret",
                "b",
            ],
            "OSS_CALLBACK_URL",
        ),
        (&["--callback-url", "ftp://portal/cb"], "OSS_CALLBACK_URL"),
        (
            &[
                "--callback-url",
                "http://portal/cb",
                "--callback-body-type",
                "text/plain",
            ],
            "OSS_CALLBACK_BODY_TYPE",
        ),
        (
            &[
                "--callback-url",
                "http://portal/cb",
                "--callback-body",
                "a=${nope}",
            ],
            "OSS_CALLBACK_BODY",
        ),
        (
            &["--sts-role-arn", "acs:ram::1:role/r"],
            "OSS_ACCESS_KEY_ID",
        ),
        (
            &[
                "--sts-role-arn",
                "arn:aws:iam::1:role/r",
                "--access-key-id",
                "a",
                "--access-key-secret",
                "b",
            ],
            "OSS_STS_ROLE_ARN",
        ),
        (
            &[
                "--sts-role-arn",
                "acs:ram::1:role/r",
                "--sts-duration",
                "600",
                "--access-key-id",
                "a",
                "--access-key-secret",
                "b",
            ],
            "OSS_STS_DURATION",
        ),
        (
            &[
                "--sts-role-arn",
                "acs:ram::1:role/r",
                "--sts-endpoint",
                "sts.local",
                "--access-key-id",
                "a",
                "--access-key-secret",
                "b",
            ],
            "OSS_STS_ENDPOINT",
        ),
        (
            &[
                "--target",
                "oss",
                "--bucket",
                "b1b",
                "--oss-endpoint",
                "oss.example.com",
                "--access-key-id",
                "a",
                "--access-key-secret",
                "b",
            ],
            "OSS_REGION",
        ),
        (&["--bucket", "Bad_Name"], "PORTAL_BUCKET"),
        (&["--upload-root", "../x"], "PORTAL_UPLOAD_ROOT"),
        (&["--default-folder", "other/"], "PORTAL_DEFAULT_FOLDER"),
        (&["--max-files", "0"], "PORTAL_MAX_FILES"),
        (&["--policy-ttl", "1"], "PORTAL_POLICY_TTL"),
        (&["--upload-retries", "21"], "PORTAL_UPLOAD_RETRIES"),
        (&["--part-size", "1000"], "PORTAL_PART_SIZE"),
        (
            &["--part-size", "1MiB", "--multipart-threshold", "500KiB"],
            "PORTAL_MULTIPART_THRESHOLD",
        ),
        (&["--allowed-types", "image"], "PORTAL_ALLOWED_TYPES"),
        (&["--bucket-addr", "127.0.0.1:3000"], "PORTAL_BUCKET_ADDR"),
        (&["--public-url", "ftp://x"], "PORTAL_PUBLIC_URL"),
    ];
    for (args, variable) in cases {
        let err = config(args).validate().unwrap_err();
        assert_eq!(err.variable, *variable, "{args:?}: {err}");
    }
}

#[test]
fn empty_values_count_as_unset() {
    let settings = config(&[
        "--public-url",
        "",
        "--bucket",
        "",
        "--cors-origins",
        "",
        "--access-key-id",
        "a",
        "--access-key-secret",
        "b",
    ])
    .validate()
    .unwrap();
    assert_eq!(settings.portal.target.bucket, "portal-dev");
    assert_eq!(settings.bucket.unwrap().cors_origins.len(), 2);
    let err = config(&["--access-key-id", "a", "--access-key-secret", ""])
        .validate()
        .unwrap_err();
    assert_eq!(err.variable, "OSS_ACCESS_KEY_SECRET");
}

#[test]
fn oss_target_derives_the_bucket_url() {
    let settings = config(&[
        "--target",
        "oss",
        "--bucket",
        "examplebucket",
        "--oss-region",
        "cn-hangzhou",
        "--access-key-id",
        "LTAI",
        "--access-key-secret",
        "shh",
    ])
    .validate()
    .unwrap();
    assert_eq!(
        settings.portal.target.url,
        "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/"
    );
    assert!(settings.bucket.is_none());
    assert!(
        !format!("{settings:?}").contains("shh"),
        "the secret must not print"
    );
}

#[test]
fn s3_bucket_urls_follow_the_style() {
    let path = config(&[
        "--target",
        "s3",
        "--bucket",
        "photos",
        "--s3-endpoint",
        "http://127.0.0.1:3900",
        "--access-key-id",
        "GK1",
        "--access-key-secret",
        "s",
    ])
    .validate()
    .unwrap();
    assert_eq!(path.portal.target.url, "http://127.0.0.1:3900/photos/");
    assert_eq!(path.portal.target.region, "us-east-1");
    let virtual_host = config(&[
        "--target",
        "s3",
        "--bucket",
        "photos",
        "--s3-endpoint",
        "https://s3.example.com",
        "--s3-url-style",
        "virtual-host",
        "--s3-region",
        "eu-west-1",
        "--access-key-id",
        "AK",
        "--access-key-secret",
        "s",
    ])
    .validate()
    .unwrap();
    assert_eq!(
        virtual_host.portal.target.url,
        "https://photos.s3.example.com/"
    );
    assert_eq!(virtual_host.portal.target.region, "eu-west-1");
}

#[test]
fn regions_come_from_endpoints() {
    let region = |e: &str| region_of_endpoint(e);
    assert_eq!(
        region("oss-cn-hangzhou.aliyuncs.com").as_deref(),
        Some("cn-hangzhou")
    );
    assert_eq!(
        region("oss-ap-southeast-1-internal.aliyuncs.com").as_deref(),
        Some("ap-southeast-1")
    );
    assert_eq!(region("minio.example.com"), None);
}

#[test]
fn generated_credentials_when_none_are_set() {
    let settings = config(&[]).validate();
    // The environment of the test run may set credentials; only check the no-env case.
    if std::env::var_os("OSS_ACCESS_KEY_ID").is_none() {
        let settings = settings.unwrap();
        let target = &settings.portal.target;
        assert!(target.generated_credentials);
        assert!(target.credentials.access_key_id.starts_with("LTAIdev"));
    }
}

#[test]
fn photo_size_settings_reach_the_rules() {
    let keys = ["--access-key-id", "id", "--access-key-secret", "s"];
    let defaults = config(&keys).validate().unwrap().portal.rules.photos;
    assert_eq!(
        defaults,
        PhotoRules {
            starts_smaller: false,
            choice: true,
            max_edge: 2560,
            quality_percent: 85,
        }
    );
    let mut args = keys.to_vec();
    args.extend([
        "--photo-size",
        "smaller",
        "--photo-size-choice",
        "false",
        "--photo-max-edge",
        "1600",
        "--photo-quality",
        "0.7",
    ]);
    let set = config(&args).validate().unwrap().portal.rules.photos;
    assert_eq!(
        (
            set.starts_smaller,
            set.choice,
            set.max_edge,
            set.quality_percent
        ),
        (true, false, 1600, 70)
    );
    for quality in ["0", "1.5", "NaN"] {
        let mut args = keys.to_vec();
        args.extend(["--photo-quality", quality]);
        let error = config(&args).validate().unwrap_err();
        assert_eq!(error.variable, "PORTAL_PHOTO_QUALITY", "{quality}");
    }
    let mut args = vec!["upload-portal"];
    args.extend(keys);
    args.extend(["--photo-max-edge", "10"]);
    assert!(Config::try_parse_from(args).is_err());
}
