//! Access control: who is asking (a session cookie, or nobody in open mode), signing in and
//! out, and the limits every signing request passes. Sessions live in the ledger's database,
//! so any instance behind a load balancer knows them and signing out ends them everywhere.

pub mod accounts;
pub mod limits;

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use self::accounts::{AccessCode, UserAccount};
use super::ledger::{Ledger, SessionRecord};
use crate::error::{Notice, PortalError};
use crate::model::{LoginKind, Viewer};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "portal_session";
/// Name and password fields are at most this long (argon2 is not run on megabytes).
const MAX_LOGIN_FIELD: usize = 256;

/// How people get in.
#[derive(Clone, Debug)]
pub enum AccessMode {
    /// Nobody signs in. `admin`: everyone may see the admin page (only on loopback).
    Open {
        admin: bool,
    },
    Codes(Vec<AccessCode>),
    Users(Vec<UserAccount>),
}

#[derive(Clone, Debug)]
pub struct AccessSettings {
    pub mode: AccessMode,
    /// How long a session lasts, in seconds.
    pub session_ttl: i64,
    /// Cookies get `Secure` (the portal is reached over https).
    pub secure_cookies: bool,
    /// The client address is the last hop of `X-Forwarded-For` (a proxy in front adds it).
    pub behind_proxy: bool,
    /// Where open-mode uploads go (the upload root).
    pub upload_root: String,
    /// Upload requests may be created (by every account the users file does not withhold
    /// them from); off: no new requests, and the existing ones take no more files.
    pub requests: bool,
    /// Requests' webhooks may go to loopback, private and link-local addresses.
    pub webhooks_to_private: bool,
}

impl AccessSettings {
    /// Whether `viewer` may create upload requests.
    pub fn may_create_requests(&self, viewer: &Viewer) -> bool {
        self.requests
            && match &self.mode {
                AccessMode::Open { .. } => true,
                AccessMode::Codes(_) => viewer.signed_in,
                AccessMode::Users(users) => {
                    viewer.signed_in && users.iter().any(|u| u.name == viewer.name && u.requests)
                }
            }
    }

    pub fn login_kind(&self) -> Option<LoginKind> {
        match self.mode {
            AccessMode::Open { .. } => None,
            AccessMode::Codes(_) => Some(LoginKind::Code),
            AccessMode::Users(_) => Some(LoginKind::Password),
        }
    }
}

/// What the portal knows about the sender of a request.
#[derive(Clone, Debug, Default)]
pub struct Requester {
    pub ip: String,
    pub user_agent: String,
    /// The session cookie's token, when the request carries one.
    pub session_token: Option<String>,
}

impl Requester {
    /// From a request's headers and its peer address (absent when the server runs without
    /// connect info, as some tests do).
    pub fn from_parts(headers: &HeaderMap, peer: Option<SocketAddr>, behind_proxy: bool) -> Self {
        let forwarded = behind_proxy
            .then(|| {
                headers
                    .get_all("x-forwarded-for")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(','))
                    .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
                    .next_back()
            })
            .flatten();
        let ip = forwarded
            .or(peer.map(|p| p.ip()))
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        let user_agent: String = headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(512)
            .collect();
        let session_token = cookies(headers, SESSION_COOKIE)
            .next()
            .filter(|token| token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()));
        Requester {
            ip,
            user_agent,
            session_token,
        }
    }
}

/// How many session cookies a request carries. More than one means another origin of the
/// same host (the bucket, another port) set one beside the portal's: such a request is
/// refused rather than guessed at.
pub fn session_cookies(headers: &HeaderMap) -> usize {
    cookies(headers, SESSION_COOKIE).count()
}

