//! Signing in and out, and the page's language: plain form posts that come back to the page
//! they were sent from. Sign-in attempts are rate limited per address and name.

use leptos::prelude::*;

use crate::error::PortalError;
use crate::model::{LoginKind, Viewer};

/// What the sign-in form asks for; `None` when nobody needs to sign in (open mode).
#[server(endpoint = "login_kind")]
pub async fn get_login_kind() -> Result<Option<LoginKind>, PortalError> {
    use crate::server::portal::state::app_state;
    app_state().map(|state| state.access.login_kind())
}

/// Checks a name and password (or an access code, with `name` empty) and starts a session:
/// an HttpOnly, SameSite=Lax cookie (Secure behind https). Posted as a plain form, it sends
/// the browser back to its page, with why it was refused if it was.
#[server(endpoint = "login")]
pub async fn login(name: String, password: String) -> Result<Viewer, PortalError> {
    use crate::server::portal::access::{requester, sign_in};
    use crate::server::portal::state::{app_state, back_to_form};
    let result = async {
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
    .await;
    back_to_form(&result, "/");
    result
}

/// Ends the session everywhere and clears the cookie; a plain form post lands on `/`.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), PortalError> {
    use crate::server::portal::access::{requester, sign_out};
    use crate::server::portal::state::app_state;
    let state = app_state()?;
    let from = requester(&state.access).await;
    let cookie = sign_out(&state.access, &state.ledger, &from).await?;
    set_cookie(&cookie);
    leptos_axum::redirect("/");
    Ok(())
}

/// Remembers the reader's language (`en`, `zh-CN`) for a year and sends the browser back to
/// `back`, a page of the portal, now in that language.
#[server(endpoint = "set_language")]
pub async fn set_language(locale: String, back: String) -> Result<(), PortalError> {
    use crate::error::Notice;
    use crate::i18n::Locale;
    use crate::server::portal::state::{app_state, own_path};
    let state = app_state()?;
    let locale: Locale = locale
        .parse()
        .map_err(|()| PortalError::Invalid(Notice::Unreadable))?;
    let cookie = cookie::Cookie::build((LANGUAGE_COOKIE, leptos_i18n::Locale::as_str(locale)))
        .path("/")
        .same_site(cookie::SameSite::Lax)
        .secure(state.access.secure_cookies)
        .max_age(cookie::time::Duration::days(365))
        .build()
        .to_string();
    set_cookie(&cookie);
    leptos_axum::redirect(own_path(&back));
    Ok(())
}

/// The cookie leptos_i18n reads the reader's language from.
#[cfg(feature = "ssr")]
const LANGUAGE_COOKIE: &str = "i18n_pref_locale";

#[cfg(feature = "ssr")]
pub(crate) fn set_cookie(cookie: &str) {
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
    use crate::server::portal::state::signed_in;
    signed_in().await.map(|(_, _, viewer)| viewer)
}
