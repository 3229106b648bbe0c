//! The manifest as the national electronic transfer manifest asks for it (全国固体废物管理信息系统,
//! 危险废物电子转移联单): every field in the order of the national form's three parts (移出,
//! 运输, 接受), so that the consignor files it by copying, not retyping. A field the service does
//! not hold is listed with no value and named in `missing`, so the consignor knows what to add
//! by hand.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::DbConn;
use crate::db::schema::{disposers, enterprises, lot_label_texts, lots, manifest_lots};
use crate::domain::billing::tonnes;
use crate::domain::ids::ManifestId;
use crate::error::ApiError;
use crate::manifests::service::{self, ManifestView};
use crate::manifests::words::{forms_zh, local, zh};
use crate::registry::parks::service as parks;

/// One field of the national form.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FilingField {
    /// The part of the form: `移出信息`, `运输信息` or `接受信息`.
    pub part: &'static str,
    /// The field's name on the national form.
    pub field: &'static str,
    /// Its content, as the form wants it (weights in tonnes with six decimals, times in the
    /// park's time zone); absent when the service does not hold it (yet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "manifest_id": "man_0193f1c2a4b87d21a1c6e1f0b2d3c900",
    "number": "WT-20264403-000001",
    "time_zone": "Asia/Shanghai",
    "fields": [
        {"part": "移出信息", "field": "移出人名称", "value": "龙岗绿色科技园区管理处"},
        {"part": "移出信息", "field": "移出量（吨）", "value": "2.080000"},
        {"part": "运输信息", "field": "车牌号", "value": "粤B3H521"},
        {"part": "接受信息", "field": "接受量（吨）"}
    ],
    "missing": ["接受量（吨）"]
}))]
pub struct FilingView {
    #[schema(value_type = String)]
    pub manifest_id: ManifestId,
    pub number: String,
    /// The park's time zone, in which the times are given.
    pub time_zone: String,
    pub fields: Vec<FilingField>,
    /// The fields with no value: not held by the service, or not yet known (a receipt not yet
    /// signed).
    pub missing: Vec<&'static str>,
}

fn signed_at(m: &ManifestView, step: &str, tz: Tz) -> Option<String> {
    m.signatures
        .iter()
        .find(|s| s.step == step)
        .map(|s| local(s.at, tz))
}

fn non_empty(s: &str) -> Option<String> {
    (!s.trim().is_empty()).then(|| s.to_owned())
}

/// What the form asks that the manifest view does not carry.
struct Extra {
    departure_address: Option<String>,
    consignor_contact: Option<(String, String)>,
    receiver_address: Option<String>,
    containers: i64,
    harmful_components: Vec<String>,
}

fn extra(
    conn: &mut DbConn,
    m: &ManifestView,
    park: &crate::registry::parks::store::ParkRow,
) -> Result<Extra, ApiError> {
    let receiver_address = disposers::table
        .find(&m.receiver.organization_id)
        .select(disposers::address)
        .first::<String>(conn)
        .optional()?;
    let consignor_contact = enterprises::table
        .find(&m.consignor.organization_id)
        .select((enterprises::contact_name, enterprises::contact_phone))
        .first::<(String, String)>(conn)
        .optional()?;
    let mut containers = 0_i64;
    let mut harmful_components: Vec<String> = Vec::new();
    for (count, harmful) in manifest_lots::table
        .inner_join(lots::table.on(lots::id.eq(manifest_lots::lot_id)))
        .left_join(lot_label_texts::table.on(lot_label_texts::lot_id.eq(lots::id)))
        .filter(manifest_lots::manifest_id.eq(&m.id))
        .select((
            lots::container_count,
            lot_label_texts::harmful_components.nullable(),
        ))
        .load::<(i32, Option<String>)>(conn)?
    {
        containers = containers.saturating_add(i64::from(count));
        if let Some(h) = harmful.filter(|h| !h.trim().is_empty())
            && !harmful_components.contains(&h)
        {
            harmful_components.push(h);
        }
    }
    Ok(Extra {
        departure_address: non_empty(&park.address),
        consignor_contact,
        receiver_address: receiver_address.as_deref().and_then(non_empty),
        containers,
        harmful_components,
    })
}

