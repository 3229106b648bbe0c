//! The web console: server-rendered pages for the people at desks — the park office, the
//! disposal company, the enterprises and the inspectors — served by the binary at `/` beside the
//! API under `/api/v1`.
//!
//! Pages are HTML written in Rust ([maud](https://maud.lambda.xyz), checked and escaped at
//! compile time), with one style sheet and a few lines of script compiled into the binary:
//! nothing to install or build, every page works without script. A page does what an API
//! handler does — checks its input, then calls the same use case of the same feature with the
//! same principal inside one `Db::run`, `Db::snapshot` or `Db::write` — so it shows exactly
//! what the API would show that person, and refuses what the API would refuse, with the API's
//! messages beside the fields they name.
//!
//! The sign-in, the session cookie and the form tokens are in [`session`]; Chinese first,
//! English by a switch kept in a cookie; amounts in yuan, weights in kg or t and times in the
//! park's time zone ([`format`]).

pub mod assets;
mod billing;
mod dashboard;
mod declarations;
mod figures;
pub mod format;
mod inspection;
mod ledgers;
mod lots;
mod manifests;
mod once;
mod page;
mod payments;
mod pickups;
pub mod session;
mod signin;

use actix_web::{HttpResponse, web};

use crate::domain::identity::Role;
use crate::error::ApiError;
use crate::http::Page;
use crate::http::pagination::{MAX_LIMIT, PageRequest};

/// The most pages of names a form's choices or a table's names read (10 000 entries).
const MOST_PAGES: usize = 50;

/// Every item of a list read page by page through `read` (a use case taking a page request),
/// for a form's choices or a table's names; at most [`MOST_PAGES`] pages.
pub(crate) fn every<T>(
    mut read: impl FnMut(&PageRequest) -> Result<Page<T>, ApiError>,
) -> Result<Vec<T>, ApiError> {
    let mut out = Vec::new();
    let mut request = PageRequest {
        limit: MAX_LIMIT,
        after: None,
    };
    for _ in 0..MOST_PAGES {
        let page = read(&request)?;
        out.extend(page.items);
        match page.next_cursor {
            Some(cursor) => request.after = Some(cursor),
            None => break,
        }
    }
    Ok(out)
}

/// The console's routes, outside `/api/v1` and outside the OpenAPI document.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(assets::css)
        .service(assets::js)
        .route("/", web::get().to(home))
        .service(signin::signin_form)
        .service(signin::signin_submit)
        .service(signin::sign_out)
        .service(signin::language)
        .service(dashboard::show)
        .service(lots::list)
        .service(declarations::declaration_form)
        .service(declarations::declare)
        .service(lots::new_form)
        .service(lots::weigh_in)
        .service(lots::lot_labels)
        .service(pickups::pickup_list)
        .service(pickups::pickup_page)
        .service(pickups::pickup_step)
        .service(manifests::manifest_search)
        .service(manifests::manifest_print)
        .service(manifests::manifest_page)
        .service(manifests::manifest_step)
        .service(billing::statement_list)
        .service(billing::statement_issue)
        .service(billing::statement_page)
        .service(billing::statement_csv)
        .service(billing::statement_xlsx)
        .service(payments::balance_of)
        .service(payments::balance_page)
        .service(payments::record_payment)
        .service(payments::remittance_page)
        .service(payments::remittance_csv)
        .service(payments::remittance_xlsx)
        .service(inspection::anomaly_list)
        .service(inspection::lot_trace)
        .service(inspection::park_list)
        .service(ledgers::ledger_page)
        .service(ledgers::ledger_csv)
        .service(ledgers::ledger_xlsx)
        .service(figures::volume_charts);
}

/// The start page of each role.
async fn home(viewer: session::Viewer) -> HttpResponse {
    page::see_other(match viewer.principal.role {
        Role::ParkOffice => "/dashboard",
        Role::DisposerDispatcher | Role::Driver => "/pickups",
        Role::Inspector => "/parks",
        _ => "/lots",
    })
}

/// The park office's or the disposal company's counterparts, by name: the other party (the
/// disposal company, or the park) of each contract the viewer may list.
pub(crate) fn counterparts(
    conn: &mut crate::db::DbConn,
    principal: &crate::auth::Principal,
) -> Result<Vec<(String, String)>, ApiError> {
    let scope = crate::auth::policy::contract_scope(principal)?;
    let contracts = crate::console::every(|page| {
        crate::registry::contracts::service::list_contracts(conn, &scope, &Default::default(), page)
    })?;
    let mut ids: Vec<String> = contracts
        .into_iter()
        .map(|c| match principal.role {
            Role::DisposerDispatcher => c.park_id,
            _ => c.disposer_id,
        })
        .collect();
    ids.sort();
    ids.dedup();
    let mut names = crate::registry::names::Names::default();
    names.learn(conn, ids.iter().map(String::as_str))?;
    let mut out: Vec<(String, String)> = ids
        .into_iter()
        .map(|id| {
            let name = names.of(&id);
            (id, name)
        })
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A list of `n` numbers read as the use cases read theirs: `limit` after the cursor.
    fn numbers(n: usize, request: &PageRequest) -> Result<Page<usize>, ApiError> {
        let from = request
            .after
            .as_deref()
            .map_or(0, |c| c.parse().unwrap_or(0));
        let limit = usize::try_from(request.limit).unwrap_or(0);
        let items: Vec<usize> = (from..n).take(limit).collect();
        let next_cursor = (from + limit < n).then(|| (from + limit).to_string());
        Ok(Page { items, next_cursor })
    }

    #[test]
    fn every_reads_past_the_first_page_and_stops_at_its_bound() {
        let all = every(|page| numbers(450, page)).unwrap_or_default();
        assert_eq!(all, (0..450).collect::<Vec<_>>());
        let mut reads = 0;
        let bounded = every(|page| {
            reads += 1;
            numbers(usize::MAX, page)
        })
        .unwrap_or_default();
        assert_eq!((reads, bounded.len()), (MOST_PAGES, MOST_PAGES * 200));
    }
}
