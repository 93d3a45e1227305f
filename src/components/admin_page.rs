//! `/admin`: every user's uploads, filtered, with a CSV export, and the storage self-diagnosis.
//! Administrators only; rendered on the server, filters are a plain GET form.

use leptos::prelude::*;

use crate::api::{admin_uploads, diagnose};
use crate::components::account::or_sign_in;
use crate::components::ledger_table::{page_links, LedgerTable};
use crate::components::query::{use_query_text, value};
use crate::i18n::{t, use_i18n};
use crate::model::{EntryState, Finding, LedgerQuery};

/// `/admin`: every user's uploads with filters (user, key prefix, state) and a CSV export of
/// what the filters select; the storage self-diagnosis. For administrators.
#[component]
pub fn AdminPage() -> impl IntoView {
    let params = use_query_text();
    let query = move || {
        let params = params.read();
        LedgerQuery {
            user: value(&params, "user").unwrap_or_default(),
            key_prefix: value(&params, "key_prefix").unwrap_or_default(),
            // Stored uploads unless asked: tickets that were never used are not uploads.
            state: match value(&params, "state").as_deref() {
                Some("all") => EntryState::All,
                Some("pending") => EntryState::Pending,
                _ => EntryState::Completed,
            },
            page: value(&params, "page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(1),
        }
    };
    let entries = Resource::new_blocking(query, admin_uploads);
    let findings = Resource::new_blocking(|| (), |_| diagnose());
    let i18n = use_i18n();
    view! {
        <header class="intro">
            <h1>{t!(i18n, admin_title)}</h1>
            <p><a href="/requests?all=1">{t!(i18n, all_requests)}</a></p>
        </header>
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                let found = match entries.await {
                    Ok(found) => found,
                    Err(error) => return or_sign_in(error),
                };
                let current = query();
                let (page, pages) = (found.page, found.pages);
                let link = move |n: u32| format!("/admin?{}", encode_query(&LedgerQuery { page: n, ..current.clone() }));
                let csv = format!("/admin/uploads.csv?{}", encode_query(&LedgerQuery { page: 1, ..query() }));
                let q = query();
                let state = move |value: &'static str| {
                    let selected = matches!(
                        (value, q.state),
                        ("all", EntryState::All) | ("completed", EntryState::Completed) | ("pending", EntryState::Pending)
                    );
                    selected
                };
                let findings = findings.await.unwrap_or_default();
                view! {
                    <section class="uploader">
                        <form method="get" action="/admin" class="filters">
                            <div class="field">
                                <label for="filter-user">{t!(i18n, col_user)}</label>
                                <input id="filter-user" type="text" name="user" value=query().user maxlength="64" />
                            </div>
                            <div class="field">
                                <label for="filter-prefix">{t!(i18n, filter_prefix)}</label>
                                <input id="filter-prefix" type="text" name="key_prefix" value=query().key_prefix maxlength="1023" />
                            </div>
                            <div class="field">
                                <label for="filter-state">{t!(i18n, col_state)}</label>
                                <select id="filter-state" name="state">
                                    <option value="all" selected=state("all")>{t!(i18n, state_all)}</option>
                                    <option value="completed" selected=state("completed")>{t!(i18n, entry_completed)}</option>
                                    <option value="pending" selected=state("pending")>{t!(i18n, entry_pending)}</option>
                                </select>
                            </div>
                            <div class="actions">
                                <button type="submit">{t!(i18n, apply_filter)}</button>
                                <a class="button secondary" href=csv rel="external" download="uploads.csv">{t!(i18n, download_csv)}</a>
                            </div>
                        </form>
                        <LedgerTable page=found everyone=true />
                        {page_links(page, pages, link)}
                    </section>
                    <section class="uploader diagnosis">
                        <h2>{t!(i18n, diagnosis_title)}</h2>
                        <ul class="findings">
                            {findings.into_iter().map(|f| view! { <FindingItem finding=f /> }).collect_view()}
                        </ul>
                    </section>
                }
                .into_any()
            })}
        </Suspense>
    }
}

#[component]
fn FindingItem(finding: Finding) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <li data-check=finding.check.clone() data-ok=finding.ok.to_string()>
            <strong class=if finding.ok { "ok" } else { "bad" }>
                {if finding.ok { t!(i18n, check_ok).into_any() } else { t!(i18n, check_problem).into_any() }}
            </strong>
            " " <span class="check">{finding.check.clone()}</span> ": " {finding.detail.clone()}
        </li>
    }
}

/// The query string of a filter (values percent-encoded).
fn encode_query(query: &LedgerQuery) -> String {
    let state = match query.state {
        EntryState::All => "all",
        EntryState::Completed => "completed",
        EntryState::Pending => "pending",
    };
    let encode = |v: &str| {
        percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    format!(
        "user={}&key_prefix={}&state={state}&page={}",
        encode(&query.user),
        encode(&query.key_prefix),
        query.page
    )
}
