//! Every list that grows with a park's history, timed through the HTTP API of the release
//! binary at the size given — to compare a page at 10 000 rows with the same page at a million.
//!
//! Loads the park of `common/park.rs` with `--lots` lots (default 1 000 000) and about
//! `--manifests` pickups (default 100 000; each a request, a collection and a manifest signed
//! through completion, carrying the lots it collected), then what that history leaves behind:
//! an audit entry per lot and per pickup, six inbox messages per pickup (requested and collected,
//! to the park, the disposer and one enterprise; those older than 90 days read), a webhook
//! endpoint of the park with a delivery of each of its messages, and a statement per enterprise
//! and month with a line per lot billed (and its totals per code). Then it starts `wastetrack serve` on that database and
//! times the first page, a page in the middle (by cursor) and the common filters of each list,
//! as the party that reads it (p50, p95 and max over `--iterations` requests, 40 by default,
//! after 3 to warm up; pages of 50). Prints a Markdown table.
//!
//! ```sh
//! cargo bench --bench lists                                    # SQLite, 1 000 000 lots
//! cargo bench --bench lists -- --lots 10000 --manifests 1000   # the same park, small
//! cargo bench --bench lists -- --database-url postgres://postgres@127.0.0.1:5432/bench
//! ```
//! A PostgreSQL database given by URL must exist and be empty.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Datelike, NaiveDate};
use common::park::{DAYS, Loaded, PASSWORD, World, id, insert, load, q, ts};
use common::{arg, free_port, login, percentile, start_server, time_get};
use diesel::connection::SimpleConnection;
use wastetrack::db::{DbConn, write_transaction};

/// The first seq of the audit entries loaded (those of the park's registration come before).
const AUDIT_FROM: u64 = 1_000_000_000;

/// The middle of what was loaded, for the cursors of deep pages.
struct Middle {
    /// The park's webhook endpoint.
    endpoint: String,
    message: String,
    delivery: String,
    statement: String,
}

