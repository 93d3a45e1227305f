//! Signing in and out. Sign-in attempts are rate limited per address and per name.

use leptos::prelude::*;

use crate::model::{LoginKind, PortalError, Viewer};

/// What the sign-in form asks for; `None` when nobody needs to sign in (open mode).
#[server(endpoint = "login_kind")]
pub async fn get_login_kind() -> Result<Option<LoginKind>, PortalError> {
    use crate::server::state::app_state;
    app_state().map(|state| state.access.login_kind())
}

/// Checks a name and password (or an access code, with `name` empty) and starts a session:
/// an HttpOnly, SameSite=Lax cookie (Secure behind https). Works as a plain form too.
#[server(endpoint = "login")]
pub async fn login(name: String, password: String) -> Result<Viewer, PortalError> {
    use crate::server::access::{requester, sign_in};
    use crate::server::state::app_state;
    let state = app_state()?;
    let from = requester(&state.access).await;
    let (viewer, cookie) = sign_in(
        &state.access,
        &state.ledger,
        &state.limits,
        &from,
        &name,
        &password,
    )
    .await?;
    set_cookie(&cookie);
    Ok(viewer)
}

/// Ends the session everywhere and clears the cookie.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), PortalError> {
    use crate::server::access::{requester, sign_out};
    use crate::server::state::app_state;
    let state = app_state()?;
    let from = requester(&state.access).await;
    let cookie = sign_out(&state.access, &state.ledger, &from).await?;
    set_cookie(&cookie);
    Ok(())
}

#[cfg(feature = "ssr")]
fn set_cookie(cookie: &str) {
    if let (Some(options), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        axum::http::HeaderValue::from_str(cookie),
    ) {
        options.append_header(axum::http::header::SET_COOKIE, value);
    }
}

/// Who is signed in (everyone, in open mode); `Unauthenticated` without a session.
#[server(endpoint = "viewer")]
pub async fn get_viewer() -> Result<Viewer, PortalError> {
    use crate::server::state::signed_in;
    signed_in().await.map(|(_, _, viewer)| viewer)
}
