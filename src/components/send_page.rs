//! `/r/{token}`: the page behind an upload request's link, for anyone (no account): the title,
//! instructions and limits in words, what the request asks first, then the uploader, locked to
//! the request's folder and naming.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::api::request_invitation;
use crate::components::query::use_refusal;
use crate::components::upload_page::IslandScripts;
use crate::components::uploader::Uploader;
use crate::format::{format_size, format_time};
use crate::i18n::{t, use_i18n};
use crate::model::{Invitation, RequestState, RequestSummary};

#[component]
pub fn SendPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let invitation = Resource::new_blocking(token, request_invitation);
    let i18n = use_i18n();
    let refusal = use_refusal();
    view! {
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                let invitation = match invitation.await {
                    Ok(invitation) => invitation,
                    Err(error) => {
                        let why = error.describe(i18n.get_locale_untracked());
                        return view! {
                            <header class="intro"><h1>{t!(i18n, title)}</h1></header>
                            <p role="alert" class="error">{why}</p>
                        }
                        .into_any();
                    }
                };
                match invitation {
                    Invitation::Ended { title, state } => view! {
                        <header class="intro"><h1>{title}</h1></header>
                        <p role="alert" class="error ended">
                            {if state == RequestState::Expired {
                                t!(i18n, request_ended_expired).into_any()
                            } else {
                                t!(i18n, request_ended_closed).into_any()
                            }}
                        </p>
                    }
                    .into_any(),
                    Invitation::Join { request, needs_password } => view! {
                        <RequestIntro request=request.clone() />
                        {move || refusal().map(|why| view! { <p role="alert" class="error">{why}</p> })}
                        <JoinForm request token=token() needs_password />
                    }
                    .into_any(),
                    Invitation::Send { request, name, uploader } => {
                        let locale = i18n.get_locale_untracked();
                        view! {
                            <RequestIntro request />
                            {(!name.is_empty()).then(|| view! {
                                <p class="sender">{t!(i18n, request_sending_as, name = name.clone())}</p>
                            })}
                            // The request decides the folder and the naming: their controls hide.
                            <div class="with-js request-uploader">
                                <Uploader locale settings=uploader />
                            </div>
                            <p class="without-js error">{t!(i18n, request_needs_js)}</p>
                            <IslandScripts />
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// The title, the instructions, and the limits in words.
#[component]
fn RequestIntro(request: RequestSummary) -> impl IntoView {
    let i18n = use_i18n();
    let types = request.allowed_types.join(", ");
    view! {
        <header class="intro">
            <h1>{request.title.clone()}</h1>
            {(!request.instructions.is_empty()).then(|| view! {
                <p class="instructions">{request.instructions.clone()}</p>
            })}
            <ul class="rules">
                <li>{t!(i18n, request_rules_until, time = format_time(request.expires_at))}</li>
                {(request.max_files > 0).then(|| view! {
                    <li>{t!(i18n, request_rules_files, count = request.max_files)}</li>
                })}
                {(request.max_file_size > 0).then(|| view! {
                    <li>{t!(i18n, request_rules_size, size = format_size(request.max_file_size))}</li>
                })}
                {(request.max_total_bytes > 0).then(|| view! {
                    <li>{t!(i18n, request_rules_total, size = format_size(request.max_total_bytes))}</li>
                })}
                {(!types.is_empty()).then(|| view! {
                    <li>{t!(i18n, request_rules_types, types = types.clone())}</li>
                })}
            </ul>
        </header>
    }
}

/// What the request asks before files can be sent: its password, the sender's name and note.
#[component]
fn JoinForm(request: RequestSummary, token: String, needs_password: bool) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <form class="uploader" method="post" action="/api/join_request">
            <input type="hidden" name="token" value=token />
            {if needs_password {
                view! {
                    <div class="field">
                        <label for="join-password">{t!(i18n, password_label)}</label>
                        <input id="join-password" type="password" name="password" required maxlength="256" autocomplete="off" />
                    </div>
                }
                .into_any()
            } else {
                view! { <input type="hidden" name="password" value="" /> }.into_any()
            }}
            {if request.ask_name {
                view! {
                    <div class="field">
                        <label for="join-name">{t!(i18n, request_name_label)}</label>
                        <input id="join-name" type="text" name="name" required maxlength="100" autocomplete="name" />
                    </div>
                }
                .into_any()
            } else {
                view! { <input type="hidden" name="name" value="" /> }.into_any()
            }}
            {if request.ask_note {
                view! {
                    <div class="field">
                        <label for="join-note">{t!(i18n, request_note_label)}</label>
                        <textarea id="join-note" name="note" required rows="3" maxlength="1000"></textarea>
                    </div>
                }
                .into_any()
            } else {
                view! { <input type="hidden" name="note" value="" /> }.into_any()
            }}
            <div class="actions">
                <button type="submit">{t!(i18n, request_continue)}</button>
            </div>
        </form>
    }
}
