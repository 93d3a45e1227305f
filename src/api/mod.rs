//! The portal's server fns: one per use case, each a public HTTP endpoint under `/api/`.
//! Each is thin: read state, check who asks, validate, call server code. A refusal's HTTP
//! status (and `Retry-After`) comes from its error (`layers::server_fn_status`).

mod account;
mod ledger;
mod multipart_uploads;
mod plain_upload;
mod portal_settings;
mod requests;
mod sign_uploads;

pub use account::*;
pub use ledger::*;
pub use multipart_uploads::*;
pub use plain_upload::*;
pub use portal_settings::*;
pub use requests::*;
pub use sign_uploads::*;
