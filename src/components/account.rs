//! Who is signed in, the links between the pages, signing out, and the sign-in form: server
//! HTML with plain form posts, the same with or without JavaScript.

use leptos::prelude::*;

use crate::api::{get_login_kind, get_viewer};
use crate::components::query::use_refusal;
use crate::error::PortalError;
use crate::i18n::{t, t_string, use_i18n};
use crate::model::LoginKind;

/// The links between the portal's pages, who is signed in, and "Sign out".
#[component]
pub fn AccountBar() -> impl IntoView {
    let viewer = Resource::new_blocking(|| (), |_| get_viewer());
    let i18n = use_i18n();
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                viewer.await.ok().map(|viewer| {
                    let name = viewer.name.clone();
                    view! {
                        <nav class="account" aria-label=t_string!(i18n, nav_label)>
                            <a href="/">{t!(i18n, nav_upload)}</a>
                            <a href="/uploads">{t!(i18n, nav_my_uploads)}</a>
                            <a href="/requests">{t!(i18n, nav_requests)}</a>
                            {viewer.admin.then(|| view! { <a href="/admin">{t!(i18n, nav_admin)}</a> })}
                            {viewer.signed_in.then(move || {
                                let name = name.clone();
                                view! {
                                    <span class="who">{t!(i18n, signed_in_as, name = move || name.clone())}</span>
                                    <form method="post" action="/api/logout" class="inline">
                                        <button type="submit" class="secondary">{t!(i18n, sign_out)}</button>
                                    </form>
                                }
                            })}
                        </nav>
                    }
                })
            })}
        </Suspense>
    }
}

/// The sign-in form: a name and a password, or an access code, as the portal is configured.
/// A plain form post; the portal sends the browser back here, with why it was refused.
#[component]
pub fn LoginForm() -> impl IntoView {
    let kind = Resource::new_blocking(|| (), |_| get_login_kind());
    let i18n = use_i18n();
    let refusal = use_refusal();
    view! {
        <section class="uploader sign-in">
            <h2>{t!(i18n, sign_in_title)}</h2>
            <Suspense>
                {move || Suspend::new(async move {
                    let kind = kind.await.ok().flatten().unwrap_or(LoginKind::Password);
                    let name_field = match kind {
                        LoginKind::Password => view! {
                            <div class="field">
                                <label for="login-name">{t!(i18n, name_label)}</label>
                                <input id="login-name" type="text" name="name" autocomplete="username" required maxlength="256" />
                            </div>
                        }
                        .into_any(),
                        LoginKind::Code => view! { <input type="hidden" name="name" value="" /> }.into_any(),
                    };
                    let secret_label = match kind {
                        LoginKind::Password => t!(i18n, password_label).into_any(),
                        LoginKind::Code => t!(i18n, code_label).into_any(),
                    };
                    view! {
                        <form method="post" action="/api/login" class="stack">
                            {name_field}
                            <div class="field">
                                <label for="login-secret">{secret_label}</label>
                                <input id="login-secret" type="password" name="password" autocomplete="current-password" required maxlength="256" />
                            </div>
                            <button type="submit">{t!(i18n, sign_in)}</button>
                        </form>
                    }
                })}
            </Suspense>
            <p role="alert" class="error">{refusal}</p>
        </section>
    }
}

/// A page's content, or the sign-in form when the server says "sign in first".
pub fn or_sign_in(error: PortalError) -> AnyView {
    let i18n = use_i18n();
    match error {
        PortalError::Unauthenticated => view! { <LoginForm /> }.into_any(),
        other => view! {
            <p role="alert" class="error">{other.describe(i18n.get_locale())}</p>
        }
        .into_any(),
    }
}
