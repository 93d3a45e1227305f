//! The page's parts: the upload page, the form controls and the list of uploads.

pub mod fallback_form;
pub mod file_picker;
pub mod folder_field;
pub mod language_switch;
pub mod naming_choice;
pub mod upload_list;
pub mod upload_page;
pub mod uploaded_page;
pub mod uploader;
