//! Names for ids, as people read them in exports: organisations' names, contracts' numbers,
//! warehouses' and zones' names, vehicles' plates, users' display names. An export keeps one [`Names`] and asks
//! it for each page's ids; it reads only the ids it has not seen, so a year's export reads each
//! name once (a park has tens of organisations and zones, not millions).

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{contracts, organizations, users, vehicles, warehouses, zones};

#[derive(Debug, Default)]
pub struct Names {
    known: HashMap<String, String>,
}

impl Names {
    /// Learns the names of `ids` not yet known (unknown ids keep no name).
    pub fn learn<'a>(
        &mut self,
        conn: &mut DbConn,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> QueryResult<()> {
        let mut missing: Vec<String> = ids
            .into_iter()
            .filter(|id| !id.is_empty() && !self.known.contains_key(*id))
            .map(str::to_owned)
            .collect();
        missing.sort();
        missing.dedup();
        if missing.is_empty() {
            return Ok(());
        }
        let mut found: Vec<(String, String)> = organizations::table
            .filter(organizations::id.eq_any(&missing))
            .select((organizations::id, organizations::name))
            .load(conn)?;
        found.extend(
            contracts::table
                .filter(contracts::id.eq_any(&missing))
                .select((contracts::id, contracts::number))
                .load::<(String, String)>(conn)?,
        );
        found.extend(
            warehouses::table
                .filter(warehouses::id.eq_any(&missing))
                .select((warehouses::id, warehouses::name))
                .load::<(String, String)>(conn)?,
        );
        found.extend(
            zones::table
                .filter(zones::id.eq_any(&missing))
                .select((zones::id, zones::name))
                .load::<(String, String)>(conn)?,
        );
        found.extend(
            vehicles::table
                .filter(vehicles::id.eq_any(&missing))
                .select((vehicles::id, vehicles::plate))
                .load::<(String, String)>(conn)?,
        );
        found.extend(
            users::table
                .filter(users::id.eq_any(&missing))
                .select((users::id, users::display_name))
                .load::<(String, String)>(conn)?,
        );
        // An id without a name is remembered too (as itself), so it is not looked up again.
        for id in missing {
            self.known.insert(id.clone(), id);
        }
        self.known.extend(found);
        Ok(())
    }

    /// The name of `id`, or the id itself when it has none.
    pub fn of(&self, id: &str) -> String {
        self.known.get(id).cloned().unwrap_or_else(|| id.to_owned())
    }
}
