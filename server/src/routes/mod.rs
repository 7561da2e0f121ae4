//! The HTTP routes, one module per resource.

pub mod codes;
pub mod consent;
pub mod media;
pub mod session;
pub mod sync;
