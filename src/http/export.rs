//! Streamed CSV and Excel downloads of long tables (ledgers, lot and manifest lists): rows are
//! read from the database a page at a time and written out as they come, so that a year of a
//! large park exports with flat memory.
//!
//! - CSV: UTF-8 with a byte-order mark (so that Excel reads the Chinese headers as such), sent
//!   page by page as the response body.
//! - xlsx: written with `rust_xlsxwriter` in constant-memory mode (each row goes to a temporary
//!   file as it is written) into an anonymous temporary file, which is then sent in chunks. A
//!   sheet holds at most 1 048 576 rows; the rows go on in further sheets.
//!
//! Weights are integer grams until here: CSV writes them as kilograms with exactly three
//! decimals (decimal text computed from the integer); Excel gets a number shown with three
//! decimals. Text that a spreadsheet would run as a formula is written as text
//! ([`crate::domain::text::spreadsheet_text`]), the rule of the billing exports too.

use std::io::{Read, Seek, SeekFrom};

use actix_web::HttpResponse;
use actix_web::web::Bytes;
use futures_util::{StreamExt, stream};
use rust_xlsxwriter::{Format, Workbook};
use tokio::sync::mpsc;

use crate::db::{Db, DbConn, read_snapshot};
use crate::domain::billing::kilograms;
use crate::domain::text::spreadsheet_text;
use crate::error::ApiError;

pub const CSV: &str = "text/csv; charset=utf-8";
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Rows read per round trip to the database.
pub const PAGE_ROWS: i64 = 1000;

/// The next page of an export, read as a list page of `PAGE_ROWS` (whose query reads one row
/// more to tell whether more follow): the page's rows, and whether it was the last.
pub fn page_of<R>(
    read: impl FnOnce(&crate::http::pagination::PageRequest) -> Result<Vec<R>, ApiError>,
    after: Option<String>,
) -> Result<(Vec<R>, bool), ApiError> {
    let mut rows = read(&crate::http::pagination::PageRequest {
        limit: PAGE_ROWS,
        after,
    })?;
    let page = usize::try_from(PAGE_ROWS).unwrap_or(usize::MAX);
    let last = rows.len() <= page;
    rows.truncate(page);
    Ok((rows, last))
}
/// Rows of one Excel sheet, its header included.
const SHEET_ROWS: u32 = 1_048_576;
/// Bytes of the xlsx file sent per chunk.
const CHUNK_BYTES: usize = 64 * 1024;

/// One cell of an exported row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    /// Grams, written as kilograms with three decimals.
    Grams(i64),
    /// A count (lots, containers).
    Count(i64),
    Empty,
}

impl Cell {
    pub fn text(t: impl Into<String>) -> Self {
        Cell::Text(t.into())
    }

    pub fn opt(t: Option<impl Into<String>>) -> Self {
        t.map_or(Cell::Empty, |t| Cell::Text(t.into()))
    }
}

/// A source of rows, read page by page on a blocking thread with a database connection.
pub trait Pages: Send + 'static {
    /// The next rows; `None` once every row has been given.
    fn next_page(&mut self, conn: &mut DbConn) -> Result<Option<Vec<Vec<Cell>>>, ApiError>;
}

/// What is exported: the file's name, the sheet's title and the column headers (in Chinese,
/// with their units).
pub struct Export {
    pub file_name: String,
    pub sheet: String,
    pub headers: Vec<&'static str>,
}

pub fn attachment(content_type: &str, file_name: &str) -> actix_web::HttpResponseBuilder {
    let mut builder = HttpResponse::Ok();
    builder.content_type(content_type).insert_header((
        "content-disposition",
        format!("attachment; filename=\"{file_name}\""),
    ));
    builder
}

pub fn csv_line(cells: &[Cell]) -> Result<Vec<u8>, ApiError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let record: Vec<String> = cells
        .iter()
        .map(|c| match c {
            Cell::Text(t) => spreadsheet_text(t),
            Cell::Grams(g) => kilograms(*g),
            Cell::Count(n) => n.to_string(),
            Cell::Empty => String::new(),
        })
        .collect();
    w.write_record(&record)
        .map_err(|e| ApiError::Internal(e.into()))?;
    w.into_inner()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("writing CSV: {e}")))
}

/// How long an export waits for its client to take the next page before it stops, letting go
/// of its connection and its snapshot.
const STALLED_CLIENT: std::time::Duration = std::time::Duration::from_secs(60);

