//! homeroom-core: the library every Homeroom app links. Plain Rust modules hold the logic
//! (cache, outbox, sync, rules); `ffi` is the thin UniFFI surface the Swift and Kotlin shells see.

uniffi::setup_scaffolding!();

pub mod api;
pub mod backoff;
pub mod consent;
pub mod error;
pub mod goals;
pub mod homeroom;
pub mod live;
pub mod media;
pub mod messaging;
pub mod photos;
pub mod reports;
pub mod social;
pub mod store;
pub mod views;

mod ffi;

pub use error::CoreError;
pub use ffi::*;
pub use homeroom::{Homeroom, NextTask, Settings, SyncOutcome};
