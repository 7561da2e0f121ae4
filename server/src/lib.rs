//! homeroom-server: the reference backend — storage, the `/v1` HTTP API, and the shared
//! access rules enforced on every request (REQ-ACC-7).

pub mod app;
pub mod audit;
pub mod auth;
pub mod db;
pub mod directory;
pub mod error;
pub mod json;
pub mod limits;
pub mod removal;
pub mod retention;
pub mod routes;
pub mod seed;

pub use app::{bind, Config};