/// What the reading side hands to the response: a page of rows, the end of the rows, or the
/// error that ended them. A channel that closes without `End` or `Failed` is an export cut
/// short (its client stalled), never a complete one.
enum Msg {
    Rows(Vec<Vec<Cell>>),
    End,
    Failed(ApiError),
}

/// Hands `msg` over unless the client has gone or takes nothing for [`STALLED_CLIENT`].
fn hand_over(handle: &tokio::runtime::Handle, tx: &mpsc::Sender<Msg>, msg: Msg) -> bool {
    matches!(
        handle.block_on(tokio::time::timeout(STALLED_CLIENT, tx.send(msg))),
        Ok(Ok(()))
    )
}

/// Reads every page of `pages` on one connection in one read snapshot ([`read_snapshot`]), so
/// that an export is the database as of one instant however long it takes (a ledger's summary
/// adds up to exactly the lines it lists), and hands each page over as the client takes them,
/// at most two pages ahead. The reading stops when the client has gone or stalls for
/// [`STALLED_CLIENT`]. At most [`Db::export_turn`]'s number of exports read at once; the turn
/// is held by the reading itself, until it ends.
async fn snapshot_pages<P: Pages>(db: &Db, pages: P) -> Result<mpsc::Receiver<Msg>, ApiError> {
    let turn = db.export_turn().await?;
    let (tx, rx) = mpsc::channel::<Msg>(2);
    let handle = tokio::runtime::Handle::current();
    let db = db.clone();
    // Told the reading could not start (no turn for it in time: 503), rather than left to find
    // the channel closed, which would read as an export cut short.
    let unstarted = tx.clone();
    actix_web::rt::spawn(async move {
        let read = db
            .run(move |conn| {
                let _turn = turn;
                let result = read_snapshot(conn, |conn| {
                    let mut pages = pages;
                    while let Some(rows) = pages.next_page(conn)? {
                        if !hand_over(&handle, &tx, Msg::Rows(rows)) {
                            tracing::info!("export stopped: the client has gone or stalled");
                            return Ok(());
                        }
                    }
                    hand_over(&handle, &tx, Msg::End);
                    Ok(())
                });
                if let Err(e) = result {
                    tracing::error!(error = %e, "export stopped");
                    hand_over(&handle, &tx, Msg::Failed(e));
                }
                Ok(())
            })
            .await;
        if let Err(e) = read {
            tracing::error!(error = %e, "export could not start");
            let _ = unstarted.send(Msg::Failed(e)).await;
        }
    });
    Ok(rx)
}

/// The next page of rows: `None` at the end; an error when the reading failed or was cut short.
async fn next_rows(rx: &mut mpsc::Receiver<Msg>) -> Option<Result<Vec<Vec<Cell>>, ApiError>> {
    match rx.recv().await {
        Some(Msg::Rows(rows)) => Some(Ok(rows)),
        Some(Msg::End) => None,
        Some(Msg::Failed(e)) => Some(Err(e)),
        None => Some(Err(ApiError::Internal(anyhow::anyhow!(
            "the export stopped before its end"
        )))),
    }
}

fn csv_rows(rows: &[Vec<Cell>], bytes: &mut Vec<u8>) -> Result<(), ApiError> {
    for row in rows {
        bytes.extend(csv_line(row)?);
    }
    Ok(())
}

/// A CSV download, streamed: the byte-order mark, the header line and the first page of rows
/// (read before the response starts, so that an error there is answered as a problem
/// document), then each further page as the database gives it. An error after the first bytes,
/// or a reading cut short, ends the body with an error: the connection is aborted and the
/// client sees a failed download, never a complete-looking one with rows missing.
pub async fn csv_response<P: Pages>(
    db: &Db,
    export: Export,
    pages: P,
) -> Result<HttpResponse, ApiError> {
    let headers: Vec<Cell> = export.headers.iter().map(|h| Cell::text(*h)).collect();
    let mut rx = snapshot_pages(db, pages).await?;
    let mut first = "\u{feff}".as_bytes().to_vec();
    first.extend(csv_line(&headers)?);
    let more = match next_rows(&mut rx).await.transpose()? {
        Some(rows) => {
            csv_rows(&rows, &mut first)?;
            Some(rx)
        }
        None => None,
    };
    let head = stream::once(async move { Ok::<_, ApiError>(Bytes::from(first)) });
    let rest = stream::unfold(more, |rx| async move {
        let mut rx = rx?;
        let page = next_rows(&mut rx).await?;
        let mut bytes = Vec::new();
        match page.and_then(|rows| csv_rows(&rows, &mut bytes)) {
            Ok(()) => Some((Ok(Bytes::from(bytes)), Some(rx))),
            Err(e) => Some((Err(e), None)),
        }
    });
    Ok(attachment(CSV, &export.file_name).streaming(head.chain(rest)))
}

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("writing xlsx: {e}"))
}

