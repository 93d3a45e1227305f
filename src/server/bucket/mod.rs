//! The embedded OSS-compatible bucket: PostObject, GET/HEAD/DELETE, listing, CORS, multipart,
//! OSS XML errors, objects on disk, and a local STS. It runs in the portal's process on its own
//! port and knows nothing of the portal: it speaks `protocol/`, like OSS itself.

pub mod addressing;
pub mod auth;
pub mod callback;
pub mod cors_config;
pub mod deletion;
pub mod errors;
pub mod keys;
pub mod listing;
pub mod multipart;
pub mod objects;
mod open;
pub mod post_object;
pub mod put_object;
pub mod ranges;
mod state;
pub mod store;
pub mod sts;
mod upload_locks;
pub(crate) mod xml;

pub use self::open::open;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};

use self::errors::{BucketError, OssCode};
use crate::server::protocol::cors;

pub use self::state::{Bucket, BucketSettings, RequestContext};

/// The bucket's HTTP routes, with the request-id and CORS layer around them, behind the
/// rewrite of path-style URLs (which must run before routing).
pub fn router(bucket: Arc<Bucket>) -> Router {
    let routes = Router::new()
        .route(
            "/",
            post(bucket_post)
                .get(bucket_get)
                .put(cors_config::put)
                .delete(cors_config::delete)
                .options(preflight)
                .fallback(method_not_allowed),
        )
        .route(
            "/{*key}",
            get(objects::get_object)
                .post(multipart::post)
                .put(multipart::put)
                .delete(objects::delete)
                .options(preflight)
                .fallback(method_not_allowed),
        )
        .fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            bucket.clone(),
            request_context,
        ))
        .with_state(bucket.clone());
    Router::new()
        .fallback_service(routes)
        .layer(middleware::from_fn_with_state(bucket, addressing::rewrite))
}

/// Gives each request an id (`x-oss-request-id`) and adds CORS headers to actual requests
/// whose origin a rule allows (preflights are answered by `preflight`).
async fn request_context(
    State(bucket): State<Arc<Bucket>>,
    mut request: Request,
    next: Next,
) -> Response {
    let request_id = uuid::Uuid::new_v4().simple().to_string()[..24].to_ascii_uppercase();
    request.extensions_mut().insert(RequestContext {
        request_id: request_id.clone(),
    });
    let origin = request.headers().get(header::ORIGIN).cloned();
    let method = request.method().clone();
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        "x-oss-request-id",
        HeaderValue::from_str(&request_id).expect("hex id"),
    );
    if method != Method::OPTIONS {
        if let Some(origin) = origin {
            let rule = origin.to_str().ok().and_then(|o| {
                let rules = bucket.cors.read().expect("cors rules lock");
                cors::match_request(&rules, o, method.as_str()).cloned()
            });
            if let Some(rule) = rule {
                headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
                insert_list(
                    headers,
                    header::ACCESS_CONTROL_EXPOSE_HEADERS,
                    &rule.expose_headers,
                );
            }
            headers.append(header::VARY, HeaderValue::from_static("Origin"));
        }
    }
    response
}

fn insert_list(headers: &mut HeaderMap, name: header::HeaderName, values: &[String]) {
    if let Ok(value) = HeaderValue::from_str(&values.join(", ")) {
        headers.insert(name, value);
    }
}

/// A CORS preflight, answered from the bucket's rules as OSS does.
async fn preflight(
    State(bucket): State<Arc<Bucket>>,
    Extension(ctx): Extension<RequestContext>,
    headers: HeaderMap,
) -> Response {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(origin), Some(method)) = (
        text(header::ORIGIN),
        text(header::ACCESS_CONTROL_REQUEST_METHOD),
    ) else {
        return BucketError::new(
            OssCode::AccessForbidden,
            "CORSResponse: Insufficient information. Origin request header needed.",
        )
        .into_response(&ctx.request_id, &bucket.host_id, true);
    };
    let requested = text(header::ACCESS_CONTROL_REQUEST_HEADERS).unwrap_or("");
    let matched = {
        let rules = bucket.cors.read().expect("cors rules lock");
        cors::match_preflight(&rules, origin, method, requested).cloned()
    };
    let Some(rule) = matched else {
        return BucketError::new(
            OssCode::AccessForbidden,
            "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Requet-Headers are not whitelisted by the resource's CORS spec.",
        )
        .into_response(&ctx.request_id, &bucket.host_id, true);
    };
    let mut response = StatusCode::OK.into_response();
    let out = response.headers_mut();
    if let Ok(origin) = HeaderValue::from_str(origin) {
        out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
    insert_list(
        out,
        header::ACCESS_CONTROL_ALLOW_METHODS,
        &rule.allowed_methods,
    );
    if let Ok(requested) = HeaderValue::from_str(requested) {
        if !requested.is_empty() {
            out.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested);
        }
    }
    insert_list(
        out,
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        &rule.expose_headers,
    );
    out.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from(rule.max_age_seconds),
    );
    out.insert(header::VARY, HeaderValue::from_static("Origin"));
    response
}

/// `POST /?delete` deletes many objects; any other `POST /` is a form upload (PostObject).
async fn bucket_post(
    State(bucket): State<Arc<Bucket>>,
    Extension(ctx): Extension<RequestContext>,
    axum::extract::Query(pairs): axum::extract::Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    if pairs.iter().any(|(name, _)| name == "delete") {
        return deletion::delete_many(&bucket, &pairs, &headers, body)
            .await
            .unwrap_or_else(|e| e.into_response(&ctx.request_id, &bucket.host_id, true));
    }
    post_object::post_object(State(bucket), Extension(ctx), headers, body).await
}

/// `GET /?callback-public-key` serves the key that verifies this bucket's callbacks;
/// `GET /?uploads` lists the multipart uploads in progress, `GET /?cors` the CORS rules;
/// any other `GET /` lists the objects (V1, or V2 with `list-type=2`).
async fn bucket_get(
    State(bucket): State<Arc<Bucket>>,
    Extension(ctx): Extension<RequestContext>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    axum::extract::Query(pairs): axum::extract::Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    if pairs.iter().any(|(name, _)| name == "uploads") {
        return multipart::list_uploads(&bucket, &ctx, &pairs, &headers).await;
    }
    if pairs.iter().any(|(name, _)| name == "cors") {
        return cors_config::get(&bucket, &ctx, &pairs, &headers);
    }
    match (&bucket.callback, query.as_deref()) {
        (Some(signer), Some("callback-public-key")) => (
            [(header::CONTENT_TYPE, "application/x-pem-file")],
            signer.public_key_pem.clone(),
        )
            .into_response(),
        _ => listing::list(&bucket, &ctx, &pairs, &headers).await,
    }
}

async fn method_not_allowed(
    State(bucket): State<Arc<Bucket>>,
    Extension(ctx): Extension<RequestContext>,
) -> Response {
    BucketError::new(
        OssCode::MethodNotAllowed,
        "The specified method is not allowed against this resource.",
    )
    .into_response(&ctx.request_id, &bucket.host_id, true)
}