/// The filing of a manifest: for those who read it whole (an enterprise only when it is the
/// consignor: the filing names every lot's harmful components).
pub fn filing(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    principal: &Principal,
    id: &ManifestId,
    tolerance_percent: i64,
) -> Result<FilingView, ApiError> {
    let row = service::load_readable(conn, principal, id)?;
    crate::auth::policy::reads_filing(principal, &row.consignor_id)?;
    let park = parks::load_park(conn, &row.park_id)?;
    let tz = parks::park_time_zone(&park.park);
    let m = service::view(conn, now, &row, tolerance_percent, None)?;
    let extra = extra(conn, &m, &park.park)?;
    let fields = fields(&m, &extra, tz);
    let missing = fields
        .iter()
        .filter(|f| f.value.is_none())
        .map(|f| f.field)
        .collect();
    Ok(FilingView {
        manifest_id: m.id,
        number: m.number,
        time_zone: tz.name().to_owned(),
        fields,
        missing,
    })
}

const OUT: &str = "移出信息";
const CARRY: &str = "运输信息";
const IN: &str = "接受信息";

fn fields(m: &ManifestView, x: &Extra, tz: Tz) -> Vec<FilingField> {
    let f = |part, field, value: Option<String>| FilingField { part, field, value };
    let hazardous = m.kind == "hazardous";
    let mut out = vec![
        f(OUT, "联单编号", m.official_number.clone()),
        f(OUT, "本系统跟踪编号", Some(m.number.clone())),
        f(OUT, "移出人名称", Some(m.consignor.name.clone())),
        f(OUT, "移出人统一社会信用代码", m.consignor.uscc.clone()),
        f(
            OUT,
            "移出人地址",
            if m.consignor_type == "park_warehouse" {
                x.departure_address.clone()
            } else {
                None
            },
        ),
        f(
            OUT,
            "联系人",
            x.consignor_contact.as_ref().map(|c| c.0.clone()),
        ),
        f(
            OUT,
            "联系电话",
            x.consignor_contact.as_ref().map(|c| c.1.clone()),
        ),
    ];
    if m.consignor_type == "park_warehouse" {
        out.push(f(
            OUT,
            "危险废物收集经营许可证编号",
            m.consignor.permit.clone(),
        ));
    }
    out.extend([
        f(OUT, "废物名称", non_empty(&m.waste_name)),
        f(OUT, "废物代码", Some(m.waste_code.clone())),
        f(OUT, "废物类别", Some(m.category.clone())),
        f(
            OUT,
            "危险特性",
            (hazardous && !m.characteristics.is_empty()).then(|| m.characteristics.join(",")),
        ),
        f(OUT, "形态", Some(forms_zh(&m.physical_form))),
        f(
            OUT,
            "有害成分名称",
            (!x.harmful_components.is_empty()).then(|| x.harmful_components.join("；")),
        ),
        f(OUT, "包装方式", non_empty(&m.packaging)),
        f(OUT, "包装数量", Some(x.containers.to_string())),
        f(
            OUT,
            "移出量（吨）",
            Some(tonnes(m.mass_balance.outbound_grams)),
        ),
        f(OUT, "应急措施", non_empty(&m.emergency_measures)),
        f(OUT, "运输起点", x.departure_address.clone()),
        f(OUT, "运输终点", x.receiver_address.clone()),
        f(OUT, "移出人确认时间", signed_at(m, "confirm", tz)),
        f(CARRY, "承运人名称", Some(m.carrier.name.clone())),
        f(CARRY, "承运人统一社会信用代码", m.carrier.uscc.clone()),
        f(CARRY, "道路运输经营许可证号", m.carrier.permit.clone()),
        f(CARRY, "运输工具", Some("汽车".to_owned())),
        f(
            CARRY,
            "车牌号",
            m.vehicle["plate"].as_str().map(str::to_owned),
        ),
        f(
            CARRY,
            "道路危险货物运输证号",
            m.vehicle["permit"].as_str().and_then(non_empty),
        ),
        f(
            CARRY,
            "驾驶员",
            m.driver["name"].as_str().and_then(non_empty),
        ),
        f(CARRY, "承运人接收时间", signed_at(m, "take_over", tz)),
        f(IN, "接受人名称", Some(m.receiver.name.clone())),
        f(IN, "接受人统一社会信用代码", m.receiver.uscc.clone()),
        f(IN, "危险废物经营许可证编号", m.receiver.permit.clone()),
        f(IN, "接受人地址", x.receiver_address.clone()),
        f(IN, "运抵时间", m.arrived_at.map(|a| local(a, tz))),
        f(
            IN,
            "接受量（吨）",
            m.mass_balance.received_grams.map(tonnes),
        ),
        f(
            IN,
            "接受意见",
            m.decision.as_deref().map(|d| zh(d).to_owned()),
        ),
        f(IN, "拒收量（吨）", m.refused_grams.map(tonnes)),
        f(IN, "利用处置方式", m.treatment.clone()),
        f(IN, "接受时间", signed_at(m, "receive", tz)),
    ]);
    out
}
