//! homeroom-server: the reference backend — storage, the `/v1` HTTP API, and the shared
//! access rules enforced on every request (REQ-ACC-7).

pub mod app;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod awards;
pub mod classes;
pub mod clock;
pub mod consent;
pub mod db;
pub mod directory;
pub mod erasure;
pub mod error;
pub mod export;
pub mod facts_cache;
pub mod goals;
pub mod json;
pub mod limits;
pub mod live;
pub mod mail;
pub mod messaging;
pub mod posts;
pub mod push;
pub mod removal;
pub mod retention;
pub mod routes;
pub mod safeguarding;
pub mod seed;
pub mod social;
pub mod subject_access;
pub mod writer;

pub use app::{bind, bind_with_clock, Config};
