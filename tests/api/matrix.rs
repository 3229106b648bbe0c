//! Role × tenant access matrix over every registry endpoint.
//!
//! The platform administrator registers one two-tenant world through the API ([`World::build`]):
//!
//! - park A (Shenzhen, region 440307) and park B (Guangzhou, 440106), each with a park office
//!   user, an enterprise with an enterprise user (A1 in park A, B1 in park B), a warehouse with a
//!   hazardous zone for HW08;
//! - disposal companies D1 and D2, each with an HW08 licence and a dispatcher (D2's licence ends
//!   in 45 days), and a carrier with a driver; the carrier's vehicle and one of D1's own fleet;
//! - the environment bureaus for 4403 (Shenzhen: sees park A) and 4401 (Guangzhou: sees park B),
//!   each with an inspector;
//! - contract kA (park A, D1, member A1) and kB (park B, D2, member B1), both ending in 60 days,
//!   with a price and a threshold for HW08.
//!
//! Then every endpoint is called by each of ten principals and the answer compared with the
//! tables below. Every table has one column per principal, always in this order:
//!
//! | column | principal                                      |
//! |--------|------------------------------------------------|
//! | adm    | the platform administrator                     |
//! | offA   | park office of park A (offB: of park B)        |
//! | entA   | enterprise user of A1 (entB: of B1)            |
//! | dsp1   | dispatcher of disposer D1 (dsp2: of D2)        |
//! | drv    | driver of the carrier                          |
//! | i03    | inspector for 4403 (i01: for 4401)             |
//!
//! A status reads: 200/201 allowed; 403 a kind of action the role never has, or an object the
//! principal may read but not change; 404 an object the principal may not even know of (another
//! tenant's), answered exactly as if it did not exist. In paths and bodies `$name` stands for an
//! object of the world (`$pA`, `$kA`, …) or a fresh value (`$n`, `$uscc`, …): see
//! [`Fresh::expand`].
//!
//! Besides the tables: a refused write must change nothing and an accepted one something (read
//! back as the administrator); every request without a token is 401; a 404 for another tenant's
//! object must be the answer for an id that names nothing, too; and the tables must name every
//! registry endpoint of the OpenAPI document.

use std::collections::BTreeMap;

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, access_token};

pub(crate) const API: &str = "/api/v1";
const PASSWORD: &str = "a good long password";

/// The principals, in the order of the columns of every table.
pub(crate) const PRINCIPALS: [&str; 10] = [
    "admin",
    "office A",
    "office B",
    "enterprise user A1",
    "enterprise user B1",
    "dispatcher D1",
    "dispatcher D2",
    "driver",
    "inspector 4403",
    "inspector 4401",
];

/// One expected status per principal, in the order of [`PRINCIPALS`].
pub(crate) type Row = [u16; 10];