/// The values of every cookie called `name` that a request carries, in order.
pub fn cookies<'a>(headers: &'a HeaderMap, name: &'a str) -> impl Iterator<Item = String> + 'a {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .filter(move |c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// Who sent the request `parts` belong to (a route's handler has them).
pub fn requester_of(settings: &AccessSettings, parts: &axum::http::request::Parts) -> Requester {
    Requester::from_parts(
        &parts.headers,
        crate::server::http::peer(parts),
        settings.behind_proxy,
    )
}

/// The requester of the server fn being run.
pub async fn requester(settings: &AccessSettings) -> Requester {
    match leptos_axum::extract::<axum::http::request::Parts>().await {
        Ok(parts) => requester_of(settings, &parts),
        Err(_) => Requester::from_parts(&HeaderMap::new(), None, settings.behind_proxy),
    }
}

fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Who is asking: the session's user, or everyone in open mode; otherwise `Unauthenticated`.
pub async fn viewer(
    settings: &AccessSettings,
    ledger: &Ledger,
    from: &Requester,
) -> Result<Viewer, PortalError> {
    if let AccessMode::Open { admin } = settings.mode {
        return Ok(Viewer {
            name: "open".into(),
            root: settings.upload_root.clone(),
            admin,
            signed_in: false,
        });
    }
    let Some(token) = &from.session_token else {
        return Err(PortalError::Unauthenticated);
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let session = ledger
        .session(&token_hash(token), now)
        .await
        .map_err(limits::ledger_failed)?
        .ok_or(PortalError::Unauthenticated)?;
    Ok(Viewer {
        name: session.user,
        root: session.root,
        admin: session.admin,
        signed_in: true,
    })
}

/// Like [`viewer`], for administrators only.
pub async fn admin(
    settings: &AccessSettings,
    ledger: &Ledger,
    from: &Requester,
) -> Result<Viewer, PortalError> {
    let viewer = viewer(settings, ledger, from).await?;
    if viewer.admin {
        Ok(viewer)
    } else {
        Err(PortalError::Forbidden)
    }
}

/// Checks a sign-in and starts a session; returns the viewer and the `Set-Cookie` value.
/// Attempts are rate limited before anything is checked; a wrong name costs as much time as
/// a wrong password.
pub async fn sign_in(
    settings: &AccessSettings,
    ledger: &Ledger,
    limiters: &limits::Limiters,
    from: &Requester,
    name: &str,
    secret: &str,
) -> Result<(Viewer, String), PortalError> {
    let name = name.trim();
    let kind = settings
        .login_kind()
        .ok_or(PortalError::Invalid(Notice::BadLogin))?;
    if secret.is_empty()
        || secret.len() > MAX_LOGIN_FIELD
        || name.len() > MAX_LOGIN_FIELD
        || (kind == LoginKind::Password && name.is_empty())
    {
        return Err(PortalError::Invalid(Notice::BadLoginInput));
    }
    limiters.login(name, from).await?;
    let found = match &settings.mode {
        AccessMode::Open { .. } => None,
        AccessMode::Codes(codes) => codes
            .iter()
            .find(|c| accounts::same_secret(c.code.expose_secret(), secret))
            .map(|c| (c.label.clone(), settings.upload_root.clone(), false)),
        AccessMode::Users(users) => {
            let account = users.iter().find(|u| u.name == name).cloned();
            // Unknown names are checked against a real hash too, so timing tells nothing.
            let hash = account.as_ref().map_or_else(
                || users[0].password_hash.clone(),
                |a| a.password_hash.clone(),
            );
            let password = secret.to_owned();
            let matches = limiters
                .password_work(move || accounts::password_matches(&password, &hash))
                .await?;
            account
                .filter(|_| matches)
                .map(|a| (a.name, a.root, a.admin))
        }
    };
    let Some((user, root, admin)) = found else {
        tracing::warn!(ip = %from.ip, name = %name.escape_debug(), "sign-in refused");
        return Err(PortalError::Invalid(Notice::BadLogin));
    };
    let token = random_token();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let session = SessionRecord {
        user: user.clone(),
        root: root.clone(),
        admin,
        expires_at: now + settings.session_ttl,
    };
    ledger
        .create_session(&token_hash(&token), &session, now)
        .await
        .map_err(limits::ledger_failed)?;
    tracing::info!(ip = %from.ip, user = %user, "signed in");
    let cookie = session_cookie(settings, &token, settings.session_ttl);
    Ok((
        Viewer {
            name: user,
            root,
            admin,
            signed_in: true,
        },
        cookie,
    ))
}

/// Ends the requester's session (everywhere: it is deleted from the database) and returns
/// the `Set-Cookie` value that clears the cookie.
pub async fn sign_out(
    settings: &AccessSettings,
    ledger: &Ledger,
    from: &Requester,
) -> Result<String, PortalError> {
    if let Some(token) = &from.session_token {
        ledger
            .end_session(&token_hash(token))
            .await
            .map_err(limits::ledger_failed)?;
    }
    Ok(session_cookie(settings, "", 0))
}

fn random_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `portal_session=<token>; HttpOnly; SameSite=Lax; Path=/; Max-Age=<ttl>[; Secure]`.
fn session_cookie(settings: &AccessSettings, token: &str, max_age: i64) -> String {
    cookie::Cookie::build((SESSION_COOKIE, token.to_owned()))
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .path("/")
        .secure(settings.secure_cookies)
        .max_age(cookie::time::Duration::seconds(max_age))
        .build()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_requester_is_read_from_headers() {
        let mut headers = HeaderMap::new();
        let token = "ab".repeat(32);
        headers.insert(
            "cookie",
            format!("lang=zh-CN; {SESSION_COOKIE}={token}")
                .parse()
                .unwrap(),
        );
        headers.insert("x-forwarded-for", "1.2.3.4, 10.0.0.7".parse().unwrap());
        headers.insert("user-agent", "Mozilla/5.0".parse().unwrap());
        let peer: SocketAddr = "127.0.0.1:5555".parse().unwrap();
        let direct = Requester::from_parts(&headers, Some(peer), false);
        assert_eq!(direct.ip, "127.0.0.1");
        assert_eq!(direct.session_token.as_deref(), Some(token.as_str()));
        assert_eq!(direct.user_agent, "Mozilla/5.0");
        // Behind a proxy: the hop the proxy appended, not what the client claimed first.
        assert_eq!(
            Requester::from_parts(&headers, Some(peer), true).ip,
            "10.0.0.7"
        );
        // A malformed token is no token.
        headers.insert("cookie", format!("{SESSION_COOKIE}=../x").parse().unwrap());
        assert_eq!(
            Requester::from_parts(&headers, None, false).session_token,
            None
        );
    }

    #[test]
    fn session_cookies_are_http_only_and_lax() {
        let settings = AccessSettings {
            mode: AccessMode::Open { admin: false },
            session_ttl: 3600,
            secure_cookies: true,
            behind_proxy: false,
            upload_root: "uploads/".into(),
            requests: true,
            webhooks_to_private: false,
        };
        let cookie = session_cookie(&settings, "abc", 3600);
        assert!(cookie.starts_with("portal_session=abc"));
        for part in [
            "HttpOnly",
            "SameSite=Lax",
            "Path=/",
            "Max-Age=3600",
            "Secure",
        ] {
            assert!(cookie.contains(part), "{cookie}");
        }
        assert_eq!(token_hash("x").len(), 64);
        assert_ne!(random_token(), random_token());
    }
}
