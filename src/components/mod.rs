//! The page's parts: the upload page, the form controls and the list of uploads.

pub mod account;
pub mod admin_page;
pub mod fallback_form;
pub mod file_picker;
pub mod folder_field;
pub mod language_switch;
pub mod ledger_table;
pub mod my_uploads_page;
pub mod naming_choice;
pub mod plain_upload_page;
pub mod query;
pub mod upload_list;
pub mod upload_page;
pub mod uploaded_page;
pub mod uploader;
