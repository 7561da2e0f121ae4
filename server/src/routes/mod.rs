//! The HTTP routes, one module per resource.

pub mod codes;
pub mod session;
pub mod sync;
