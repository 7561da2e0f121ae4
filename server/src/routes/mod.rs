//! The HTTP routes, one module per resource.

pub mod session;
pub mod sync;