/// Reading one object (or its history, terms, …): 200, or 404 to those who may not see it (403
/// to roles that never read such objects).
#[rustfmt::skip]
pub(crate) const READS: &[(&str, Row)] = &[
    //                                                    adm  offA offB entA entB dsp1 dsp2 drv  i03  i01
    // A park is read by its office, its enterprises and the inspectors of its region.
    ("/parks/$pA",                                       [200, 200, 404, 200, 404, 404, 404, 404, 200, 404]),
    ("/parks/$pA/history",                               [200, 200, 404, 200, 404, 404, 404, 404, 200, 404]),
    ("/parks/$pB",                                       [200, 404, 200, 404, 200, 404, 404, 404, 404, 200]),
    ("/parks/$pB/history",                               [200, 404, 200, 404, 200, 404, 404, 404, 404, 200]),
    // An enterprise by its park's office, itself, and the inspectors.
    ("/enterprises/$eA1",                                [200, 200, 404, 200, 404, 404, 404, 404, 200, 404]),
    ("/enterprises/$eA1/history",                        [200, 200, 404, 200, 404, 404, 404, 404, 200, 404]),
    ("/enterprises/$eB1",                                [200, 404, 200, 404, 200, 404, 404, 404, 404, 200]),
    ("/enterprises/$eB1/history",                        [200, 404, 200, 404, 200, 404, 404, 404, 404, 200]),
    // The directory (disposers, carriers, fleets) by offices, dispatchers and inspectors, and
    // each company by itself; never by enterprises.
    ("/disposers/$D1",                                   [200, 200, 200, 404, 404, 200, 200, 404, 200, 200]),
    ("/disposers/$D1/history",                           [200, 200, 200, 404, 404, 200, 200, 404, 200, 200]),
    ("/disposers/$D2",                                   [200, 200, 200, 404, 404, 200, 200, 404, 200, 200]),
    ("/carriers/$C",                                     [200, 200, 200, 404, 404, 200, 200, 200, 200, 200]),
    ("/carriers/$C/history",                             [200, 200, 200, 404, 404, 200, 200, 200, 200, 200]),
    ("/vehicles/$vC",                                    [200, 200, 200, 404, 404, 200, 200, 200, 200, 200]),
    ("/vehicles/$vC/history",                            [200, 200, 200, 404, 404, 200, 200, 200, 200, 200]),
    ("/vehicles/$vD1",                                   [200, 200, 200, 404, 404, 200, 200, 404, 200, 200]),
    ("/vehicles/$vD1/history",                           [200, 200, 200, 404, 404, 200, 200, 404, 200, 200]),
    ("/fleets/$C/drivers",                               [200, 200, 200, 404, 404, 200, 200, 200, 200, 200]),
    ("/fleets/$D1/drivers",                              [200, 200, 200, 404, 404, 200, 200, 404, 200, 200]),
    // A bureau only by its own users.
    ("/bureaus/$bu03",                                   [200, 404, 404, 404, 404, 404, 404, 404, 200, 404]),
    ("/bureaus/$bu01",                                   [200, 404, 404, 404, 404, 404, 404, 404, 404, 200]),
    // Warehouses and zones by their park's office and the inspectors; not by enterprises.
    ("/warehouses/$wA",                                  [200, 200, 404, 404, 404, 404, 404, 404, 200, 404]),
    ("/warehouses/$wA/history",                          [200, 200, 404, 404, 404, 404, 404, 404, 200, 404]),
    ("/zones/$zA",                                       [200, 200, 404, 404, 404, 404, 404, 404, 200, 404]),
    ("/zones/$zA/history",                               [200, 200, 404, 404, 404, 404, 404, 404, 200, 404]),
    ("/warehouses/$wB",                                  [200, 404, 200, 404, 404, 404, 404, 404, 404, 200]),
    ("/zones/$zB",                                       [200, 404, 200, 404, 404, 404, 404, 404, 404, 200]),
    // A contract by its park's office, its parties and the inspectors.
    ("/contracts/$kA",                                   [200, 200, 404, 200, 404, 200, 404, 404, 200, 404]),
    ("/contracts/$kA/history",                           [200, 200, 404, 200, 404, 200, 404, 404, 200, 404]),
    ("/contracts/$kA/terms?code=$code&on=2026-06-01",    [200, 200, 404, 200, 404, 200, 404, 404, 200, 404]),
    ("/contracts/$kB",                                   [200, 404, 200, 404, 200, 404, 200, 404, 404, 200]),
    ("/contracts/$kB/history",                           [200, 404, 200, 404, 200, 404, 200, 404, 404, 200]),
    ("/contracts/$kB/terms?code=$code&on=2026-06-01",    [200, 404, 200, 404, 200, 404, 200, 404, 404, 200]),
    // Ledgers (and their exports): a park's and a warehouse's by the park's office and the
    // inspectors of its region; an enterprise's also by the enterprise itself.
    ("/parks/$pA/ledger?kind=hazardous&month=2026-11",              [200, 200, 404, 404, 404, 404, 404, 404, 200, 404]),
    ("/parks/$pA/ledger/export.csv?kind=hazardous&month=2026-11",   [200, 200, 404, 404, 404, 404, 404, 404, 200, 404]),
    ("/parks/$pA/ledger/export.xlsx?kind=general&month=2026-11",    [200, 200, 404, 404, 404, 404, 404, 404, 200, 404]),
    ("/parks/$pB/ledger?kind=general&month=2026-11",                [200, 404, 200, 404, 404, 404, 404, 404, 404, 200]),
    ("/warehouses/$wA/ledger?kind=hazardous&month=2026-11",         [200, 200, 404, 404, 404, 404, 404, 404, 200, 404]),
    ("/warehouses/$wA/ledger/export.csv?kind=hazardous&month=2026-11", [200, 200, 404, 404, 404, 404, 404, 404, 200, 404]),
    ("/warehouses/$wA/ledger/export.xlsx?kind=hazardous&month=2026-11", [200, 200, 404, 404, 404, 404, 404, 404, 200, 404]),
    ("/warehouses/$wB/ledger?kind=hazardous&month=2026-11",         [200, 404, 200, 404, 404, 404, 404, 404, 404, 200]),
    ("/enterprises/$eA1/ledger?kind=hazardous&month=2026-11",       [200, 200, 404, 200, 404, 404, 404, 404, 200, 404]),
    ("/enterprises/$eA1/ledger/export.csv?kind=hazardous&month=2026-11", [200, 200, 404, 200, 404, 404, 404, 404, 200, 404]),
    ("/enterprises/$eA1/ledger/export.xlsx?kind=hazardous&month=2026-11", [200, 200, 404, 200, 404, 404, 404, 404, 200, 404]),
    ("/enterprises/$eB1/ledger?kind=hazardous&from=2026-11-01&to=2026-11-30", [200, 404, 200, 404, 200, 404, 404, 404, 404, 200]),
    // A park's figures by its office and the inspectors of its region; never by enterprises,
    // dispatchers or drivers (403 whatever the park).
    ("/parks/$pA/figures/stock",                         [200, 200, 404, 403, 403, 403, 403, 403, 200, 404]),
    ("/parks/$pA/figures/latency?from=2026-01&to=2026-11", [200, 200, 404, 403, 403, 403, 403, 403, 200, 404]),
    ("/parks/$pA/figures/volumes?by=enterprise",         [200, 200, 404, 403, 403, 403, 403, 403, 200, 404]),
    ("/parks/$pB/figures/stock",                         [200, 404, 200, 403, 403, 403, 403, 403, 404, 200]),
    // The catalog by everybody; its imports by administrators.
    ("/catalog/categories",                              [200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("/catalog/codes/$code",                             [200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("/catalog/imports/$imp",                            [200, 403, 403, 403, 403, 403, 403, 403, 403, 403]),
];

/// Lists: the objects each principal gets (world names; `-` an empty list), or the status of a
/// refusal (403: the role lists none of these; 404: the parent object is not one it may see).
#[rustfmt::skip]
pub(crate) const LISTS: &[(&str, [&str; 10])] = &[
    //                                     adm          offA     offB     entA   entB     dsp1     dsp2     drv    i03      i01
    ("/parks",                            ["pA pB",     "pA",    "pB",    "pA",  "pB",    "403",   "403",   "403", "pA",    "pB"]),
    ("/enterprises",                      ["eA1 eB1",   "eA1",   "eB1",   "eA1", "eB1",   "403",   "403",   "403", "eA1",   "eB1"]),
    ("/enterprises?park_id=$pB",          ["eB1",       "-",     "eB1",   "-",   "eB1",   "403",   "403",   "403", "-",     "eB1"]),
    // Ledger lines (no movements in this world): as the ledgers.
    ("/parks/$pA/ledger/lines?kind=hazardous&month=2026-11",        ["-", "-", "404", "404", "404", "404", "404", "404", "-", "404"]),
    ("/warehouses/$wA/ledger/lines?kind=hazardous&month=2026-11",   ["-", "-", "404", "404", "404", "404", "404", "404", "-", "404"]),
    ("/enterprises/$eA1/ledger/lines?kind=general&month=2026-11",   ["-", "-", "404", "-", "404", "404", "404", "404", "-", "404"]),
    ("/disposers",                        ["D1 D2",     "D1 D2", "D1 D2", "-",   "-",     "D1 D2", "D1 D2", "-",   "D1 D2", "D1 D2"]),
    ("/disposers/$D1/licences",           ["lD1",       "lD1",   "lD1",   "404", "404",   "lD1",   "lD1",   "404", "lD1",   "lD1"]),
    ("/disposers/$D2/licences",           ["lD2",       "lD2",   "lD2",   "404", "404",   "lD2",   "lD2",   "404", "lD2",   "lD2"]),
    ("/carriers",                         ["C",         "C",     "C",     "-",   "-",     "C",     "C",     "C",   "C",     "C"]),
    ("/vehicles",                         ["vC vD1",    "vC vD1","vC vD1","-",   "-",     "vC vD1","vC vD1","vC",  "vC vD1","vC vD1"]),
    ("/vehicles?operator_id=$D1",         ["vD1",       "vD1",   "vD1",   "403", "403",   "vD1",   "vD1",   "403", "vD1",   "vD1"]),
    ("/bureaus",                          ["bu03 bu01", "-",     "-",     "-",   "-",     "-",     "-",     "-",   "bu03",  "bu01"]),
    ("/warehouses",                       ["wA wB",     "wA",    "wB",    "403", "403",   "403",   "403",   "403", "wA",    "wB"]),
    ("/warehouses?park_id=$pB",           ["wB",        "-",     "wB",    "403", "403",   "403",   "403",   "403", "-",     "wB"]),
    ("/warehouses/$wA/zones",             ["zA",        "zA",    "404",   "404", "404",   "404",   "404",   "404", "zA",    "404"]),
    ("/warehouses/$wB/zones",             ["zB",        "404",   "zB",    "404", "404",   "404",   "404",   "404", "404",   "zB"]),
    ("/contracts",                        ["kA kB",     "kA",    "kB",    "kA",  "kB",    "kA",    "kB",    "403", "kA",    "kB"]),
    ("/contracts?disposer_id=$D1",        ["kA",        "kA",    "-",     "kA",  "-",     "kA",    "-",     "403", "kA",    "-"]),
    // Contracts and licences ending soon: kA, kB in 60 days, D2's licence in 45. A licence is
    // shown to those who may read the directory and to its own company, not to enterprises:
    // entB may not read D2's licences (404 above), so its alerts must not list lD2 either.
    ("/alerts/expirations?within_days=90",["kA kB lD2", "kA",    "kB lD2","kA",  "kB",    "kA",    "kB lD2","403", "kA",    "kB lD2"]),
    ("/catalog/codes?category=HW08",      ["code",      "code",  "code",  "code","code",  "code",  "code",  "code","code",  "code"]),
    ("/catalog/imports",                  ["imp",       "403",   "403",   "403", "403",   "403",   "403",   "403", "403",   "403"]),
];

/// A write, the read (as the administrator) that shows whether it changed anything, and the
/// status each principal gets.
pub(crate) struct Write {
    pub(crate) request: &'static str,
    pub(crate) body: &'static str,
    check: &'static str,
    expect: Row,
}

const fn w(request: &'static str, body: &'static str, check: &'static str, expect: Row) -> Write {
    Write {
        request,
        body,
        check,
        expect,
    }
}

// Request bodies: valid, with fresh values so that every accepted write is a new one.
const NEW_PARK: &str =
    r#"{"name": "Park $n", "region_code": "440307", "address": "Longgang District"}"#;
const PARK_CHANGE: &str = r#"{"address": "No. $n Baolong Road"}"#;
const NEW_ENTERPRISE_IN_A: &str = r#"{"park_id": "$pA", "name": "Enterprise $n", "uscc": "$uscc", "contact_name": "Chen Jie", "contact_phone": "13800138000", "joined_on": "2026-01-01"}"#;
const ENTERPRISE_CHANGE: &str = r#"{"contact_name": "Contact $n"}"#;
const NEW_DISPOSER: &str = r#"{"name": "Disposer $n", "uscc": "$uscc", "region_code": "440310", "address": "Pingshan District"}"#;
const DISPOSER_CHANGE: &str = r#"{"address": "No. $n Huanbao Road"}"#;
const NEW_LICENCE: &str = r#"{"number": "粤危废经第$n号", "issuing_authority": "广东省生态环境厅", "valid_from": "2026-01-01", "valid_to": "2030-12-31", "annual_capacity_grams": 30000000000, "scope": ["HW08"]}"#;
const LICENCE_SHORTENED: &str = r#"{"valid_to": "$earlier"}"#;
const NEW_CARRIER: &str = r#"{"name": "Carrier $n", "uscc": "$uscc", "region_code": "440307", "transport_permit_number": "粤交运$n"}"#;
const CARRIER_CHANGE: &str = r#"{"transport_permit_number": "粤交运管许可深字$n号"}"#;
const NEW_VEHICLE_OF_CARRIER: &str =
    r#"{"operator_id": "$C", "plate": "$plate", "dangerous_goods_permit_number": "4403$n"}"#;
const NEW_VEHICLE_OF_D1: &str =
    r#"{"operator_id": "$D1", "plate": "$plate", "dangerous_goods_permit_number": "4403$n"}"#;
const VEHICLE_CHANGE: &str = r#"{"dangerous_goods_permit_number": "4499$n"}"#;
const NEW_BUREAU: &str = r#"{"name": "Bureau $n", "jurisdiction": "4403"}"#;
// Never the jurisdiction: it decides what the inspectors see for the rest of the test.
const BUREAU_CHANGE: &str = r#"{"name": "Bureau $n"}"#;
const NEW_WAREHOUSE_IN_A: &str =
    r#"{"park_id": "$pA", "name": "Warehouse $n", "address": "Building $n"}"#;
const WAREHOUSE_CHANGE: &str = r#"{"address": "Building $n"}"#;
const NEW_ZONE: &str = r#"{"name": "Zone $n", "kind": "hazardous", "categories": ["HW08"], "capacity_grams": 5000000000}"#;
const ZONE_CHANGE: &str = r#"{"name": "Zone $n"}"#;
/// The catalog import (CSV, not JSON): one hazardous code of HW08.
const CATALOG_CSV: &str = "code,name_zh,characteristics\n900-249-08,其他生产、销售、使用过程中产生的废矿物油及沾染矿物油的废弃包装物,T/I\n";
const NEW_CONTRACT_IN_A: &str = r#"{"park_id": "$pA", "disposer_id": "$D1", "number": "LG-$n", "valid_from": "2026-01-01", "valid_to": "$contract_end", "max_storage_days": 180, "members": [{"enterprise_id": "$eA1"}], "prices": [{"target": "HW08", "fen_per_tonne": 350000}]}"#;
const CONTRACT_CHANGE: &str = r#"{"max_storage_days": $days}"#;
const NEW_MEMBER: &str = r#"{"enterprise_id": "$spare"}"#;
const LEAVE: &str = r#"{"left_on": "2026-06-01"}"#;
const NEW_PRICE: &str = r#"{"target": "HW08", "fen_per_tonne": 360000, "effective_from": "$day"}"#;
const NEW_THRESHOLD: &str =
    r#"{"target": "$code", "threshold_grams": 1000000, "effective_from": "$day"}"#;

/// Every write endpoint. A refused write must leave the checked read unchanged; an accepted one
/// must change it.
#[rustfmt::skip]
pub(crate) const WRITES: &[Write] = &[
    //  request                                      body                    checked with                    adm  offA offB entA entB dsp1 dsp2 drv  i03  i01
    // Parks and enterprises: their office edits them; an enterprise and an inspector read only.
    w("POST /parks",                                NEW_PARK,               "/parks",                        [201, 403, 403, 403, 403, 403, 403, 403, 403, 403]),
    w("PATCH /parks/$pA",                           PARK_CHANGE,            "/parks/$pA",                    [200, 200, 404, 403, 404, 404, 404, 404, 403, 404]),
    w("PATCH /parks/$pB",                           PARK_CHANGE,            "/parks/$pB",                    [200, 404, 200, 404, 403, 404, 404, 404, 404, 403]),
    w("POST /enterprises",                          NEW_ENTERPRISE_IN_A,    "/enterprises?limit=200",        [201, 201, 404, 403, 404, 404, 404, 404, 403, 404]),
    w("PATCH /enterprises/$eA1",                    ENTERPRISE_CHANGE,      "/enterprises/$eA1",             [200, 200, 404, 403, 404, 404, 404, 404, 403, 404]),
    w("PATCH /enterprises/$eB1",                    ENTERPRISE_CHANGE,      "/enterprises/$eB1",             [200, 404, 200, 404, 403, 404, 404, 404, 404, 403]),
    // The directory: only administrators register and edit it...
    w("POST /disposers",                            NEW_DISPOSER,           "/disposers?limit=200",          [201, 403, 403, 403, 403, 403, 403, 403, 403, 403]),
    w("PATCH /disposers/$D1",                       DISPOSER_CHANGE,        "/disposers/$D1",                [200, 403, 403, 403, 403, 403, 403, 403, 403, 403]),
    w("POST /disposers/$D1/licences",               NEW_LICENCE,            "/disposers/$D1/licences",       [201, 403, 403, 403, 403, 403, 403, 403, 403, 403]),
    w("PATCH /licences/$lD1",                       LICENCE_SHORTENED,      "/disposers/$D1/licences",       [200, 403, 403, 403, 403, 403, 403, 403, 403, 403]),
    w("POST /carriers",                             NEW_CARRIER,            "/carriers?limit=200",           [201, 403, 403, 403, 403, 403, 403, 403, 403, 403]),
    w("PATCH /carriers/$C",                         CARRIER_CHANGE,         "/carriers/$C",                  [200, 403, 403, 403, 403, 403, 403, 403, 403, 403]),
    w("POST /bureaus",                              NEW_BUREAU,             "/bureaus?limit=200",            [201, 403, 403, 403, 403, 403, 403, 403, 403, 403]),
    w("PATCH /bureaus/$bu03",                       BUREAU_CHANGE,          "/bureaus/$bu03",                [200, 403, 403, 403, 403, 403, 403, 403, 403, 403]),
    // ...except a disposer's own fleet, which its dispatcher manages.
    w("POST /vehicles",                             NEW_VEHICLE_OF_CARRIER, "/vehicles?operator_id=$C",      [201, 403, 403, 404, 404, 403, 403, 403, 403, 403]),
    w("PATCH /vehicles/$vC",                        VEHICLE_CHANGE,         "/vehicles/$vC",                 [200, 403, 403, 404, 404, 403, 403, 403, 403, 403]),
    w("POST /vehicles",                             NEW_VEHICLE_OF_D1,      "/vehicles?operator_id=$D1",     [201, 403, 403, 404, 404, 201, 403, 404, 403, 403]),
    w("PATCH /vehicles/$vD1",                       VEHICLE_CHANGE,         "/vehicles/$vD1",                [200, 403, 403, 404, 404, 200, 403, 404, 403, 403]),
    // Warehouses and zones: their office; enterprises do not even see them.
    w("POST /warehouses",                           NEW_WAREHOUSE_IN_A,     "/warehouses?limit=200",         [201, 201, 404, 403, 404, 404, 404, 404, 403, 404]),
    w("PATCH /warehouses/$wA",                      WAREHOUSE_CHANGE,       "/warehouses/$wA",               [200, 200, 404, 404, 404, 404, 404, 404, 403, 404]),
    w("PATCH /warehouses/$wB",                      WAREHOUSE_CHANGE,       "/warehouses/$wB",               [200, 404, 200, 404, 404, 404, 404, 404, 404, 403]),
    w("POST /warehouses/$wA/zones",                 NEW_ZONE,               "/warehouses/$wA/zones",         [201, 201, 404, 404, 404, 404, 404, 404, 403, 404]),
    w("PATCH /zones/$zA",                           ZONE_CHANGE,            "/zones/$zA",                    [200, 200, 404, 404, 404, 404, 404, 404, 403, 404]),
    w("PATCH /zones/$zB",                           ZONE_CHANGE,            "/zones/$zB",                    [200, 404, 200, 404, 404, 404, 404, 404, 404, 403]),
    // The catalog: administrators import it.
    w("POST /catalog/imports",                      CATALOG_CSV,            "/catalog/imports?limit=200",    [201, 403, 403, 403, 403, 403, 403, 403, 403, 403]),
    // Contracts: the park's office administers them; the parties and the inspectors read only.
    w("POST /contracts",                            NEW_CONTRACT_IN_A,      "/contracts?limit=200",          [201, 201, 404, 403, 404, 404, 404, 404, 403, 404]),
    w("PATCH /contracts/$kA",                       CONTRACT_CHANGE,        "/contracts/$kA",                [200, 200, 404, 403, 404, 403, 404, 404, 403, 404]),
    w("PATCH /contracts/$kB",                       CONTRACT_CHANGE,        "/contracts/$kB",                [200, 404, 200, 404, 403, 404, 403, 404, 404, 403]),
    w("POST /contracts/$kA/members",                NEW_MEMBER,             "/contracts/$kA",                [200, 200, 404, 403, 404, 403, 404, 404, 403, 404]),
    w("POST /contracts/$kA/members/$leaver/leave",  LEAVE,                  "/contracts/$kA",                [200, 200, 404, 403, 404, 403, 404, 404, 403, 404]),
    w("POST /contracts/$kA/prices",                 NEW_PRICE,              "/contracts/$kA",                [200, 200, 404, 403, 404, 403, 404, 404, 403, 404]),
    w("POST /contracts/$kA/thresholds",             NEW_THRESHOLD,          "/contracts/$kA",                [200, 200, 404, 403, 404, 403, 404, 404, 403, 404]),
];

/// The world: the server, one token per principal, and the named objects.
pub(crate) struct World {
    pub(crate) app: TestApp,
    pub(crate) tokens: Vec<String>,
    pub(crate) names: BTreeMap<&'static str, String>,
}

/// An answer, read whole.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) content_type: String,
    pub(crate) text: String,
}

impl Answer {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    pub(crate) fn brief(&self) -> String {
        self.text.chars().take(300).collect()
    }
}

/// Values that change at every use, and the enterprises that accepted writes use up.
#[derive(Default)]
pub(crate) struct Fresh {
    n: u32,
    days: i64,
    /// Enterprises of park A that are not members of kA (for `$spare`).
    spares: Vec<String>,
    /// Enterprises of park A that are open members of kA (for `$leaver`).
    leavers: Vec<String>,
    /// Other objects an accepted write uses up (a lot voided, a request cancelled), by name.
    pub(crate) pools: BTreeMap<&'static str, Vec<String>>,
}

impl Fresh {
    /// Replaces every `$name` of a template: the world's objects and values (`$pA`, `$kA`,
    /// `$code`, `$contract_end`, …), or fresh values: `$n` a new number, `$uscc` a new credit
    /// code, `$plate` a new plate, `$day` a new day of 2026 (within the contracts), `$earlier` a
    /// new, earlier end of a licence, `$days` a storage limit, `$spare` an enterprise of park A
    /// outside kA, `$leaver` an open member of kA, `$captured` a capture time five minutes ago,
    /// `$later` a day from tomorrow on, and a pool's name (see [`Fresh::pools`]) its first
    /// object. `$spare`, `$leaver` and pools are used up when the write is expected to succeed
    /// (`consume`).
    pub(crate) fn expand(&mut self, world: &World, template: &str, consume: bool) -> String {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            let name = &after[..len];
            out.push_str(&self.value(world, name, consume));
            rest = &after[len..];
        }
        out.push_str(rest);
        out
    }

    fn value(&mut self, world: &World, name: &str, consume: bool) -> String {
        self.n += 1;
        match name {
            "n" => self.n.to_string(),
            "uscc" => crate::helpers::next_uscc(),
            "plate" => format!("粤D{:05}", self.n),
            "days" => (30 + self.n % 300).to_string(),
            "day" => {
                self.days += 1;
                let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date");
                (start + chrono::Duration::days(self.days)).to_string()
            }
            "earlier" => {
                self.days += 1;
                let end = chrono::NaiveDate::from_ymd_opt(2030, 12, 31).expect("a date");
                (end - chrono::Duration::days(self.days)).to_string()
            }
            "captured" => (world.app.now() - chrono::Duration::minutes(5)).to_rfc3339(),
            "later" => {
                self.days += 1;
                (world.app.today() + chrono::Duration::days(self.days % 20 + 1)).to_string()
            }
            "spare" => Self::take(&mut self.spares, consume, "$spare"),
            "leaver" => Self::take(&mut self.leavers, consume, "$leaver"),
            _ => match self.pools.get_mut(name) {
                Some(pool) => Self::take(pool, consume, name),
                None => world.id(name).to_owned(),
            },
        }
    }

    fn take(pool: &mut Vec<String>, consume: bool, what: &str) -> String {
        assert!(!pool.is_empty(), "no {what} left: prepare more");
        if consume {
            pool.remove(0)
        } else {
            pool[0].clone()
        }
    }
}

impl World {
    /// Registers the world through the API as the administrator, and signs every principal in.
    pub(crate) async fn build(backend: Backend) -> Self {
        Self::build_with(backend, |_| {}).await
    }

    /// [`World::build`] on a server with these settings besides.
    pub(crate) async fn build_with(
        backend: Backend,
        customize: impl FnOnce(&mut wastetrack::config::Settings),
    ) -> Self {
        let app = TestApp::spawn_with(backend, customize).await;
        let admin = app.admin_token().await;
        let today = app.today();
        let contract_end = (today + chrono::Duration::days(60)).to_string();
        let d2_licence_end = (today + chrono::Duration::days(45)).to_string();

        // The catalog has the HW categories from the start; one hazardous code is imported.
        let imported = app
            .request(
                Method::POST,
                &format!("{API}/catalog/imports"),
                Some(&admin),
            )
            .header(CONTENT_TYPE, "text/csv")
            .body(CATALOG_CSV)
            .send()
            .await
            .expect("request sent");
        assert_eq!(imported.status(), StatusCode::CREATED, "catalog import");
        let import: Value = imported.json().await.expect("import report");
        let imp = import["id"].as_str().expect("import id").to_owned();

        // Parks and their enterprises (the helpers post through the API as the administrator).
        let park_a = app.create_park(&admin, "Longgang Park", "440307").await;
        let park_b = app.create_park(&admin, "Tianhe Park", "440106").await;
        let ent_a1 = app.create_enterprise(&admin, &park_a, "Huaxin").await;
        let ent_b1 = app.create_enterprise(&admin, &park_b, "Yuexiu").await;

        // Everything else: POST the body, return the new id.
        let create = async |path: String, body: Value| {
            app.created_id(&format!("{API}{path}"), &admin, &body).await
        };

        let d1 = app.create_disposer(&admin, "Dongjiang Disposal").await;
        let d2 = app.create_disposer(&admin, "Baiyun Disposal").await;
        let licence = |number: &str, valid_to: &str| {
            json!({"number": number, "issuing_authority": "广东省生态环境厅", "valid_from": "2026-01-01",
                "valid_to": valid_to, "annual_capacity_grams": 30_000_000_000i64, "scope": ["HW08"]})
        };
        let lic_d1 = create(
            format!("/disposers/{d1}/licences"),
            licence("粤危废经第440300001号", "2030-12-31"),
        )
        .await;
        let lic_d2 = create(
            format!("/disposers/{d2}/licences"),
            licence("粤危废经第440100002号", &d2_licence_end),
        )
        .await;

        let carrier = app.create_org(&admin, "carrier", "Lvyun Transport").await;
        let vehicle = |operator: &str, plate: &str| json!({"operator_id": operator, "plate": plate, "dangerous_goods_permit_number": "440300012345"});
        let veh_c = create("/vehicles".into(), vehicle(&carrier, "粤B12345")).await;
        let veh_d1 = create("/vehicles".into(), vehicle(&d1, "粤B54321")).await;

        let bureau_sz = app.create_bureau(&admin, "Shenzhen Bureau", "4403").await;
        let bureau_gz = app.create_bureau(&admin, "Guangzhou Bureau", "4401").await;

        let warehouse = |park: &str| json!({"park_id": park, "name": "Warehouse No. 1", "address": "Building C2"});
        let wh_a = create("/warehouses".into(), warehouse(&park_a)).await;
        let wh_b = create("/warehouses".into(), warehouse(&park_b)).await;
        // Each member enterprise's own storage point: neither park holds a collection permit.
        let zone = |enterprise: &str| {
            json!({"name": "HW08 waste oil", "kind": "hazardous", "categories": ["HW08"],
            "capacity_grams": 5_000_000_000i64, "enterprise_id": enterprise})
        };
        let zone_a = create(format!("/warehouses/{wh_a}/zones"), zone(&ent_a1)).await;
        let zone_b = create(format!("/warehouses/{wh_b}/zones"), zone(&ent_b1)).await;

        let contract = |park: &str, disposer: &str, member: &str, number: &str| {
            json!({"park_id": park, "disposer_id": disposer, "number": number, "valid_from": "2026-01-01",
                "valid_to": contract_end, "max_storage_days": 180, "members": [{"enterprise_id": member}],
                "prices": [{"target": "HW08", "fen_per_tonne": 350_000}],
                "thresholds": [{"target": "HW08", "threshold_grams": 2_000_000}]})
        };
        let con_a = create(
            "/contracts".into(),
            contract(&park_a, &d1, &ent_a1, "LG-2026-001"),
        )
        .await;
        let con_b = create(
            "/contracts".into(),
            contract(&park_b, &d2, &ent_b1, "TH-2026-001"),
        )
        .await;

        // One user per principal but the administrator, in the order of the columns.
        let users = [
            (&park_a, "office.a", "park_office"),
            (&park_b, "office.b", "park_office"),
            (&ent_a1, "user.a1", "enterprise_user"),
            (&ent_b1, "user.b1", "enterprise_user"),
            (&d1, "dispatch.d1", "disposer_dispatcher"),
            (&d2, "dispatch.d2", "disposer_dispatcher"),
            (&carrier, "driver.c", "driver"),
            (&bureau_sz, "inspector.sz", "inspector"),
            (&bureau_gz, "inspector.gz", "inspector"),
        ];
        let mut tokens = vec![admin.clone()];
        let mut user_ids = Vec::new();
        for (org, username, role) in users {
            user_ids.push(app.create_user(&admin, org, username, role, PASSWORD).await);
            tokens.push(access_token(&app.login(username, PASSWORD).await));
        }

        let names = BTreeMap::from([
            ("pA", park_a),
            ("pB", park_b),
            ("eA1", ent_a1),
            ("eB1", ent_b1),
            ("D1", d1),
            ("D2", d2),
            ("lD1", lic_d1),
            ("lD2", lic_d2),
            ("C", carrier),
            ("vC", veh_c),
            ("vD1", veh_d1),
            ("bu03", bureau_sz),
            ("bu01", bureau_gz),
            ("wA", wh_a),
            ("wB", wh_b),
            ("zA", zone_a),
            ("zB", zone_b),
            ("kA", con_a),
            ("kB", con_b),
            ("imp", imp),
            ("code", "900-249-08".to_owned()),
            ("contract_end", contract_end),
            ("uDrv", user_ids[6].clone()),
        ]);
        World { app, tokens, names }
    }

    pub(crate) fn id(&self, name: &str) -> &str {
        self.names
            .get(name)
            .unwrap_or_else(|| panic!("${name} names nothing in the world"))
    }

    /// The world name of an id, or the id itself.
    pub(crate) fn name_of(&self, id: &str) -> String {
        self.names
            .iter()
            .find(|(_, v)| v.as_str() == id)
            .map_or_else(|| id.to_owned(), |(k, _)| (*k).to_owned())
    }

    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Answer {
        let mut request = self.app.request(method, &format!("{API}{path}"), token);
        if let Some(body) = body {
            let content_type = if body.starts_with('{') {
                "application/json"
            } else {
                "text/csv"
            };
            request = request
                .header(CONTENT_TYPE, content_type)
                .body(body.to_owned());
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = response.text().await.unwrap_or_default();
        Answer {
            status,
            content_type,
            text,
        }
    }

    pub(crate) async fn get(&self, path: &str, who: usize) -> Answer {
        self.send(Method::GET, path, Some(&self.tokens[who]), None)
            .await
    }

    /// What the administrator reads at `path`.
    pub(crate) async fn admin_reads(&self, path: &str) -> Value {
        let answer = self.get(path, 0).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "GET {path} as admin: {}",
            answer.brief()
        );
        answer.json()
    }

    /// Enterprises of park A for the writes on kA's members: some outside the contract, some
    /// open members of it; one for each write expected to succeed, and one more that refused
    /// writes name after the last success.
    async fn prepare_members(&self, fresh: &mut Fresh) {
        let admin = &self.tokens[0];
        let needed = |placeholder: &str| {
            let successes = WRITES
                .iter()
                .filter(|w| w.request.contains(placeholder) || w.body.contains(placeholder))
                .flat_map(|w| w.expect)
                .filter(|s| (200..300).contains(s))
                .count();
            successes + 1
        };
        for i in 0..needed("$spare") + needed("$leaver") {
            let id = self
                .app
                .create_enterprise(admin, self.id("pA"), &format!("Spare enterprise {i}"))
                .await;
            fresh.spares.push(id);
        }
        for _ in 0..needed("$leaver") {
            let id = fresh.spares.pop().expect("a spare");
            let body = json!({"enterprise_id": id});
            let path = format!("{API}/contracts/{}/members", self.id("kA"));
            let response = self.app.post_json(&path, Some(admin), &body).await;
            assert_eq!(response.status(), StatusCode::OK, "{id} joins kA");
            fresh.leavers.push(id);
        }
    }
}

/// The first object of the world that a template names (`$pA` in `/parks/$pA/history`): the
/// object the request is about. Fresh values (`$n`, …) are no objects.
pub(crate) fn target<'a>(world: &'a World, template: &str) -> Option<&'a str> {
    template.split('$').skip(1).find_map(|after| {
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        world.names.get(name.as_str()).map(String::as_str)
    })
}

