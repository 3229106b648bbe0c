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