/// Writes every row into a workbook in constant-memory mode, saved to an anonymous temporary
/// file; returns the file, rewound.
fn write_workbook<P: Pages>(
    conn: &mut DbConn,
    sheet_title: &str,
    headers: &[&'static str],
    mut pages: P,
) -> Result<std::fs::File, ApiError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let weight = Format::new().set_num_format("0.000");
    let title: String = sheet_title
        .chars()
        .filter(|c| !matches!(c, '/' | '\\' | ':' | '*' | '?' | '[' | ']'))
        .take(26)
        .collect();
    let mut sheets = 0usize;
    let mut row = SHEET_ROWS;
    while let Some(rows) = pages.next_page(conn)? {
        for cells in rows {
            if row >= SHEET_ROWS {
                let sheet = book
                    .add_worksheet_with_constant_memory()
                    .map_err(xlsx_error)?;
                sheets += 1;
                let name = if sheets == 1 {
                    title.clone()
                } else {
                    format!("{title} {sheets}")
                };
                sheet.set_name(name).map_err(xlsx_error)?;
                for (col, header) in headers.iter().enumerate() {
                    let col = u16::try_from(col).unwrap_or(u16::MAX);
                    sheet
                        .write_string_with_format(0, col, *header, &bold)
                        .map_err(xlsx_error)?;
                }
                row = 1;
            }
            let sheet = book.worksheet_from_index(sheets - 1).map_err(xlsx_error)?;
            for (col, cell) in cells.iter().enumerate() {
                let col = u16::try_from(col).unwrap_or(u16::MAX);
                match cell {
                    Cell::Text(t) => {
                        sheet.write_string(row, col, t).map_err(xlsx_error)?;
                    }
                    // Integer grams become a number only here, for display.
                    #[allow(clippy::cast_precision_loss)]
                    Cell::Grams(g) => {
                        sheet
                            .write_number_with_format(row, col, *g as f64 / 1000.0, &weight)
                            .map_err(xlsx_error)?;
                    }
                    #[allow(clippy::cast_precision_loss)]
                    Cell::Count(n) => {
                        sheet
                            .write_number(row, col, *n as f64)
                            .map_err(xlsx_error)?;
                    }
                    Cell::Empty => {}
                }
            }
            row += 1;
        }
    }
    if sheets == 0 {
        let sheet = book
            .add_worksheet_with_constant_memory()
            .map_err(xlsx_error)?;
        sheet.set_name(title).map_err(xlsx_error)?;
        for (col, header) in headers.iter().enumerate() {
            let col = u16::try_from(col).unwrap_or(u16::MAX);
            sheet
                .write_string_with_format(0, col, *header, &bold)
                .map_err(xlsx_error)?;
        }
    }
    let mut file = tempfile::tempfile()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("temporary file for xlsx: {e}")))?;
    book.save_to_writer(&mut file).map_err(xlsx_error)?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(file)
}

/// An Excel download: the workbook is written to a temporary file first (an xlsx file is a ZIP
/// archive, complete only at its end), from one read snapshot, then sent in chunks.
pub async fn xlsx_response<P: Pages>(
    db: &Db,
    export: Export,
    pages: P,
) -> Result<HttpResponse, ApiError> {
    let sheet = export.sheet.clone();
    let headers = export.headers.clone();
    let turn = db.export_turn().await?;
    // The turn goes with the work, which runs to its end even if the client leaves.
    let file = db
        .run(move |conn| {
            let _turn = turn;
            read_snapshot(conn, |conn| write_workbook(conn, &sheet, &headers, pages))
        })
        .await?;
    let body = stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let read = actix_web::web::block(move || {
            let mut buf = vec![0u8; CHUNK_BYTES];
            let n = file.read(&mut buf)?;
            buf.truncate(n);
            Ok::<_, std::io::Error>((file, buf))
        })
        .await;
        match read {
            Ok(Ok((_, buf))) if buf.is_empty() => None,
            Ok(Ok((file, buf))) => Some((Ok::<_, ApiError>(Bytes::from(buf)), Some(file))),
            Ok(Err(e)) => Some((Err(ApiError::Internal(e.into())), None)),
            Err(e) => Some((Err(ApiError::Internal(anyhow::anyhow!("{e}"))), None)),
        }
    });
    Ok(attachment(XLSX, &export.file_name).streaming(body))
}