/// Checks a status, and that a refusal is a problem document of the right type that does not
/// name the object; returns a complaint otherwise.
pub(crate) fn check_status(
    world: &World,
    request: &str,
    who: usize,
    want: u16,
    answer: &Answer,
) -> Option<String> {
    let who = PRINCIPALS[who];
    if answer.status.as_u16() != want {
        return Some(format!(
            "{request} as {who}: expected {want}, got {} {}",
            answer.status.as_u16(),
            answer.brief()
        ));
    }
    let slug = match want {
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not-found",
        _ => return None,
    };
    let problem = answer.json();
    if answer.content_type != "application/problem+json"
        || problem["type"] != format!("urn:wastetrack:problem:{slug}")
    {
        return Some(format!(
            "{request} as {who}: not a {slug} problem: {}",
            answer.brief()
        ));
    }
    if let Some(id) = target(world, request)
        && answer.text.contains(id)
    {
        return Some(format!(
            "{request} as {who}: the refusal names {id}: {}",
            answer.brief()
        ));
    }
    None
}

/// A successful read must be about the object asked for: its `id`, or that of every version.
fn check_object(request: &str, who: usize, id: &str, body: &Value) -> Option<String> {
    let who = PRINCIPALS[who];
    let ids: Vec<&Value> = match (&body["id"], body["items"].as_array()) {
        (Value::String(_), _) => vec![&body["id"]],
        (_, Some(items)) => items.iter().map(|v| &v["data"]["id"]).collect(),
        _ => return None,
    };
    if ids.is_empty() || ids.iter().any(|v| v.as_str() != Some(id)) {
        return Some(format!("{request} as {who}: not (only) about {id}: {body}"));
    }
    None
}

