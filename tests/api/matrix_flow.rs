//! Role × tenant access matrix over the flow of waste: lots, pickup requests, manifests,
//! billing, webhooks and the inbox; and the check that the tables of both matrices name every
//! endpoint of the OpenAPI document.
//!
//! The world is the registry matrix's ([`World::build`], the same ten principals in the same
//! columns; see `matrix.rs`), grown through the API ([`grow`]):
//!
//! - lot `lA` of A1 (2 100 kg of HW08 into zone `zA`) crosses kA's 2 t threshold and raises
//!   pickup request `pkA`, which D1's dispatcher accepts and schedules with the carrier's
//!   vehicle and driver; lot `lB` of B1 likewise raises `pkB`, which D2's dispatcher accepts;
//! - the enterprise users of A1 and B1 each subscribe a webhook (`hA`, `hB`), and `msgA` is the
//!   first message of A1's inbox;
//! - then the clock moves to 2 December 2026 and the administrator issues November's
//!   statements of A1 and B1 (`stA`, `stB`).
//!
//! Statuses read as in the registry matrix: 200/201 allowed; 403 the role never does this, or
//! the principal may read the object but not change it; 404 the principal may not know of it.
//! 409 is an allowed principal meeting the object in a state where the action does not apply
//! (an accepted request accepted again): the access was granted.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, time_travel};
use crate::matrix::{
    API, Answer, Fresh, LISTS, PRINCIPALS, READS, Row, WRITES, World, check_status, fail_if_any,
    ghost, listed, target,
};

