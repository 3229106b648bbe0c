//! Statements and remittances as CSV and as Excel workbooks, with Chinese column headers and
//! amounts in yuan to two decimals. All amounts are computed in integer fen; only here, at the
//! edge, are they written as yuan (CSV: the exact decimal text; Excel: a number shown with two
//! decimals, exact for any amount below ¥90 trillion).

use rust_xlsxwriter::{Format, Workbook};

use crate::billing::service::{RemittanceView, StatementView};
use crate::domain::billing::{kilograms, yuan};
use crate::domain::units::total;
use crate::error::ApiError;

/// A table to export: headers, then rows of cells.
struct Table {
    title: String,
    headers: Vec<&'static str>,
    rows: Vec<Vec<Cell>>,
}

enum Cell {
    Text(String),
    Fen(i64),
    Grams(i64),
}

fn statement_table(s: &StatementView) -> Result<Table, ApiError> {
    let mut rows: Vec<Vec<Cell>> = s
        .lines
        .iter()
        .map(|l| {
            vec![
                Cell::Text("明细".to_owned()),
                Cell::Text(l.lot_id.to_string()),
                Cell::Text(l.waste_code.clone()),
                Cell::Text(l.billable_on.to_string()),
                Cell::Grams(l.grams),
                Cell::Fen(l.fen_per_tonne),
                Cell::Fen(l.amount_fen),
            ]
        })
        .collect();
    for t in &s.totals_by_code {
        rows.push(vec![
            Cell::Text("小计".to_owned()),
            Cell::Text(String::new()),
            Cell::Text(t.waste_code.clone()),
            Cell::Text(String::new()),
            Cell::Grams(t.grams),
            Cell::Text(String::new()),
            Cell::Fen(t.amount_fen),
        ]);
    }
    rows.push(vec![
        Cell::Text("合计".to_owned()),
        Cell::Text(String::new()),
        Cell::Text(String::new()),
        Cell::Text(String::new()),
        Cell::Grams(total(s.lines.iter().map(|l| l.grams))?),
        Cell::Text(String::new()),
        Cell::Fen(s.total_fen),
    ]);
    for n in &s.notes {
        rows.push(vec![
            Cell::Text(
                if n.amount_fen < 0 {
                    "贷项通知"
                } else {
                    "借项通知"
                }
                .to_owned(),
            ),
            Cell::Text(
                n.lot_id
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ),
            Cell::Text(n.reason.clone()),
            Cell::Text(n.created_at.date_naive().to_string()),
            Cell::Text(String::new()),
            Cell::Text(String::new()),
            Cell::Fen(n.amount_fen),
        ]);
    }
    rows.push(vec![
        Cell::Text("应付".to_owned()),
        Cell::Text(String::new()),
        Cell::Text(String::new()),
        Cell::Text(s.due_on.to_string()),
        Cell::Text(String::new()),
        Cell::Text(String::new()),
        Cell::Fen(s.amount_due_fen),
    ]);
    Ok(Table {
        title: format!("对账单 {}", s.number),
        headers: vec![
            "类型",
            "批次编号",
            "废物代码",
            "计费日期",
            "重量（千克）",
            "单价（元/吨）",
            "金额（元）",
        ],
        rows,
    })
}

fn remittance_table(r: &RemittanceView) -> Table {
    let mut rows: Vec<Vec<Cell>> = r
        .lines
        .iter()
        .map(|l| {
            vec![
                Cell::Text(l.enterprise_name.clone()),
                Cell::Text(l.statement_number.clone()),
                Cell::Fen(l.billed_fen),
                Cell::Fen(l.collected_fen),
                Cell::Fen(l.outstanding_fen),
            ]
        })
        .collect();
    rows.push(vec![
        Cell::Text("合计".to_owned()),
        Cell::Text(String::new()),
        Cell::Fen(r.billed_fen),
        Cell::Fen(r.collected_fen),
        Cell::Fen(r.outstanding_fen),
    ]);
    Table {
        title: format!("结算单 {}", r.period),
        headers: vec!["企业", "对账单号", "应收（元）", "已收（元）", "未收（元）"],
        rows,
    }
}

fn csv(table: &Table) -> Result<Vec<u8>, ApiError> {
    // A byte-order mark, so that Excel opens the UTF-8 (Chinese) text as such.
    let mut w = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
    let err = |e: csv::Error| ApiError::Internal(e.into());
    w.write_record(&table.headers).map_err(err)?;
    for row in &table.rows {
        let cells: Vec<String> = row
            .iter()
            .map(|c| match c {
                // Text that a spreadsheet would run as a formula is kept as text.
                Cell::Text(t) => crate::domain::text::spreadsheet_text(t),
                Cell::Fen(f) => yuan(*f),
                Cell::Grams(g) => kilograms(*g),
            })
            .collect();
        w.write_record(&cells).map_err(err)?;
    }
    w.into_inner()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("writing CSV: {e}")))
}

#[allow(clippy::cast_precision_loss)]
fn xlsx(table: &Table) -> Result<Vec<u8>, ApiError> {
    let err =
        |e: rust_xlsxwriter::XlsxError| ApiError::Internal(anyhow::anyhow!("writing xlsx: {e}"));
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet
        .set_name(
            table
                .title
                .chars()
                .take(31)
                .collect::<String>()
                .replace(['/', ':'], "-"),
        )
        .map_err(err)?;
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("0.00");
    let weight = Format::new().set_num_format("0.000");
    for (col, header) in table.headers.iter().enumerate() {
        let col = u16::try_from(col).unwrap_or(u16::MAX);
        sheet
            .write_string_with_format(0, col, *header, &bold)
            .map_err(err)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
        for (c, cell) in row.iter().enumerate() {
            let c = u16::try_from(c).unwrap_or(u16::MAX);
            match cell {
                Cell::Text(t) => {
                    sheet.write_string(r, c, t).map_err(err)?;
                }
                // Integer fen and grams become numbers only here, for display.
                Cell::Fen(f) => {
                    sheet
                        .write_number_with_format(r, c, *f as f64 / 100.0, &money)
                        .map_err(err)?;
                }
                Cell::Grams(g) => {
                    sheet
                        .write_number_with_format(r, c, *g as f64 / 1000.0, &weight)
                        .map_err(err)?;
                }
            }
        }
    }
    book.save_to_buffer().map_err(err)
}

pub fn statement_csv(s: &StatementView) -> Result<Vec<u8>, ApiError> {
    csv(&statement_table(s)?)
}

pub fn statement_xlsx(s: &StatementView) -> Result<Vec<u8>, ApiError> {
    xlsx(&statement_table(s)?)
}

pub fn remittance_csv(r: &RemittanceView) -> Result<Vec<u8>, ApiError> {
    csv(&remittance_table(r))
}

pub fn remittance_xlsx(r: &RemittanceView) -> Result<Vec<u8>, ApiError> {
    xlsx(&remittance_table(r))
}