/// The world names of the items of a list (`items` of a page, or a plain array), sorted.
pub(crate) fn listed(world: &World, body: &Value) -> Vec<String> {
    let items = body
        .as_array()
        .or_else(|| body["items"].as_array())
        .cloned()
        .unwrap_or_default();
    let mut names: Vec<String> = items
        .iter()
        .map(|item| {
            let id = item["id"]
                .as_str()
                .or_else(|| item["code"].as_str())
                .unwrap_or("?");
            world.name_of(id)
        })
        .collect();
    names.sort();
    names
}

pub(crate) fn fail_if_any(failures: &[String], cells: usize) {
    assert!(
        failures.is_empty(),
        "{} of {cells} cells of the matrix differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

async fn check_reads(world: &World, failures: &mut Vec<String>) -> usize {
    let mut fresh = Fresh::default();
    let mut cells = 0;
    for (template, expect) in READS {
        let path = fresh.expand(world, template, false);
        for (who, &want) in expect.iter().enumerate() {
            cells += 1;
            let request = format!("GET {template}");
            let answer = world.get(&path, who).await;
            let complaint = check_status(world, &request, who, want, &answer).or_else(|| {
                let id = target(world, template)?;
                (want == 200).then(|| check_object(&request, who, id, &answer.json()))?
            });
            failures.extend(complaint);
        }
    }
    cells
}

async fn check_lists(world: &World, failures: &mut Vec<String>) -> usize {
    let mut fresh = Fresh::default();
    let mut cells = 0;
    for (template, expect) in LISTS {
        let path = fresh.expand(world, template, false);
        for (who, cell) in expect.iter().enumerate() {
            cells += 1;
            let request = format!("GET {template}");
            let answer = world.get(&path, who).await;
            if let Ok(status) = cell.parse::<u16>() {
                failures.extend(check_status(world, &request, who, status, &answer));
                continue;
            }
            if let Some(complaint) = check_status(world, &request, who, 200, &answer) {
                failures.push(complaint);
                continue;
            }
            let mut want: Vec<String> = cell
                .split_whitespace()
                .filter(|n| *n != "-")
                .map(str::to_owned)
                .collect();
            want.sort();
            let got = listed(world, &answer.json());
            if got != want {
                failures.push(format!(
                    "{request} as {}: expected [{}], got [{}]",
                    PRINCIPALS[who],
                    want.join(" "),
                    got.join(" ")
                ));
            }
        }
    }
    cells
}

async fn check_writes(world: &World, failures: &mut Vec<String>) -> usize {
    let mut fresh = Fresh::default();
    world.prepare_members(&mut fresh).await;
    let mut cells = 0;
    for write in WRITES {
        let (method, template) = write.request.split_once(' ').expect("METHOD /path");
        let method = Method::from_bytes(method.as_bytes()).expect("a method");
        let check = fresh.expand(world, write.check, false);
        let mut before = world.admin_reads(&check).await;
        for (who, &want) in write.expect.iter().enumerate() {
            cells += 1;
            let accepted = (200..300).contains(&want);
            let path = fresh.expand(world, template, accepted);
            let body = fresh.expand(world, write.body, accepted);
            let request = format!("{} {template}", method.as_str());
            let answer = world
                .send(method.clone(), &path, Some(&world.tokens[who]), Some(&body))
                .await;
            failures.extend(check_status(world, &request, who, want, &answer));
            let after = world.admin_reads(&check).await;
            let who = PRINCIPALS[who];
            if accepted && after == before {
                failures.push(format!(
                    "{request} as {who}: accepted, but GET {} did not change",
                    write.check
                ));
            }
            if !accepted && after != before {
                failures.push(format!(
                    "{request} as {who}: refused, but GET {} changed:\n  before {before}\n  after  {after}",
                    write.check
                ));
            }
            before = after;
        }
    }
    cells
}

/// A request of one of the tables, with the status each principal gets (`None`: a list).
struct Tabled {
    method: Method,
    path: &'static str,
    body: Option<&'static str>,
    statuses: [Option<u16>; 10],
}

/// Every request of the three tables.
fn every_request() -> Vec<Tabled> {
    let reads = READS.iter().map(|(path, row)| Tabled {
        method: Method::GET,
        path,
        body: None,
        statuses: row.map(Some),
    });
    let lists = LISTS.iter().map(|(path, cells)| Tabled {
        method: Method::GET,
        path,
        body: None,
        statuses: cells.map(|c| c.parse().ok()),
    });
    let writes = WRITES.iter().map(|w| {
        let (method, path) = w.request.split_once(' ').expect("METHOD /path");
        Tabled {
            method: Method::from_bytes(method.as_bytes()).expect("a method"),
            path,
            body: Some(w.body),
            statuses: w.expect.map(Some),
        }
    });
    reads.chain(lists).chain(writes).collect()
}

/// Expands refused requests: `$spare` and `$leaver` name an existing member, never used up.
fn refusals(world: &World) -> Fresh {
    Fresh {
        spares: vec![world.id("eA1").to_owned()],
        leavers: vec![world.id("eA1").to_owned()],
        ..Fresh::default()
    }
}

/// Every request of the tables, without a token: 401, whoever's object it names.
async fn check_anonymous(world: &World, failures: &mut Vec<String>) -> usize {
    let mut fresh = refusals(world);
    let requests = every_request();
    for r in &requests {
        let path = fresh.expand(world, r.path, false);
        let body = r.body.map(|b| fresh.expand(world, b, false));
        let answer = world
            .send(r.method.clone(), &path, None, body.as_deref())
            .await;
        if answer.status != StatusCode::UNAUTHORIZED {
            failures.push(format!(
                "{} {} without a token: expected 401, got {} {}",
                r.method,
                r.path,
                answer.status.as_u16(),
                answer.brief()
            ));
        }
    }
    requests.len()
}

/// An id of the same kind as `id` that names nothing.
pub(crate) fn ghost(id: &str) -> String {
    let (prefix, rest) = id.split_once('_').unwrap_or(("", id));
    format!("{prefix}_{}", "0".repeat(rest.len()))
}

/// Where a principal gets 404 for another tenant's object, it must get the same answer (status
/// and problem type) for an id that names nothing: otherwise other tenants' ids can be probed.
/// The object is the first one named by the path, or else by the body.
async fn check_probes(world: &World, failures: &mut Vec<String>) -> usize {
    let mut fresh = refusals(world);
    let mut cells = 0;
    for r in every_request() {
        let Some(real) = target(world, r.path).or_else(|| r.body.and_then(|b| target(world, b)))
        else {
            continue;
        };
        let real = real.to_owned();
        let path = fresh
            .expand(world, r.path, false)
            .replace(&real, &ghost(&real));
        let body = r
            .body
            .map(|b| fresh.expand(world, b, false).replace(&real, &ghost(&real)));
        for (who, status) in r.statuses.iter().enumerate() {
            if *status != Some(404) {
                continue;
            }
            cells += 1;
            let answer = world
                .send(
                    r.method.clone(),
                    &path,
                    Some(&world.tokens[who]),
                    body.as_deref(),
                )
                .await;
            let kind = answer.json()["type"].clone();
            if answer.status != StatusCode::NOT_FOUND || kind != "urn:wastetrack:problem:not-found"
            {
                failures.push(format!(
                    "{} {} as {}: 404 for the real object, but {} for one that does not exist: {}",
                    r.method,
                    r.path,
                    PRINCIPALS[who],
                    answer.status.as_u16(),
                    answer.brief()
                ));
            }
        }
    }
    cells
}

backend_tests! {
    async fn every_principal_reads_and_lists_only_what_the_policy_lets_it_see(backend: Backend) {
        let world = World::build(backend).await;
        let mut failures = Vec::new();
        let mut cells = check_reads(&world, &mut failures).await;
        cells += check_lists(&world, &mut failures).await;
        cells += check_anonymous(&world, &mut failures).await;
        fail_if_any(&failures, cells);
    }

    async fn every_principal_writes_only_what_the_policy_lets_it_change(backend: Backend) {
        let world = World::build(backend).await;
        let mut failures = Vec::new();
        let cells = check_writes(&world, &mut failures).await;
        fail_if_any(&failures, cells);
    }

    async fn other_tenants_objects_answer_as_if_they_did_not_exist(backend: Backend) {
        let world = World::build(backend).await;
        let mut failures = Vec::new();
        let cells = check_probes(&world, &mut failures).await;
        fail_if_any(&failures, cells);
    }
}