/// Reading: one status per principal. A 200 answered in JSON about one object must name it.
#[rustfmt::skip]
const FLOW_READS: &[(&str, Row)] = &[
    //                                                    adm  offA offB entA entB dsp1 dsp2 drv  i03  i01
    // A lot: its park's office, its enterprise, its contract's disposer, the inspectors.
    ("/lots/$lA",                                        [200, 200, 404, 200, 404, 200, 404, 404, 200, 404]),
    ("/lots/$lA/history",                                [200, 200, 404, 200, 404, 200, 404, 404, 200, 404]),
    ("/lots/$lA/label.svg",                              [200, 200, 404, 200, 404, 200, 404, 404, 200, 404]),
    ("/lots/$lA/label.html",                             [200, 200, 404, 200, 404, 200, 404, 404, 200, 404]),
    ("/lots/$lA/containers",                             [200, 200, 404, 200, 404, 200, 404, 404, 200, 404]),
    ("/lots/$lA/trace",                                  [200, 200, 404, 200, 404, 200, 404, 404, 200, 404]),
    ("/lots/$lB",                                        [200, 404, 200, 404, 200, 404, 200, 404, 404, 200]),
    // A pickup request: its park's office, its disposer, its enterprises, its driver, the
    // inspectors.
    ("/pickup-requests/$pkA",                            [200, 200, 404, 200, 404, 200, 404, 200, 200, 404]),
    ("/pickup-requests/$pkB",                            [200, 404, 200, 404, 200, 404, 200, 200, 404, 200]),
    // A manifest: its park's office, its parties (consignor, carrier through its driver,
    // receiver, the enterprises of its lots), and the inspectors of both sides of the transfer:
    // park B's (4401) and the receiver D2's (440310, Shenzhen: 4403).
    ("/manifests/$mB",                                   [200, 404, 200, 404, 200, 404, 200, 200, 200, 200]),
    ("/manifests/$mB/print.html",                        [200, 404, 200, 404, 200, 404, 200, 200, 200, 200]),
    // Its filing for the national system: park B holds no collection permit, so B1 is the
    // consignor and files it (an enterprise that is not the consignor gets 403).
    ("/manifests/$mB/filing",                            [200, 404, 200, 404, 200, 404, 200, 200, 200, 200]),
    ("/manifests/$mB/filing.csv",                        [200, 404, 200, 404, 200, 404, 200, 200, 200, 200]),
    ("/manifests/$mB/versions",                          [200, 404, 200, 404, 200, 404, 200, 200, 200, 200]),
    // Its copy of record shows every enterprise's lots: not for an enterprise.
    ("/manifests/$mB/versions/1",                        [200, 404, 200, 404, 403, 404, 200, 200, 200, 200]),
    ("/manifests/$mB/records/1",                         [200, 404, 200, 404, 403, 404, 200, 200, 200, 200]),
    ("/manifests/$mB/revisions",                         [200, 404, 200, 404, 200, 404, 200, 200, 200, 200]),
    ("/manifests/$mB/trace",                             [200, 404, 200, 404, 200, 404, 200, 200, 200, 200]),
    // The working-day calendar: everybody signed in (2025 is shipped).
    ("/calendar/2025",                                   [200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    // The warehouse's stock: as the warehouse.
    ("/warehouses/$wA/inventory",                        [200, 200, 404, 404, 404, 404, 404, 404, 200, 404]),
    // The warehouse's signs: as the warehouse.
    ("/warehouses/$wA/sign.svg",                         [200, 200, 404, 404, 404, 404, 404, 404, 200, 404]),
    ("/zones/$zA/sign.svg",                              [200, 200, 404, 404, 404, 404, 404, 404, 200, 404]),
    // Billing: the park office and the enterprise itself.
    ("/statements/$stA",                                 [200, 200, 404, 200, 404, 404, 404, 404, 404, 404]),
    ("/statements/$stA/export.csv",                      [200, 200, 404, 200, 404, 404, 404, 404, 404, 404]),
    ("/statements/$stA/export.xlsx",                     [200, 200, 404, 200, 404, 404, 404, 404, 404, 404]),
    ("/statements/$stB",                                 [200, 404, 200, 404, 200, 404, 404, 404, 404, 404]),
    ("/enterprises/$eA1/balance",                        [200, 200, 404, 200, 404, 404, 404, 404, 404, 404]),
    ("/enterprises/$eB1/balance",                        [200, 404, 200, 404, 200, 404, 404, 404, 404, 404]),
    // A remittance: the park office and the disposer.
    ("/remittances?park_id=$pA&disposer_id=$D1&period=2026-11",             [200, 200, 404, 404, 404, 200, 404, 404, 404, 404]),
    ("/remittances/export.csv?park_id=$pA&disposer_id=$D1&period=2026-11",  [200, 200, 404, 404, 404, 200, 404, 404, 404, 404]),
    ("/remittances/export.xlsx?park_id=$pA&disposer_id=$D1&period=2026-11", [200, 200, 404, 404, 404, 200, 404, 404, 404, 404]),
    ("/remittances?park_id=$pB&disposer_id=$D2&period=2026-11",             [200, 404, 200, 404, 404, 404, 200, 404, 404, 404]),
    // A webhook: only its own organisation's office staff.
    ("/webhooks/$hA",                                    [404, 404, 404, 200, 404, 404, 404, 403, 404, 404]),
    ("/webhooks/$hA/deliveries",                         [404, 404, 404, 200, 404, 404, 404, 403, 404, 404]),
    ("/webhooks/types",                                  [200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    // Each organisation's own inbox: never a driver's.
    ("/inbox",                                           [200, 200, 200, 200, 200, 200, 200, 403, 200, 200]),
    ("/inbox/unread-count",                              [200, 200, 200, 200, 200, 200, 200, 403, 200, 200]),
    // Alarms: each among what it may see (drivers none); anomalies for inspectors and park
    // offices.
    ("/alarms",                                          [200, 200, 200, 200, 200, 200, 200, 403, 200, 200]),
    ("/anomalies?kind=receipt_overdue",                  [200, 200, 200, 403, 403, 403, 403, 403, 200, 200]),
    // The audit chain: verified by administrators; read by them, park offices and inspectors,
    // each within its scope (audit.rs).
    ("/audit/verify",                                    [200, 403, 403, 403, 403, 403, 403, 403, 403, 403]),
    ("/audit/entries",                                   [200, 200, 200, 403, 403, 403, 403, 403, 200, 200]),
    // An enterprise's compliance: its park's office, the enterprise itself, the inspectors.
    ("/enterprises/$eA1/profile",                        [200, 200, 404, 200, 404, 404, 404, 404, 200, 404]),
    ("/enterprises/$eA1/profile/versions",               [200, 200, 404, 200, 404, 404, 404, 404, 200, 404]),
    ("/enterprises/$eA1/five-haves",                     [200, 200, 404, 200, 404, 404, 404, 404, 200, 404]),
    ("/enterprises/$eA1/trends",                         [200, 200, 404, 200, 404, 404, 404, 404, 200, 404]),
    ("/enterprises/$eA1/trends/export.csv",              [200, 200, 404, 200, 404, 404, 404, 404, 200, 404]),
    ("/enterprises/$eA1/trends/export.xlsx",             [200, 200, 404, 200, 404, 404, 404, 404, 200, 404]),
    // A park's compliance lists: as its figures.
    ("/parks/$pA/five-haves",                            [200, 200, 404, 403, 403, 403, 403, 403, 200, 404]),
    ("/parks/$pA/trends",                                [200, 200, 404, 403, 403, 403, 403, 403, 200, 404]),
    ("/parks/$pA/trends/export.csv",                     [200, 200, 404, 403, 403, 403, 403, 403, 200, 404]),
    ("/parks/$pA/trends/export.xlsx",                    [200, 200, 404, 403, 403, 403, 403, 403, 200, 404]),
    // A park's report: as its figures.
    ("/parks/$pA/report",                                [200, 200, 404, 403, 403, 403, 403, 403, 200, 404]),
    ("/parks/$pA/report/export.csv",                     [200, 200, 404, 403, 403, 403, 403, 403, 200, 404]),
    ("/parks/$pA/report/export.xlsx",                    [200, 200, 404, 403, 403, 403, 403, 403, 200, 404]),
    ("/parks/$pA/report/print",                          [200, 200, 404, 403, 403, 403, 403, 403, 200, 404]),
    // Exports of the lists: as the lists.
    ("/lots/export.csv",                                 [200, 200, 200, 200, 200, 200, 200, 403, 200, 200]),
    ("/lots/export.xlsx",                                [200, 200, 200, 200, 200, 200, 200, 403, 200, 200]),
    ("/manifests/export.csv",                            [200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("/manifests/export.xlsx",                           [200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    // A patrol of A1, its finding and the finding's photo, and A1's feedback: park A's office,
    // A1 itself and the inspectors of park A's region.
    ("/patrols/$patA",                                   [200, 200, 404, 200, 404, 404, 404, 404, 200, 404]),
    ("/findings/$fndA",                                  [200, 200, 404, 200, 404, 404, 404, 404, 200, 404]),
    ("/photos/$phoA",                                    [200, 200, 404, 200, 404, 404, 404, 404, 200, 404]),
    ("/feedback/$fbkA",                                  [200, 200, 404, 200, 404, 404, 404, 404, 200, 404]),
];

/// Lists: the objects each principal gets (`-` none), or the status of a refusal.
#[rustfmt::skip]
const FLOW_LISTS: &[(&str, [&str; 10])] = &[
    //                                     adm        offA   offB   entA   entB   dsp1   dsp2   drv    i03    i01
    ("/lots",                             ["lA lB",   "lA",  "lB",  "lA",  "lB",  "lA",  "lB",  "403", "lA",  "lB"]),
    ("/lots?enterprise_id=$eB1",          ["lB",      "-",   "lB",  "-",   "lB",  "-",   "lB",  "403", "-",   "lB"]),
    ("/pickup-requests",                  ["pkA pkB", "pkA", "pkB", "pkA", "pkB", "pkA", "pkB", "pkA pkB", "pkA", "pkB"]),
    ("/statements",                       ["stA stB", "stA", "stB", "stA", "stB", "403", "403", "403", "403", "403"]),
    ("/manifests",                        ["mB",      "-",   "mB",  "-",   "mB",  "-",   "mB",  "mB",  "mB",  "mB"]),
    ("/webhooks",                         ["-",       "-",   "-",   "hA",  "hB",  "-",   "-",   "403", "-",   "-"]),
    ("/patrols",                          ["patA",    "patA", "-",  "patA", "-",   "403", "403", "403", "patA", "-"]),
    ("/feedback",                         ["fbkA",    "fbkA", "-",  "fbkA", "-",   "403", "403", "403", "fbkA", "-"]),
];

/// A write of the flow: like the registry matrix's, and besides who reads the check (`None`:
/// the administrator; `Some(column)`: that principal; the principal itself for
/// [`AS_ITSELF`]) and whether an accepted write must change what it reads.
struct FlowWrite {
    request: &'static str,
    body: &'static str,
    check: &'static str,
    checker: Option<usize>,
    changes: bool,
    expect: Row,
}

/// The check is read by the principal that wrote.
const AS_ITSELF: usize = usize::MAX;
/// Column of the enterprise user of A1.
const ENT_A: usize = 3;

const fn fw(
    request: &'static str,
    body: &'static str,
    check: &'static str,
    checker: Option<usize>,
    changes: bool,
    expect: Row,
) -> FlowWrite {
    FlowWrite {
        request,
        body,
        check,
        checker,
        changes,
        expect,
    }
}

const NEW_LOT_A: &str = r#"{"enterprise_id": "$eA1", "waste_code": "900-249-08", "physical_form": "liquid", "container_type": "drum", "container_count": 1, "container_litres": 200, "zone_id": "$zA", "gross_grams": 120000, "tare_grams": 20000, "scale_id": "SCALE-01", "captured_at": "$captured"}"#;
const DECLARATION_A: &str = r#"{"enterprise_id": "$eA1", "waste_code": "900-249-08", "physical_form": "liquid", "container_type": "drum", "container_count": 1, "container_litres": 200, "estimated_grams": 100000}"#;
const CORRECTION: &str =
    r#"{"reason": "re-weighed $n", "gross_grams": 2200000, "tare_grams": 1$n}"#;
const VOID: &str = r#"{"reason": "weighed twice"}"#;
const RAISE_A: &str = r#"{"contract_id": "$kA", "warehouse_id": "$wA", "category": "HW08"}"#;
const REASON: &str = r#"{"reason": "reason $n"}"#;
const SCHEDULE_A: &str =
    r#"{"scheduled_on": "$later", "carrier_id": "$C", "vehicle_id": "$vC", "driver_id": "$uDrv"}"#;
const CALENDAR: &str = r#"{"holidays": ["2027-01-01"], "workdays": ["2027-01-30"]}"#;
const RECEIVE: &str = r#"{"received_grams": 2100000, "decision": "accepted"}"#;
const COMPLETE: &str = r#"{"treatment": "R9 re-refining"}"#;
const RESOLVE: &str = r#"{"resolution": "returned to the enterprise"}"#;
const STATEMENT_A: &str = r#"{"enterprise_id": "$eA1", "period": "2026-11"}"#;
const STATEMENT_B: &str = r#"{"enterprise_id": "$eB1", "period": "2026-11"}"#;
const PAYMENT_A: &str = r#"{"enterprise_id": "$eA1", "amount_fen": 1000, "paid_on": "2026-12-01"}"#;
const PAYMENT_B: &str = r#"{"enterprise_id": "$eB1", "amount_fen": 1000, "paid_on": "2026-12-01"}"#;
const NOTE: &str = r#"{"amount_fen": -100, "reason": "discount $n"}"#;
const PATROL_A: &str =
    r#"{"enterprise_id": "$eA1", "patrolled_on": "2026-11-20", "people": ["Zhang $n"]}"#;
const FINDINGS: &str = r#"{"findings": [{"description": "finding $n", "deadline": "2026-12-20"}]}"#;
const TEXT: &str = r#"{"text": "text $n"}"#;
const FEEDBACK: &str = r#"{"subject": "subject $n", "text": "text"}"#;
const PROFILE_A: &str = r#"{"person_in_charge": "Chen Jie", "wastes": [{"waste_code": "900-249-08", "grams_per_month": 300000, "handling": "park_warehouse"}]}"#;
const HAVE_RECORD: &str = r#"{"met": true, "note": "seen at visit $n"}"#;
const NEW_WEBHOOK: &str = r#"{"url": "http://127.0.0.1:9/hook-$n"}"#;
const WEBHOOK_CHANGE: &str = r#"{"description": "Hook $n"}"#;

/// Every write of the flow. `$voidA` is a lot of A1 and `$cancelA` an open request of kA, new
/// for each accepted write.
#[rustfmt::skip]
const FLOW_WRITES: &[FlowWrite] = &[
    //  request                                  body           checked with                     by            changes  adm  offA offB entA entB dsp1 dsp2 drv  i03  i01
    // Lots: the park office weighs, corrects and voids; their enterprise, disposer and
    // inspectors read only.
    fw("POST /lots",                             NEW_LOT_A,     "/lots?limit=200",               None,         true,  [201, 201, 404, 403, 404, 404, 404, 404, 403, 404]),
    fw("POST /lots/$lA/corrections",             CORRECTION,    "/lots/$lA/history",             None,         true,  [200, 200, 404, 403, 404, 403, 404, 404, 403, 404]),
    fw("POST /lots/$voidA/void",                 VOID,          "/lots/$voidA",                  None,         true,  [200, 200, 404, 403, 404, 403, 404, 404, 403, 404]),
    // A declaration at the door is general waste: kA prices none, so those who may declare
    // for A1 are refused the body (422), the others the action.
    fw("POST /lots/declarations",                DECLARATION_A, "/lots?limit=200",               None,         true,  [422, 422, 404, 422, 404, 404, 404, 404, 403, 404]),
    // Pickup requests: the office raises and cancels them, the disposer's dispatcher
    // accepts, schedules and declines. pkA is scheduled: neither accepted nor declined again.
    fw("POST /pickup-requests",                  RAISE_A,       "/pickup-requests?limit=200",    None,         true,  [409, 409, 404, 403, 404, 403, 404, 404, 403, 404]),
    fw("POST /pickup-requests/$pkA/accept",      "",            "/pickup-requests/$pkA",         None,         true,  [409, 403, 404, 403, 404, 409, 404, 403, 403, 404]),
    fw("POST /pickup-requests/$pkA/decline",     REASON,        "/pickup-requests/$pkA",         None,         true,  [409, 403, 404, 403, 404, 409, 404, 403, 403, 404]),
    fw("POST /pickup-requests/$pkA/schedule",    SCHEDULE_A,    "/pickup-requests/$pkA",         None,         true,  [200, 403, 404, 403, 404, 200, 404, 403, 403, 404]),
    fw("POST /pickup-requests/$cancelA/cancel",  REASON,        "/pickup-requests/$cancelA",     None,         true,  [200, 200, 404, 403, 404, 403, 404, 404, 403, 404]),
    // Manifest mB's signed steps, in order, each by its one signer: the consigning enterprise
    // B1 (park B holds no collection permit), the carrier's driver, the receiver D2's
    // dispatcher (twice). Every other reader is refused with 403, the others with 404; the
    // administrator signs for no party. mB's receipt accepts all: the park office finds no
    // case to resolve (409).
    fw("POST /manifests/$mB/confirm",            "",            "/manifests/$mB",                None,         true,  [403, 404, 403, 404, 200, 404, 403, 403, 403, 403]),
    fw("POST /manifests/$mB/take-over",          "",            "/manifests/$mB",                None,         true,  [403, 404, 403, 404, 403, 404, 403, 200, 403, 403]),
    // The arrival: the receiver's dispatcher or the manifest's driver, once (the driver,
    // after the dispatcher, finds it recorded).
    fw("POST /manifests/$mB/arrival",            "{}",          "/manifests/$mB",                None,         true,  [403, 404, 403, 404, 403, 404, 200, 409, 403, 403]),
    fw("POST /manifests/$mB/receive",            RECEIVE,       "/manifests/$mB",                None,         true,  [403, 404, 403, 404, 403, 404, 200, 403, 403, 403]),
    fw("POST /manifests/$mB/complete",           COMPLETE,      "/manifests/$mB",                None,         true,  [403, 404, 403, 404, 403, 404, 200, 403, 403, 403]),
    fw("POST /manifests/$mB/resolve",            RESOLVE,       "/manifests/$mB",                None,         true,  [403, 404, 409, 404, 403, 404, 403, 403, 403, 403]),
    // The working-day calendar: administrators keep it.
    fw("PUT /calendar/2027",                     CALENDAR,      "/calendar/2027",                None,         true,  [200, 403, 403, 403, 403, 403, 403, 403, 403, 403]),
    // Billing: the park office. Whoever may read the enterprise (itself, the inspectors of
    // its region) is refused with 403; stA exists, so an allowed issue is a conflict.
    fw("POST /statements",                       STATEMENT_A,   "/statements?limit=200",         None,         true,  [409, 409, 404, 403, 404, 404, 404, 404, 403, 404]),
    fw("POST /statements",                       STATEMENT_B,   "/statements?limit=200",         None,         true,  [409, 404, 409, 404, 403, 404, 404, 404, 404, 403]),
    fw("POST /payments",                         PAYMENT_A,     "/enterprises/$eA1/balance",     None,         true,  [201, 201, 404, 403, 404, 404, 404, 404, 403, 404]),
    fw("POST /payments",                         PAYMENT_B,     "/enterprises/$eB1/balance",     None,         true,  [201, 404, 201, 404, 403, 404, 404, 404, 404, 403]),
    // A statement's notes and repricing: who may not read the statement gets 404.
    fw("POST /statements/$stA/notes",            NOTE,          "/statements/$stA",              None,         true,  [201, 201, 404, 403, 404, 404, 404, 404, 404, 404]),
    fw("POST /statements/$stA/reprice",          "{}",          "/statements/$stA",              None,         false, [200, 200, 404, 403, 404, 404, 404, 404, 404, 404]),
    // An enterprise's compliance: its park's office keeps it; the enterprise and the
    // inspectors read it (403), the others 404.
    fw("PUT /enterprises/$eA1/profile",          PROFILE_A,     "/enterprises/$eA1/profile",     None,         true,  [200, 200, 404, 403, 404, 404, 404, 404, 403, 404]),
    fw("PUT /enterprises/$eA1/five-haves/$haveS", HAVE_RECORD, "/enterprises/$eA1/five-haves",   None,         true,  [200, 200, 404, 403, 404, 404, 404, 404, 403, 404]),
    // Webhooks: each organisation its own (not drivers); another's answers 404.
    fw("POST /webhooks",                         NEW_WEBHOOK,   "/webhooks",                     Some(AS_ITSELF), true, [201, 201, 201, 201, 201, 201, 201, 403, 201, 201]),
    fw("PATCH /webhooks/$hA",                    WEBHOOK_CHANGE, "/webhooks/$hA",                Some(ENT_A),  true,  [404, 404, 404, 200, 404, 404, 404, 403, 404, 404]),
    fw("POST /webhooks/$hA/rotate-secret",       "{}",          "/webhooks/$hA",                 Some(ENT_A),  false, [404, 404, 404, 200, 404, 404, 404, 403, 404, 404]),
    // The inbox: each organisation its own messages.
    fw("POST /inbox/$msgA/read",                 "",            "/inbox/unread-count",           Some(ENT_A),  true,  [404, 404, 404, 200, 404, 404, 404, 403, 404, 404]),
    fw("POST /inbox/read",                       "{}",          "/inbox/unread-count",           Some(AS_ITSELF), false, [200, 200, 200, 200, 200, 200, 200, 403, 200, 200]),
    // Patrols: park A's office records them; A1 answers its finding; the office closes and
    // reopens it (the administrator first, so the office then meets it closed or open: 409).
    fw("POST /patrols",                          PATROL_A,      "/patrols?limit=200",            None,         true,  [201, 201, 404, 403, 404, 404, 404, 404, 403, 404]),
    fw("POST /patrols/$patA/findings",           FINDINGS,      "/patrols/$patA",                None,         true,  [201, 201, 404, 403, 404, 404, 404, 404, 403, 404]),
    fw("POST /findings/$fndA/answer",            TEXT,          "/findings/$fndA",               None,         true,  [200, 403, 404, 200, 404, 404, 404, 404, 403, 404]),
    fw("POST /findings/$fndA/close",             "{}",          "/findings/$fndA",               None,         true,  [200, 409, 404, 403, 404, 404, 404, 404, 403, 404]),
    fw("POST /findings/$fndA/reopen",            REASON,        "/findings/$fndA",               None,         true,  [200, 409, 404, 403, 404, 404, 404, 404, 403, 404]),
    // Feedback: written by enterprise users; A1's thread by park A's office and A1, closed by
    // the office (the administrator first).
    fw("POST /feedback",                         FEEDBACK,      "/feedback?limit=200",           Some(AS_ITSELF), true, [403, 403, 403, 201, 201, 403, 403, 403, 403, 403]),
    fw("POST /feedback/$fbkA/messages",          TEXT,          "/feedback/$fbkA",               None,         true,  [200, 200, 404, 200, 404, 404, 404, 404, 403, 404]),
    fw("POST /feedback/$fbkA/close",             "{}",          "/feedback/$fbkA",               None,         true,  [200, 409, 404, 403, 404, 404, 404, 404, 403, 404]),
];

/// Endpoints no table calls, each with the reason and where its access is tested instead.
#[rustfmt::skip]
const EXEMPT: &[(&str, &str)] = &[
    ("GET /openapi.json",                          "public: the document itself"),
    ("POST /auth/login",                           "before any principal: auth.rs"),
    ("POST /auth/refresh",                         "before any principal: auth.rs, tokens.rs"),
    ("POST /auth/logout",                          "the principal's own session: auth.rs"),
    ("POST /auth/password",                        "the principal's own password: auth.rs"),
    ("POST /auth/wechat/login",                    "before any principal: wechat.rs"),
    ("GET /auth/wechat/link",                      "the principal's own link: wechat.rs"),
    ("POST /auth/wechat/link",                     "the principal's own link: wechat.rs"),
    ("DELETE /auth/wechat/link",                   "the principal's own link: wechat.rs"),
    ("GET /me",                                    "the principal itself: identity.rs"),
    ("PUT /manifests/{}/official-number",          "the consignor's signer, others 403/404: official_numbers.rs"),
    ("GET /organizations",                         "identity: identity.rs"),
    ("GET /organizations/{}",                      "identity: identity.rs"),
    ("POST /users",                                "identity: identity.rs"),
    ("GET /users",                                 "identity: identity.rs"),
    ("GET /users/{}",                              "identity: identity.rs"),
    ("PATCH /users/{}",                            "identity: identity.rs"),
    // The world collects pkB through it; a request is collected once.
    ("POST /pickup-requests/{}/collect",           "collected once: pickups.rs, manifests.rs"),
    // Each step is signed by one party's user, in the manifest's order of steps.
    ("POST /manifests/{}/revisions",               "one signer, in order: manifest_signers.rs"),
    ("POST /manifests/{}/revisions/{}/approve",    "one signer, in order: manifest_signers.rs"),
    ("POST /manifests/{}/revisions/{}/reject",     "one signer, in order: manifest_signers.rs"),
    ("GET /webhooks/{}/deliveries/{}",             "a delivery needs a receiver: webhooks.rs"),
    ("GET /verify/{}",                             "public by design, behind a label's random token: lots.rs"),
    ("POST /webhooks/{}/deliveries/{}/redeliver",  "a delivery needs a receiver: webhooks.rs"),
    ("POST /findings/{}/photos",                   "a binary body: patrols.rs (the office and the enterprise, 403 to inspectors, 404 to others)"),
    ("POST /feedback/{}/photos",                   "a binary body: patrols.rs (as a finding's)"),
];

/// The registry matrix's world, grown with the flow's objects (see the module's text).
async fn grow(backend: Backend) -> World {
    let mut world = World::build_with(backend, |s| {
        time_travel(s);
        s.notify.webhook_allowed_hosts = "127.0.0.1".to_owned();
    })
    .await;
    let lot_a = weigh(&world, "eA1", "zA", 2_100).await;
    let lot_b = weigh(&world, "eB1", "zB", 2_100).await;
    let request = |lot: &Value| lot["pickup_request_id"].as_str().map(str::to_owned);
    let pk_a = request(&lot_a).expect("lA raises a request");
    let pk_b = request(&lot_b).expect("lB raises a request");
    let ok = |answer: Answer, what: &str| {
        assert!(answer.status.is_success(), "{what}: {}", answer.brief());
        answer.json()
    };
    let dsp1 = 5;
    let dsp2 = 6;
    let accept = |pk: &str| format!("/pickup-requests/{pk}/accept");
    ok(
        world
            .send(
                Method::POST,
                &accept(&pk_a),
                Some(&world.tokens[dsp1]),
                None,
            )
            .await,
        "accept pkA",
    );
    ok(
        world
            .send(
                Method::POST,
                &accept(&pk_b),
                Some(&world.tokens[dsp2]),
                None,
            )
            .await,
        "accept pkB",
    );
    let schedule = json!({"scheduled_on": world.app.day(1), "carrier_id": world.id("C"),
        "vehicle_id": world.id("vC"), "driver_id": world.id("uDrv")})
    .to_string();
    ok(
        world
            .send(
                Method::POST,
                &format!("/pickup-requests/{pk_a}/schedule"),
                Some(&world.tokens[dsp1]),
                Some(&schedule),
            )
            .await,
        "schedule pkA",
    );

    // pkB: scheduled with the carrier and collected by its driver, which issues manifest mB.
    let schedule_b = json!({"scheduled_on": world.app.day(0), "carrier_id": world.id("C"),
        "vehicle_id": world.id("vC"), "driver_id": world.id("uDrv")})
    .to_string();
    let path = format!("/pickup-requests/{pk_b}/schedule");
    ok(
        world
            .send(
                Method::POST,
                &path,
                Some(&world.tokens[dsp2]),
                Some(&schedule_b),
            )
            .await,
        "schedule pkB",
    );
    // The driver scans the label of every container loaded.
    let containers = world
        .admin_reads(&format!(
            "/lots/{}/containers",
            lot_b["id"].as_str().expect("a lot")
        ))
        .await;
    let scans: Vec<Value> = containers
        .as_array()
        .expect("the containers")
        .iter()
        .map(|c| c["label_code"].clone())
        .collect();
    let outbound = json!({"vehicle_id": world.id("vC"), "scale_id": "SCALE-02",
        "captured_at": world.app.now().to_rfc3339(), "gross_grams": 10_100_000, "tare_grams": 8_000_000,
        "scanned_labels": scans})
    .to_string();
    let path = format!("/pickup-requests/{pk_b}/collect");
    let collection = ok(
        world
            .send(Method::POST, &path, Some(&world.tokens[7]), Some(&outbound))
            .await,
        "collect pkB",
    );
    let m_b = collection["manifests"][0]["id"]
        .as_str()
        .expect("a manifest")
        .to_owned();

    let hook = |n: u8| json!({"url": format!("http://127.0.0.1:9/hook-{n}")}).to_string();
    let h_a = ok(
        world
            .send(
                Method::POST,
                "/webhooks",
                Some(&world.tokens[3]),
                Some(&hook(1)),
            )
            .await,
        "hA",
    );
    let h_b = ok(
        world
            .send(
                Method::POST,
                "/webhooks",
                Some(&world.tokens[4]),
                Some(&hook(2)),
            )
            .await,
        "hB",
    );
    // A1's waste profile, so that its compliance has something to read.
    ok(
        world
            .send(
                Method::PUT,
                &format!("/enterprises/{}/profile", world.id("eA1")),
                Some(&world.tokens[0]),
                Some(PROFILE_A.replace("$n", "0").as_str()),
            )
            .await,
        "A1's profile",
    );
    let inbox = ok(world.get("/inbox", 3).await, "A1's inbox");
    let msg_a = inbox["items"][0]["id"]
        .as_str()
        .expect("A1 has a message")
        .to_owned();

    world.app.stand_at("2026-12-02T10:00:00+08:00");
    let issue = |e: &str| json!({"enterprise_id": e, "period": "2026-11"}).to_string();
    let st_a = ok(
        world
            .send(
                Method::POST,
                "/statements",
                Some(&world.tokens[0]),
                Some(&issue(world.id("eA1"))),
            )
            .await,
        "stA",
    );
    let st_b = ok(
        world
            .send(
                Method::POST,
                "/statements",
                Some(&world.tokens[0]),
                Some(&issue(world.id("eB1"))),
            )
            .await,
        "stB",
    );

    // A patrol of A1 by park A's office with one finding, a photo of it by A1, and A1's
    // feedback.
    let patrol =
        json!({"enterprise_id": world.id("eA1"), "patrolled_on": "2026-11-20", "people": ["Zhang"],
        "findings": [{"description": "No label on a drum", "deadline": "2026-12-15"}]})
        .to_string();
    let pat_a = ok(
        world
            .send(
                Method::POST,
                "/patrols",
                Some(&world.tokens[1]),
                Some(&patrol),
            )
            .await,
        "patA",
    );
    let fnd_a = pat_a["findings"][0]["id"]
        .as_str()
        .expect("a finding")
        .to_owned();
    let photo = world
        .app
        .request(
            Method::POST,
            &format!("{API}/findings/{fnd_a}/photos"),
            Some(&world.tokens[3]),
        )
        .header("content-type", "image/jpeg")
        .body(vec![
            0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F',
        ])
        .send()
        .await
        .expect("request sent");
    assert_eq!(photo.status(), StatusCode::CREATED, "phoA");
    let pho_a: Value = photo.json().await.expect("JSON");
    let feedback =
        json!({"subject": "Pickup day", "text": "Could the drums go earlier?"}).to_string();
    let fbk_a = ok(
        world
            .send(
                Method::POST,
                "/feedback",
                Some(&world.tokens[3]),
                Some(&feedback),
            )
            .await,
        "fbkA",
    );

    let id = |v: &Value| v["id"].as_str().expect("an id").to_owned();
    world.names.extend([
        ("patA", id(&pat_a)),
        ("fndA", fnd_a),
        ("phoA", id(&pho_a)),
        ("fbkA", id(&fbk_a)),
        ("lA", id(&lot_a)),
        ("lB", id(&lot_b)),
        ("pkA", pk_a),
        ("pkB", pk_b),
        ("hA", id(&h_a)),
        ("hB", id(&h_b)),
        ("msgA", msg_a),
        ("mB", m_b),
        ("stA", id(&st_a)),
        ("stB", id(&st_b)),
        // A have of the five: a name in the path, not an object.
        ("haveS", "sorting".to_owned()),
    ]);
    world
}

/// The administrator weighs `kg` of HW08 of an enterprise into a zone (world names).
async fn weigh(world: &World, enterprise: &str, zone: &str, kg: i64) -> Value {
    let body = json!({"enterprise_id": world.id(enterprise), "waste_code": "900-249-08", "physical_form": "liquid",
        "container_type": "drum", "container_count": 1, "container_litres": 200, "zone_id": world.id(zone),
        "gross_grams": kg * 1000 + 20_000, "tare_grams": 20_000, "scale_id": "SCALE-01",
        "captured_at": (world.app.now() - chrono::Duration::minutes(5)).to_rfc3339()})
    .to_string();
    let answer = world
        .send(Method::POST, "/lots", Some(&world.tokens[0]), Some(&body))
        .await;
    assert_eq!(
        answer.status,
        StatusCode::CREATED,
        "weighing: {}",
        answer.brief()
    );
    answer.json()
}

async fn check_flow_reads(world: &World, failures: &mut Vec<String>) -> usize {
    let mut fresh = Fresh::default();
    let mut cells = 0;
    for (template, expect) in FLOW_READS {
        let path = fresh.expand(world, template, false);
        for (who, &want) in expect.iter().enumerate() {
            cells += 1;
            let request = format!("GET {template}");
            let answer = world.get(&path, who).await;
            if let Some(complaint) = check_status(world, &request, who, want, &answer) {
                failures.push(complaint);
                continue;
            }
            // A JSON answer about one object must name it.
            let id = target(world, template).filter(|_| want == 200);
            if let Some(id) = id
                && answer.json().get("id").is_some()
                && !answer.text.contains(id)
            {
                failures.push(format!(
                    "{request} as {}: not about {id}: {}",
                    PRINCIPALS[who],
                    answer.brief()
                ));
            }
        }
    }
    cells
}

async fn check_flow_lists(world: &World, failures: &mut Vec<String>) -> usize {
    let mut fresh = Fresh::default();
    let mut cells = 0;
    for (template, expect) in FLOW_LISTS {
        let path = fresh.expand(world, template, false);
        for (who, cell) in expect.iter().enumerate() {
            cells += 1;
            let request = format!("GET {template}");
            let answer = world.get(&path, who).await;
            let want_status = cell.parse::<u16>().unwrap_or(200);
            if let Some(complaint) = check_status(world, &request, who, want_status, &answer) {
                failures.push(complaint);
                continue;
            }
            if want_status != 200 {
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

/// What `who` reads at `path`: the status and the body.
async fn reads(world: &World, path: &str, who: usize) -> (u16, Value) {
    let answer = world.get(path, who).await;
    let mut body = answer.json();
    if let Some(problem) = body.as_object_mut() {
        problem.remove("request_id");
    }
    (answer.status.as_u16(), body)
}

/// Lots of A1 to void and open requests of kA to cancel: one for each accepted write, and one
/// that refused writes name.
async fn prepare_pools(world: &World, fresh: &mut Fresh) {
    let mut lots = Vec::new();
    for _ in 0..3 {
        let lot = weigh(world, "eA1", "zA", 100).await;
        lots.push(lot["id"].as_str().expect("a lot").to_owned());
    }
    fresh.pools.insert("voidA", lots);
    fresh
        .pools
        .insert("cancelA", vec![world.id("pkA").to_owned()]);
}

/// After a request of kA is cancelled, the office raises the next one for its waiting lots.
async fn raise_next(world: &World, fresh: &mut Fresh) {
    let body = RAISE_A
        .replace("$kA", world.id("kA"))
        .replace("$wA", world.id("wA"));
    let answer = world
        .send(
            Method::POST,
            "/pickup-requests",
            Some(&world.tokens[1]),
            Some(&body),
        )
        .await;
    assert_eq!(
        answer.status,
        StatusCode::CREATED,
        "raise: {}",
        answer.brief()
    );
    let id = answer.json()["id"].as_str().expect("an id").to_owned();
    fresh.pools.entry("cancelA").or_default().push(id);
}

async fn check_flow_writes(world: &World, failures: &mut Vec<String>) -> usize {
    let mut fresh = Fresh::default();
    prepare_pools(world, &mut fresh).await;
    let mut cells = 0;
    for write in FLOW_WRITES {
        let (method, template) = write.request.split_once(' ').expect("METHOD /path");
        let method = Method::from_bytes(method.as_bytes()).expect("a method");
        for (who, &want) in write.expect.iter().enumerate() {
            cells += 1;
            let accepted = (200..300).contains(&want);
            let checker = match write.checker {
                None => 0,
                Some(AS_ITSELF) => who,
                Some(column) => column,
            };
            // The check names the object the write will name (a pool's first).
            let check = fresh.expand(world, write.check, false);
            let before = reads(world, &check, checker).await;
            let path = fresh.expand(world, template, accepted);
            let body = fresh.expand(world, write.body, accepted);
            let body = (!body.is_empty()).then_some(body.as_str());
            let request = format!("{} {template}", method.as_str());
            let answer = world
                .send(method.clone(), &path, Some(&world.tokens[who]), body)
                .await;
            failures.extend(check_status(world, &request, who, want, &answer));
            let after = reads(world, &check, checker).await;
            let name = PRINCIPALS[who];
            if accepted && write.changes && after == before {
                failures.push(format!(
                    "{request} as {name}: accepted, but GET {} did not change",
                    write.check
                ));
            }
            if !accepted && after != before {
                failures.push(format!(
                    "{request} as {name}: refused, but GET {} changed:\n  before {:?}\n  after  {:?}",
                    write.check, before, after
                ));
            }
            if accepted && template.contains("$cancelA") {
                raise_next(world, &mut fresh).await;
            }
        }
    }
    cells
}

/// A request of the flow's tables: method, path template, body, and the status each principal
/// gets (`None`: a list).
type FlowRequest = (
    Method,
    &'static str,
    Option<&'static str>,
    [Option<u16>; 10],
);

/// Every request of the flow's tables.
fn flow_requests() -> Vec<FlowRequest> {
    let reads = FLOW_READS
        .iter()
        .map(|(path, row)| (Method::GET, *path, None, row.map(Some)));
    let lists = FLOW_LISTS
        .iter()
        .map(|(path, cells)| (Method::GET, *path, None, cells.map(|c| c.parse().ok())));
    let writes = FLOW_WRITES.iter().map(|w| {
        let (method, path) = w.request.split_once(' ').expect("METHOD /path");
        let method = Method::from_bytes(method.as_bytes()).expect("a method");
        let body = (!w.body.is_empty()).then_some(w.body);
        (method, path, body, w.expect.map(Some))
    });
    reads.chain(lists).chain(writes).collect()
}

/// Without a token every request of the tables is 401; where a principal gets 404 for a real
/// object, it gets the same for an id that names nothing.
async fn check_flow_anonymous_and_probes(world: &World, failures: &mut Vec<String>) -> usize {
    let mut fresh = Fresh::default();
    fresh.pools.insert("voidA", vec![world.id("lA").to_owned()]);
    fresh
        .pools
        .insert("cancelA", vec![world.id("pkA").to_owned()]);
    let mut cells = 0;
    for (method, template, body, statuses) in flow_requests() {
        let path = fresh.expand(world, template, false);
        let body = body.map(|b| fresh.expand(world, b, false));
        cells += 1;
        let answer = world
            .send(method.clone(), &path, None, body.as_deref())
            .await;
        if answer.status != StatusCode::UNAUTHORIZED {
            failures.push(format!(
                "{method} {template} without a token: expected 401, got {} {}",
                answer.status.as_u16(),
                answer.brief()
            ));
        }
        let real = target(world, template)
            .or_else(|| body.as_deref().and_then(|b| target(world, b)))
            .or_else(|| {
                // A pool's object, named in the path.
                fresh
                    .pools
                    .values()
                    .flatten()
                    .find(|id| path.contains(id.as_str()))
                    .map(String::as_str)
            });
        let Some(real) = real.map(str::to_owned) else {
            continue;
        };
        let path = path.replace(&real, &ghost(&real));
        let body = body.map(|b| b.replace(&real, &ghost(&real)));
        for (who, status) in statuses.iter().enumerate() {
            if *status != Some(404) {
                continue;
            }
            cells += 1;
            let answer = world
                .send(
                    method.clone(),
                    &path,
                    Some(&world.tokens[who]),
                    body.as_deref(),
                )
                .await;
            let kind = answer.json()["type"].clone();
            if answer.status != StatusCode::NOT_FOUND || kind != "urn:wastetrack:problem:not-found"
            {
                failures.push(format!(
                    "{method} {template} as {}: 404 for the real object, but {} for one that does not exist: {}",
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
    async fn every_principal_reads_and_lists_only_the_flow_it_may_see(backend: Backend) {
        let world = grow(backend).await;
        let mut failures = Vec::new();
        let mut cells = check_flow_reads(&world, &mut failures).await;
        cells += check_flow_lists(&world, &mut failures).await;
        cells += check_flow_anonymous_and_probes(&world, &mut failures).await;
        fail_if_any(&failures, cells);
    }

    async fn every_principal_moves_only_the_waste_and_money_it_may_move(backend: Backend) {
        let world = grow(backend).await;
        let mut failures = Vec::new();
        let cells = check_flow_writes(&world, &mut failures).await;
        fail_if_any(&failures, cells);
    }
}

/// `GET /parks/$pA/history?x` → `GET /parks/{}/history`; a number (a version) is a parameter
/// too: `GET /manifests/$mB/versions/1` → `GET /manifests/{}/versions/{}`.
fn shape(method: &str, path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    let path = path
        .split('/')
        .map(|s| {
            // A value in the path: a named object, a template's parameter, or a number (a
            // calendar's year).
            if s.starts_with('$')
                || s.starts_with('{')
                || (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            {
                "{}"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/");
    format!("{} {path}", method.to_uppercase())
}

/// The tables of both matrices, with the exemptions, name every endpoint of the API, and
/// nothing else: a new endpoint needs a row (or an exemption with its reason).
#[test]
fn the_matrices_cover_every_endpoint() {
    let doc: Value = serde_json::from_str(
        &wastetrack::openapi::document()
            .to_pretty_json()
            .expect("the document renders"),
    )
    .expect("JSON");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let Some(path) = path.strip_prefix(API) else {
            continue;
        };
        for method in item.as_object().expect("path item").keys() {
            documented.insert(shape(method, path));
        }
    }
    let mut tabled = BTreeSet::new();
    tabled.extend(READS.iter().map(|(path, _)| shape("GET", path)));
    tabled.extend(LISTS.iter().map(|(path, _)| shape("GET", path)));
    tabled.extend(WRITES.iter().map(|w| {
        let (method, path) = w.request.split_once(' ').expect("METHOD /path");
        shape(method, path)
    }));
    tabled.extend(
        flow_requests()
            .iter()
            .map(|(method, path, _, _)| shape(method.as_str(), path)),
    );
    let exempt: BTreeSet<String> = EXEMPT.iter().map(|(e, _)| (*e).to_owned()).collect();
    let missing: Vec<_> = documented
        .iter()
        .filter(|e| !tabled.contains(*e) && !exempt.contains(*e))
        .collect();
    let unknown: Vec<_> = tabled.difference(&documented).collect();
    let stale: Vec<_> = exempt.difference(&documented).collect();
    let both: Vec<_> = exempt.intersection(&tabled).collect();
    assert!(
        missing.is_empty(),
        "endpoints in no matrix table and not exempted: {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "matrix rows for endpoints the API lacks: {unknown:?}"
    );
    assert!(
        stale.is_empty(),
        "exemptions of endpoints the API lacks: {stale:?}"
    );
    assert!(both.is_empty(), "exempted, yet in a table: {both:?}");
    assert!(documented.len() >= 140, "{} endpoints", documented.len());
}
