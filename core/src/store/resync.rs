//! Forgets what the device pulled (keeping its own unsent work) so a sync can start over.

use rusqlite::Transaction;

use crate::error::{CoreError, StorageContext};
use crate::store::kv;

/// Deletes every pulled row, the cursor and the directory; pending rows and the outbox stay.
///
/// Used when the server refuses the cursor as stale (its data was rebuilt or restored): the
/// device then pulls everything again, so nothing the new copy lacks survives here. Every table
/// with a `pending` column holds server data beside local edits, so new tables are covered
/// without being named here. Returns the pupils whose points changed.
pub fn forget_pulled(tx: &Transaction<'_>) -> Result<Vec<String>, CoreError> {
    let mut pupils = tx
        .prepare("SELECT DISTINCT pupil_id FROM awards WHERE pending = 0")
        .ctx("listing pulled awards")?
        .query_map([], |r| r.get::<_, String>(0))
        .ctx("listing pulled awards")?
        .collect::<Result<Vec<_>, _>>()
        .ctx("listing pulled awards")?;
    pupils.sort();
    let tables = tx
        .prepare(
            "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c \
             WHERE m.type = 'table' AND c.name = 'pending' ORDER BY m.name",
        )
        .ctx("listing cached tables")?
        .query_map([], |r| r.get::<_, String>(0))
        .ctx("listing cached tables")?
        .collect::<Result<Vec<_>, _>>()
        .ctx("listing cached tables")?;
    for table in &tables {
        // The names come from our own schema, never from input.
        tx.execute(&format!("DELETE FROM \"{table}\" WHERE pending = 0"), [])
            .ctx("forgetting pulled rows")?;
    }
    for key in [kv::CURSOR, kv::DIRECTORY, kv::LOG_ID] {
        kv::delete(tx, key)?;
    }
    tracing::info!(
        tables = tables.len(),
        "forgot pulled data for a full resync"
    );
    Ok(pupils)
}
