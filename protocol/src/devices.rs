//! Wire types for school-registered devices (REQ-ACC-6): an admin enrols a tablet and hands it a
//! key; staff accounts sign in only on a device presenting a live key of their school.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `POST /v1/devices`: enrol a device under a label staff recognise ("Class A tablet 2").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolDeviceRequest {
    pub label: String,
}

/// A new enrolment: `device_key` is shown once (the server keeps its hash); the app passes it
/// as its `device_id` when signing in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolledDevice {
    pub device_id: String,
    pub label: String,
    pub device_key: String,
}

/// One enrolled device as `GET /v1/devices` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    pub device_id: String,
    pub label: String,
    pub enrolled_by: String,
    pub enrolled_at: DateTime<Utc>,
    pub revoked: bool,
}
