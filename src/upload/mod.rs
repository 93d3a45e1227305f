//! The browser's upload engine: sign the queued files, then POST each straight to the bucket
//! with XHR (for upload progress), a few at a time. This file only lists the rooms: the pure
//! ones (rows, problems, checks, progress) build on both sides, the rest in the browser only.

pub mod check;
pub mod journal;
pub mod location;
pub mod photo_size;
pub mod problem;
pub mod progress;
pub mod row;

#[cfg(feature = "hydrate")]
mod integrity;
#[cfg(feature = "hydrate")]
mod keep_alive;
#[cfg(feature = "hydrate")]
pub mod kept;
#[cfg(feature = "hydrate")]
mod network;
#[cfg(feature = "hydrate")]
mod parts;
#[cfg(feature = "hydrate")]
mod photo;
#[cfg(feature = "hydrate")]
pub mod picked;
#[cfg(feature = "hydrate")]
mod queue;
#[cfg(feature = "hydrate")]
mod xhr;

#[cfg(feature = "hydrate")]
pub use keep_alive::keep_alive_while;
#[cfg(feature = "hydrate")]
pub use network::{beacon, sleep};
#[cfg(feature = "hydrate")]
pub use queue::{start, Start};
