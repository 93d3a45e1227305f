use leptos::prelude::*;

use crate::api::{get_login_kind, get_viewer, Login, Logout};
use crate::i18n::{t, t_string, use_i18n};
use crate::model::{LoginKind, PortalError};

/// The links between the portal's pages, who is signed in, and "Sign out".
#[component]
pub fn AccountBar() -> impl IntoView {
    let viewer = Resource::new_blocking(|| (), |_| get_viewer());
    let i18n = use_i18n();
    let logout = ServerAction::<Logout>::new();
    // Signed out: reload, so every page shows the sign-in form again.
    Effect::new(move |_| {
        if let Some(Ok(())) = logout.value().get() {
            reload();
        }
    });
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                viewer.await.ok().map(|viewer| {
                    let name = viewer.name.clone();
                    view! {
                        <nav class="account" aria-label=move || t_string!(i18n, nav_label)>
                            <a href="/">{t!(i18n, nav_upload)}</a>
                            <a href="/uploads">{t!(i18n, nav_my_uploads)}</a>
                            {viewer.admin.then(|| view! { <a href="/admin">{t!(i18n, nav_admin)}</a> })}
                            {viewer.signed_in.then(move || {
                                let name = name.clone();
                                view! {
                                    <span class="who">{t!(i18n, signed_in_as, name = move || name.clone())}</span>
                                    <ActionForm action=logout attr:class="inline">
                                        <button type="submit" class="secondary">{t!(i18n, sign_out)}</button>
                                    </ActionForm>
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
/// It works without JavaScript too (a plain form post, then back to this page).
#[component]
pub fn LoginForm() -> impl IntoView {
    let kind = Resource::new_blocking(|| (), |_| get_login_kind());
    let i18n = use_i18n();
    let login = ServerAction::<Login>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = login.value().get() {
            reload();
        }
    });
    let refusal = move || match login.value().get() {
        Some(Err(error)) => Some(error.describe(i18n.get_locale())),
        _ => None,
    };
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
                        <ActionForm action=login attr:class="stack">
                            {name_field}
                            <div class="field">
                                <label for="login-secret">{secret_label}</label>
                                <input id="login-secret" type="password" name="password" autocomplete="current-password" required maxlength="256" />
                            </div>
                            <button type="submit" disabled=move || login.pending().get()>{t!(i18n, sign_in)}</button>
                        </ActionForm>
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
            <p role="alert" class="error">{move || other.describe(i18n.get_locale())}</p>
        }
        .into_any(),
    }
}

fn reload() {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.location().reload();
    }
}