/// Loads the rows the park's history leaves besides lots and pickups; returns the middle rows.
fn load_history(
    conn: &mut DbConn,
    world: &World,
    user: &str,
    lots: u64,
    loaded: &Loaded,
    now: chrono::DateTime<chrono::Utc>,
) -> Middle {
    let pg = matches!(conn, DbConn::Pg(_));
    let hash = q(&"0".repeat(64));
    // An audit entry per lot (its weighing) and per pickup (its collection), in time order.
    let month_of = |column: &str| {
        if pg {
            format!("to_char({column}, 'YYYY-MM')")
        } else {
            format!("strftime('%Y-%m', {column})")
        }
    };
    conn.batch_execute(&format!(
        "INSERT INTO audit_entries (seq, prev_hash, hash, at, request_id, user_id, organization_id, role, action, object, park_id, summary) \
         SELECT {AUDIT_FROM} + ROW_NUMBER() OVER (ORDER BY at, object), {hash}, {hash}, at, NULL, {u}, {p}, 'park_office', action, object, {p}, 'bench' FROM ( \
           SELECT created_at AS at, 'lot.weigh_in' AS action, id AS object FROM lots \
           UNION ALL SELECT created_at, 'pickup.collect', id FROM collections) AS history",
        u = q(user),
        p = q(&world.park),
    ))
    .expect("audit entries");

    // Six messages per pickup, a delivery of each of the park's to its webhook endpoint.
    let endpoint = id("whe", now.naive_utc(), 0);
    conn.batch_execute(&format!(
        "INSERT INTO webhook_endpoints (id, organization_id, url, description, event_types, secret, status, created_by, created_at, updated_at) \
         VALUES ({e}, {p}, 'https://erp.example.cn/hooks', 'ERP', '*', 'whsec_bench', 'active', {u}, {at}, {at})",
        e = q(&endpoint),
        p = q(&world.park),
        u = q(user),
        at = ts(now.naive_utc()),
    ))
    .expect("endpoint");
    let read_before = (now - chrono::Duration::days(90)).naive_utc();
    let (mut messages, mut deliveries, mut park_messages) = (Vec::new(), Vec::new(), Vec::new());
    let mut n = 0u64;
    for (c, of_category) in loaded.pickups.iter().enumerate() {
        for (k, p) in of_category.iter().enumerate() {
            let enterprise = &world.enterprises[(k * 3 + c) % world.enterprises.len()];
            for (step, (type_, at)) in [
                (
                    "pickup.requested",
                    p.collected_at - chrono::Duration::hours(6),
                ),
                ("pickup.collected", p.collected_at),
            ]
            .into_iter()
            .enumerate()
            {
                for (o, org) in [&world.park, &world.disposer, enterprise]
                    .into_iter()
                    .enumerate()
                {
                    n += 1;
                    let message = id("msg", at, n);
                    let read = if at < read_before {
                        format!("{}, {}", ts(at + chrono::Duration::hours(2)), q(user))
                    } else {
                        "NULL, NULL".into()
                    };
                    messages.push(format!(
                        "({m}, {org}, '{type_}', {r}, 'pickup {step}', '{{\"request_id\":\"{req}\"}}', {at}, {read})",
                        m = q(&message),
                        org = q(org),
                        r = q(&p.request),
                        req = p.request,
                        at = ts(at),
                    ));
                    if o == 0 {
                        deliveries.push(format!(
                            "({d}, {m}, {e}, 'delivered', 1, {at}, NULL, 200, NULL, {at}, {at}, {at})",
                            d = q(&id("dlv", at, n)),
                            m = q(&message),
                            e = q(&endpoint),
                            at = ts(at),
                        ));
                        park_messages.push(message);
                    }
                }
            }
        }
    }
    park_messages.sort();
    let middle_message = park_messages[park_messages.len() / 2].clone();
    let mut delivery_ids: Vec<&str> = deliveries
        .iter()
        .map(|d| d.split('\'').nth(1).unwrap())
        .collect();
    delivery_ids.sort();
    let middle_delivery = delivery_ids[delivery_ids.len() / 2].to_owned();
    write_transaction(conn, |conn| {
        insert(conn, "messages", "id, organization_id, type, subject_id, title, data, created_at, read_at, read_by", &messages);
        insert(conn, "webhook_deliveries", "id, message_id, endpoint_id, status, attempts, next_attempt_at, claimed_until, last_status, last_error, delivered_at, created_at, updated_at", &deliveries);
        Ok::<_, diesel::result::Error>(())
    })
    .expect("messages");

    // A statement per enterprise and month of the two years, a line per lot not voided.
    let first = (now - chrono::Duration::days(DAYS)).date_naive();
    let last = now.date_naive();
    let mut statements = Vec::new();
    let mut statement_ids = Vec::new();
    let mut month = NaiveDate::from_ymd_opt(first.year(), first.month(), 1).unwrap();
    let mut s = 0u64;
    while month <= last {
        let period = month.format("%Y-%m").to_string();
        let issued = (month + chrono::Months::new(1))
            .and_hms_opt(2, 0, 0)
            .unwrap();
        for (e, enterprise) in world.enterprises.iter().enumerate() {
            s += 1;
            let statement = id("stm", issued, s);
            statements.push(format!(
                "({st}, 'ST-{period}-{e:03}', {p}, {en}, '{period}', 0, '{due}', {at}, {u})",
                st = q(&statement),
                p = q(&world.park),
                en = q(enterprise),
                due = (month + chrono::Months::new(2)),
                at = ts(issued),
                u = q(user),
            ));
            statement_ids.push(statement);
        }
        month = month + chrono::Months::new(1);
    }
    statement_ids.sort();
    write_transaction(conn, |conn| {
        insert(conn, "statements", "id, number, park_id, enterprise_id, period, total_fen, due_on, issued_at, issued_by", &statements);
        conn.batch_execute(&format!(
            "INSERT INTO statement_lines (statement_id, lot_id, contract_id, disposer_id, waste_code, billable_on, grams, fen_per_tonne, amount_fen) \
             SELECT s.id, l.id, l.contract_id, {d}, l.waste_code, l.produced_on, l.net_grams, 300000, l.net_grams * 3 / 10 \
             FROM lots l JOIN statements s ON s.enterprise_id = l.enterprise_id AND s.period = {period} \
             WHERE l.status <> 'voided'; \
             INSERT INTO statement_totals (statement_id, waste_code, grams, amount_fen, lines) \
             SELECT statement_id, waste_code, SUM(grams), SUM(amount_fen), COUNT(*) FROM statement_lines GROUP BY statement_id, waste_code; \
             UPDATE statements SET total_fen = (SELECT COALESCE(SUM(amount_fen), 0) FROM statement_lines WHERE statement_id = statements.id)",
            d = q(&world.disposer),
            period = month_of("l.captured_at"),
        ))?;
        Ok::<_, diesel::result::Error>(())
    })
    .expect("statements");
    conn.batch_execute(if pg { "VACUUM ANALYZE" } else { "ANALYZE" })
        .expect("analyze");
    eprintln!(
        "  {} audit entries, {} messages, {} deliveries, {} statements",
        lots + loaded.pickup_count(),
        messages.len(),
        deliveries.len(),
        statements.len()
    );
    Middle {
        endpoint,
        message: middle_message,
        delivery: middle_delivery,
        statement: statement_ids[statement_ids.len() / 2].clone(),
    }
}

