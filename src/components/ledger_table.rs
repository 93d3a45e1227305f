//! The ledger as a table (My uploads, admin): a card per entry on a phone, and a Delete for
//! each stored upload (two clicks, no script: a disclosure holds the form that deletes).

use leptos::prelude::*;

use crate::format::{format_size, format_time};
use crate::i18n::{t, t_string, use_i18n};
use crate::model::{LedgerEntry, LedgerPage};

/// Ledger entries as a table, newest first: the object (linked once stored), its size, ETag
/// and time, and Delete; with `everyone`, also who signed it, from where, and its state.
#[component]
pub fn LedgerTable(page: LedgerPage, everyone: bool) -> impl IntoView {
    let i18n = use_i18n();
    if page.entries.is_empty() {
        return view! { <p class="empty">{t!(i18n, no_uploads)}</p> }.into_any();
    }
    let deletable = page.deletable;
    let rows = page
        .entries
        .into_iter()
        .map(|entry| view! { <LedgerRow entry everyone deletable /> })
        .collect_view();
    view! {
        <div class="table-scroll">
            <table class="ledger">
                <thead>
                    <tr>
                        <th scope="col">{t!(i18n, col_file)}</th>
                        <th scope="col">{t!(i18n, col_size)}</th>
                        <th scope="col">{t!(i18n, etag)}</th>
                        <th scope="col">{t!(i18n, col_time)}</th>
                        {everyone.then(|| view! {
                            <th scope="col">{t!(i18n, col_user)}</th>
                            <th scope="col">{t!(i18n, col_state)}</th>
                            <th scope="col">{t!(i18n, col_client)}</th>
                        })}
                        {deletable.then(|| view! { <th scope="col">{t!(i18n, col_actions)}</th> })}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <p class="pages">
            {t!(i18n, page_of, page = page.page, pages = page.pages, total = page.total)}
        </p>
    }
    .into_any()
}

#[component]
fn LedgerRow(entry: LedgerEntry, everyone: bool, deletable: bool) -> impl IntoView {
    let i18n = use_i18n();
    let stored = entry.completed_at.is_some();
    let deleted = entry.deleted_at.is_some();
    let size = format_size(entry.stored_size.unwrap_or(entry.declared_size));
    let time = format_time(entry.completed_at.unwrap_or(entry.signed_at));
    let object = if entry.url.is_empty() {
        view! { <span class="key">{entry.key.clone()}</span> }.into_any()
    } else {
        view! { <a class="key" href=entry.url.clone() rel="noopener">{entry.key.clone()}</a> }
            .into_any()
    };
    let etag = entry.etag.clone().unwrap_or_default();
    // Column names beside each value (`data-label`), for the card layout on a phone.
    view! {
        <tr data-state=if deleted { "deleted" } else if stored { "stored" } else { "pending" }>
            <td class="object">{object}</td>
            <td class="num" data-label=t_string!(i18n, col_size).to_string()>{size}</td>
            <td data-label=t_string!(i18n, etag).to_string()><code title=etag.clone()>{etag.clone()}</code></td>
            <td class="num" data-label=t_string!(i18n, col_time).to_string()>{time}</td>
            {everyone.then(|| view! {
                <td data-label=t_string!(i18n, col_user).to_string()>{entry.user.clone()}</td>
                <td data-label=t_string!(i18n, col_state).to_string()>
                    {if deleted {
                        t!(i18n, entry_deleted).into_any()
                    } else if stored {
                        t!(i18n, entry_completed).into_any()
                    } else {
                        t!(i18n, entry_pending).into_any()
                    }}
                </td>
                <td class="client" data-label=t_string!(i18n, col_client).to_string() title=entry.user_agent.clone()>{entry.client_ip.clone()}</td>
            })}
            {deletable.then(|| view! {
            <td class="delete-cell" data-label=t_string!(i18n, col_actions).to_string()>
                {if deleted {
                    Some(view! { <span class="deleted">{t!(i18n, entry_deleted)}</span> }.into_any())
                } else if stored {
                    Some(view! {
                        <details class="delete">
                            <summary>{t!(i18n, delete)}</summary>
                            <form method="post" action="/api/delete_upload" class="inline">
                                <input type="hidden" name="id" value=entry.id.clone() />
                                <button type="submit" class="danger">{t!(i18n, delete_for_good)}</button>
                            </form>
                        </details>
                    }.into_any())
                } else {
                    None
                }}
            </td>
            })}
        </tr>
    }
}

/// "Newer" / "Older" links for a page of `pages`, keeping the other query parameters.
pub fn page_links(page: u32, pages: u32, query: impl Fn(u32) -> String + 'static) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <nav class="pager">
            {(page > 1).then(|| view! { <a href=query(page - 1)>{t!(i18n, newer)}</a> })}
            {(page < pages).then(|| view! { <a href=query(page + 1)>{t!(i18n, older)}</a> })}
        </nav>
    }
}
