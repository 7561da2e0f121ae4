//! Pupils' photo consent records as pulled from the school (REQ-CON-1), sealed at rest: they
//! say who is in care.

use std::collections::BTreeMap;

use homeroom_protocol::consent::ConsentRecord;
use rusqlite::{params, Connection};

use crate::error::{CoreError, StorageContext};
use crate::store::seal::Sealer;

fn place(pupil_id: &str) -> String {
    format!("consent:{pupil_id}")
}

/// Stores the school's current record for a pupil.
pub fn put(
    conn: &Connection,
    sealer: &Sealer,
    pupil_id: &str,
    record: &ConsentRecord,
) -> Result<(), CoreError> {
    let json =
        serde_json::to_vec(record).map_err(|e| CoreError::Io(format!("encode consent: {e}")))?;
    conn.execute(
        "INSERT INTO consent (pupil_id, record) VALUES (?1, ?2)
         ON CONFLICT(pupil_id) DO UPDATE SET record = excluded.record",
        params![pupil_id, sealer.seal(&json, &place(pupil_id))?],
    )
    .ctx("storing a consent record")?;
    Ok(())
}

/// Every record on this device, by pupil; a pupil without one has never been asked (a no).
pub fn all(conn: &Connection, sealer: &Sealer) -> Result<BTreeMap<String, ConsentRecord>, CoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT pupil_id, record FROM consent")
        .ctx("preparing the consent query")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?)))
        .ctx("reading consent")?;
    let mut out = BTreeMap::new();
    for row in rows {
        let (pupil, sealed) = row.ctx("reading a consent row")?;
        let plain = sealer.open(&sealed, &place(&pupil))?;
        let record = serde_json::from_slice(&plain)
            .map_err(|e| CoreError::Io(format!("corrupt consent record: {e}")))?;
        out.insert(pupil, record);
    }
    Ok(out)
}
