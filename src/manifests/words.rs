//! Stored words of manifests (states, decisions, steps, roles, forms, packaging, hazard
//! characteristics) in Chinese, for the print page, the filing and the exports.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::lot::{ContainerType, PhysicalForm};
use crate::domain::waste::parse_characteristics;
use crate::lots::labels::characteristic_zh;

/// The Chinese word for a stored state, decision, step or role; the stored word itself when
/// there is none.
pub fn zh(word: &str) -> &str {
    match word {
        // Manifest states.
        "draft" => "待移出人确认",
        "confirmed" => "移出人已确认",
        "in_transit" => "运输中",
        "received" => "接受人已接收",
        "completed" => "利用处置完毕",
        // Kinds.
        "hazardous" => "危险废物",
        "general" => "一般工业固体废物",
        // Decisions and cases.
        "accepted" => "接受",
        "partially_refused" => "部分拒收",
        "refused" => "拒收",
        "open" => "待处理",
        "resolved" => "已处理",
        // Steps.
        "confirm" => "移出人确认",
        "take_over" => "承运人接收",
        "arrival" => "运抵",
        "receive" => "接受人接收",
        "complete" => "利用处置完毕",
        "resolve" => "拒收处理",
        "revise" => "联单修改",
        "official_number" => "录入全国系统联单编号",
        // Resolutions of a refusal.
        "return" => "退回移出人",
        "forward" => "转至其他接受人",
        // Consignors.
        "park_warehouse" => "园区贮存库（收集单位）",
        "enterprise" => "产废企业",
        // Roles.
        "park_office" => "园区管理处",
        "enterprise_user" => "产废企业",
        "disposer_dispatcher" => "利用处置单位",
        "driver" => "驾驶员",
        "inspector" => "生态环境主管部门",
        "platform_admin" => "平台管理员",
        other => other,
    }
}

/// Physical forms in Chinese: the stored forms are joined by ", ".
pub fn forms_zh(forms: &str) -> String {
    forms
        .split(", ")
        .map(|f| PhysicalForm::parse_stored(f).map_or(f, |p| p.label_zh()))
        .collect::<Vec<_>>()
        .join("、")
}

/// Packaging in Chinese: the stored text is `type × count` joined by "; ".
pub fn packaging_zh(packaging: &str) -> String {
    packaging
        .split("; ")
        .map(|part| match part.split_once(" × ") {
            Some((t, n)) => format!(
                "{} {n} 件",
                ContainerType::parse_stored(t).map_or(t, |c| c.label_zh())
            ),
            None => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("，")
}

/// An instant as the park reads it: its day and minute in the park's time zone.
pub fn local(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

pub fn characteristics_zh(codes: &[String]) -> String {
    parse_characteristics("", &codes.join(","))
        .map(|set| {
            set.into_iter()
                .map(|c| format!("{}（{}）", characteristic_zh(c), c.as_str()))
                .collect::<Vec<_>>()
                .join("、")
        })
        .unwrap_or_else(|_| codes.join("、"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tonnes_are_exact_for_every_value() {
        use crate::domain::billing::tonnes;
        assert_eq!(tonnes(2_080_000), "2.080000");
        assert_eq!(tonnes(1), "0.000001");
        assert_eq!(tonnes(-1), "-0.000001");
        assert_eq!(tonnes(i64::MIN), "-9223372036854.775808");
    }

    #[test]
    fn stored_words_print_in_chinese() {
        assert_eq!(forms_zh("liquid, solid"), "液态、固态");
        assert_eq!(packaging_zh("drum × 7; bag × 2"), "桶 7 件，袋 2 件");
        assert_eq!(zh("in_transit"), "运输中");
        assert_eq!(zh("something_new"), "something_new");
        assert_eq!(
            characteristics_zh(&["T".to_owned(), "I".to_owned()]),
            "毒性（T）、易燃性（I）"
        );
    }
}
