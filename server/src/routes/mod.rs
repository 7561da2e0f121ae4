//! The HTTP routes, one module per resource.

pub mod codes;
pub mod messages;
pub mod session;
pub mod sync;
