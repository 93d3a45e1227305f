//! The page's parts: the pages (rendered on the server), and the uploader island with its
//! controls and list (the only part the browser runs).

pub mod account;
pub mod admin_page;
pub mod fallback_form;
pub mod file_picker;
pub mod folder_field;
pub mod language_switch;
pub mod ledger_table;
pub mod live;
pub mod my_uploads_page;
pub mod naming_choice;
pub mod phone_link;
pub mod plain_upload_page;
pub mod query;
pub mod request_page;
pub mod requests_page;
pub mod send_page;
pub mod upload_list;
pub mod upload_page;
pub mod uploaded_page;
pub mod uploader;

/// The language of the uploader island's parts: it provides its `locale` prop here, since no
/// i18n context reaches the browser. English where none was provided.
pub fn use_locale() -> crate::i18n::Locale {
    leptos::prelude::use_context().unwrap_or_default()
}
