//! Signature schemes, as pure functions over strings and keys: no clock, no I/O. Each scheme
//! is tested against the official SDKs' vectors in `../shared/oss-vectors.json`.

pub mod v1;