fn cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

fn main() {
    let iterations: usize = arg("--iterations")
        .map(|r| r.parse().expect("--iterations N"))
        .unwrap_or(40);
    let lots: u64 = arg("--lots")
        .map(|r| r.parse().expect("--lots N"))
        .unwrap_or(1_000_000);
    let manifests: u64 = arg("--manifests")
        .map(|r| r.parse().expect("--manifests N"))
        .unwrap_or(100_000);
    // Pickups are made for the days whose lots were collected (all but the last 60), per
    // category.
    let per_day = (manifests / ((DAYS as u64 - 59) * 3)).max(1);
    let dir = tempfile::tempdir().expect("temporary folder");
    let (url, backend) = common::database(dir.path());
    let (
        common::Prepared {
            db,
            now,
            rt,
            admin_id,
        },
        world,
        driver_id,
    ) = common::park::set_up(&url);

    eprintln!("loading {lots} lots and {per_day} pickups a day and category into {backend} …");
    let started = Instant::now();
    let mut conn = db.get().unwrap();
    let loaded = load(&mut conn, &world, &admin_id, &driver_id, lots, per_day, now);
    let middle = load_history(&mut conn, &world, &admin_id, lots, &loaded, now);
    drop(conn);
    let load_time = started.elapsed();
    drop(db);
    let pickups = loaded.pickup_count();
    let mut by_id: Vec<(&str, &str)> = loaded
        .pickups
        .iter()
        .flatten()
        .map(|p| (p.request.as_str(), p.manifest.as_str()))
        .collect();
    by_id.sort();
    let (middle_request, _) = by_id[by_id.len() / 2];
    let mut manifest_ids: Vec<&str> = by_id.iter().map(|(_, m)| *m).collect();
    manifest_ids.sort();
    let middle_manifest = manifest_ids[manifest_ids.len() / 2];
    let some_number = &loaded.pickups[0][loaded.pickups[0].len() / 2].number;

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let server = rt.block_on(start_server(&url, port, &[("WASTETRACK_WORKERS", "1")]));
    let mut report = String::new();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let office = login(&client, &base, "office", PASSWORD).await;
        let dispatch = login(&client, &base, "dispatch", PASSWORD).await;
        let enterprise = login(&client, &base, "enterprise", PASSWORD).await;
        let inspector = login(&client, &base, "inspector", PASSWORD).await;
        let driver = login(&client, &base, "driver", PASSWORD).await;
        let endpoint = &middle.endpoint;
        let tz = chrono_tz::Asia::Shanghai;
        let day = (now - chrono::Duration::days(365)).with_timezone(&tz).date_naive();
        let park = &world.park;
        let today = now.with_timezone(&tz).date_naive();
        let middle_lot = cursor(&id("lot", (now - chrono::Duration::days(DAYS / 2)).naive_utc(), 0));
        let queries: Vec<(&str, &str, String, &String)> = vec![
            ("lots", "first page", "lots".into(), &office),
            ("lots", "page in the middle", format!("lots?cursor={middle_lot}"), &office),
            ("lots", "the enterprise's own", "lots".into(), &enterprise),
            ("manifests", "first page", "manifests".into(), &office),
            ("manifests", "page in the middle", format!("manifests?cursor={}", cursor(middle_manifest)), &office),
            ("manifests", "status=completed", "manifests?status=completed".into(), &office),
            ("manifests", "status=in_transit (none)", "manifests?status=in_transit".into(), &office),
            ("manifests", "flagged=true (none)", "manifests?flagged=true".into(), &office),
            ("manifests", "waste_code", "manifests?waste_code=900-041-49".into(), &office),
            ("manifests", "number (exact)", format!("manifests?number={some_number}"), &office),
            ("manifests", "party = an enterprise", format!("manifests?party={}", world.enterprises[5]), &office),
            ("manifests", "one day, a year ago", format!("manifests?from={day}&to={day}"), &office),
            ("manifests", "the enterprise's own", "manifests".into(), &enterprise),
            ("manifests", "the disposer's", "manifests".into(), &dispatch),
            ("manifests", "the driver's", "manifests".into(), &driver),
            ("manifests", "the inspector's (jurisdiction)", "manifests".into(), &inspector),
            ("pickup requests", "first page", "pickup-requests".into(), &office),
            ("pickup requests", "page in the middle", format!("pickup-requests?cursor={}", cursor(middle_request)), &office),
            ("pickup requests", "status=collected", "pickup-requests?status=collected".into(), &office),
            ("pickup requests", "open=true (none)", "pickup-requests?open=true".into(), &office),
            ("pickup requests", "the enterprise's own", "pickup-requests".into(), &enterprise),
            ("pickup requests", "the disposer's", "pickup-requests".into(), &dispatch),
            ("statements", "first page", "statements".into(), &office),
            ("statements", "page in the middle", format!("statements?cursor={}", cursor(&middle.statement)), &office),
            ("statements", "the enterprise's own", "statements".into(), &enterprise),
            ("inbox", "first page (park office)", "inbox".into(), &office),
            ("inbox", "page in the middle", format!("inbox?cursor={}", cursor(&middle.message)), &office),
            ("inbox", "unread", "inbox?unread=true".into(), &office),
            ("inbox", "the enterprise's", "inbox".into(), &enterprise),
            ("webhook deliveries", "first page", format!("webhooks/{endpoint}/deliveries"), &office),
            ("webhook deliveries", "page in the middle", format!("webhooks/{endpoint}/deliveries?cursor={}", cursor(&middle.delivery)), &office),
            ("audit entries", "first page (park office)", "audit/entries".into(), &office),
            ("audit entries", "page in the middle", format!("audit/entries?cursor={}", cursor(&(AUDIT_FROM + lots / 2).to_string())), &office),
            ("audit entries", "the inspector's", "audit/entries".into(), &inspector),
            ("park ledger", "lines of the last 30 days", format!("parks/{park}/ledger/lines?kind=hazardous&from={}&to={today}", today - chrono::Duration::days(29)), &office),
        ];
        writeln!(
            report,
            "\n{lots} lots, {pickups} pickups and manifests on {backend}; loaded in {:.0} s; {iterations} requests per query after 3, pages of 50\n",
            load_time.as_secs_f64()
        )
        .unwrap();
        writeln!(report, "| list | query | items | p50 ms | p95 ms | max ms |").unwrap();
        writeln!(report, "|---|---|---:|---:|---:|---:|").unwrap();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        for (list, name, path, token) in &queries {
            let (times, items) =
                time_get(&client, &format!("{base}/api/v1/{path}"), token, iterations).await;
            writeln!(
                report,
                "| {list} | {name} | {items} | {:.1} | {:.1} | {:.1} |",
                ms(percentile(&times, 0.5)),
                ms(percentile(&times, 0.95)),
                ms(*times.last().unwrap())
            )
            .unwrap();
            eprintln!("  {list}: {name} done");
        }
        for (name, path) in [("one manifest", format!("manifests/{middle_manifest}")), ("one pickup request", format!("pickup-requests/{middle_request}"))] {
            let (times, _) = time_get(&client, &format!("{base}/api/v1/{path}"), &office, iterations).await;
            writeln!(
                report,
                "| {name} | by id | 1 | {:.1} | {:.1} | {:.1} |",
                ms(percentile(&times, 0.5)),
                ms(percentile(&times, 0.95)),
                ms(*times.last().unwrap())
            )
            .unwrap();
        }
    });
    drop(server);
    println!("{report}");
}
