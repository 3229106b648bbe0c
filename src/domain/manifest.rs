//! Rules of transfer manifests (《危险废物转移管理办法》, 2022): the number, the steps and who
//! signs them, the receipt deadline, the receiver's decision, the mass balance, and how one
//! outbound weighing is shared among the manifests of a trip.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::waste::Characteristic;
use crate::error::FieldError;

/// Highest serial of a city in a year (6 digits).
pub const MAX_SERIAL: i64 = 999_999;

/// Working days the receiver has to confirm receipt, from the day the waste arrived
/// (运抵之日起), counted on the working-day calendar ([`crate::domain::workdays`]).
pub const RECEIPT_WORKING_DAYS: u32 = 5;

/// Default days after the take-over day within which the waste must arrive: past them a
/// transfer not recorded as arrived is overdue.
pub const DEFAULT_TRANSPORT_DAYS: i64 = 3;

/// Default tolerance of the mass balance, in percent by weight (the US federal rule's 10 % for
/// bulk waste).
pub const DEFAULT_TOLERANCE_PERCENT: i64 = 10;

crate::domain::state::states! {
    /// Where a manifest is in its steps: `draft`, `confirmed` by the consignor, `in_transit`
    /// once the carrier took the waste over, `received`, `completed` once treated.
    pub enum ManifestStatus {
        Draft => "draft",
        Confirmed => "confirmed",
        InTransit => "in_transit",
        Received => "received",
        Completed => "completed",
    }
}

crate::domain::state::states! {
    /// The case a manifest's anomaly opened: `open` until the office resolves it, then
    /// `resolved`.
    pub enum CaseStatus {
        Open => "open",
        Resolved => "resolved",
    }
}

crate::domain::state::states! {
    /// A revision proposed after a signature: `pending` until every other signing party
    /// approved it (`applied`) or one rejected it (`rejected`).
    pub enum RevisionStatus {
        Pending => "pending",
        Applied => "applied",
        Rejected => "rejected",
    }
}

/// Emergency measures printed on a manifest, from the waste's hazard characteristics (a
/// default text the consignor may revise; general waste gets the general one).
pub fn emergency_measures(characteristics: &[Characteristic]) -> String {
    let mut lines =
        vec!["泄漏时隔离现场，收集泄漏物并装入完好容器；通知移出人、承运人和当地生态环境部门。"];
    for c in characteristics {
        lines.push(match c {
            Characteristic::T => "毒性：避免接触和吸入，佩戴防护手套、护目镜和防毒口罩。",
            Characteristic::C => "腐蚀性：穿戴耐腐蚀防护用品，溅及皮肤用大量清水冲洗。",
            Characteristic::I => "易燃性：远离火源和热源，禁止吸烟，备干粉或泡沫灭火器。",
            Characteristic::R => "反应性：避免与水、酸、氧化剂等接触，防止撞击和摩擦。",
            Characteristic::In => "感染性：密闭包装，避免破损，接触后消毒。",
        });
    }
    lines.join("\n")
}

/// The counter a number is drawn from: per kind, year and city of departure.
pub fn counter_prefix(hazardous: bool, year: i32, city: &str) -> String {
    if hazardous {
        format!("{year:04}{city}")
    } else {
        format!("G{year:04}{city}")
    }
}

/// The service's own tracking number of a manifest: `WT-`, the year (4 digits), the province
/// and prefecture-level city of the place of departure (2 + 2, GB/T 2260), `-`, then a 6-digit
/// serial per city and year, gap-free — `WT-20264403-000001`. A transfer record of general
/// waste has a `G` before the year (`WT-G20264403-000007`). The letters and dashes keep it from
/// being mistaken for the official 14-digit number the national information system assigns
/// when the manifest is filed there ([`parse_official_number`]), which is recorded beside it.
pub fn number(prefix: &str, serial: i64) -> Option<String> {
    (1..=MAX_SERIAL)
        .contains(&serial)
        .then(|| format!("WT-{prefix}-{serial:06}"))
}

/// The official number of an electronic transfer manifest, as the national (or provincial)
/// solid-waste information system assigns it (《危险废物转移管理办法》 2022): 14 digits — the
/// year (4), the province (2) and prefecture-level city (2) of the place of departure
/// (GB/T 2260), and a 6-digit serial per city and year, from 000001. Checked for shape, a
/// known province, a year from 2022 (when electronic numbering began) to 2099, and a serial
/// not 0; whether the system really issued it cannot be checked from here.
pub fn parse_official_number(field: &str, raw: &str) -> Result<String, FieldError> {
    let value = raw.trim();
    let shape = || {
        FieldError::new(
            field,
            "invalid",
            "must be the 14 digits the national system assigned: year (4), province and city \
             of departure (2 + 2), serial (6), e.g. 20264403000123",
        )
    };
    if value.len() != 14 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(shape());
    }
    let year: i32 = value[..4].parse().map_err(|_| shape())?;
    if !(2022..=2099).contains(&year) {
        return Err(FieldError::new(
            field,
            "invalid_year",
            "begins with a year from 2022 to 2099",
        ));
    }
    crate::domain::region::check_province(field, &value[4..6])?;
    if &value[8..] == "000000" {
        return Err(FieldError::new(
            field,
            "invalid_serial",
            "ends with a serial from 000001",
        ));
    }
    Ok(value.to_owned())
}

/// The steps of a manifest, in order, each signed by one party.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// The consignor confirms what leaves (draft → confirmed).
    Confirm,
    /// The carrier takes the waste over (confirmed → in_transit).
    TakeOver,
    /// The receiver records the quantity received and its decision (in_transit → received).
    Receive,
    /// The receiver records the treatment (received → completed).
    Complete,
}

/// Who signs a step: a party of the manifest. A disposal company collecting with its own fleet
/// is two parties, the carrier (through the manifest's driver) and the receiver (through its
/// dispatcher), so a party is never told by its organisation alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Consignor,
    Carrier,
    Receiver,
}

impl Party {
    /// Every party, in the order of the steps they sign.
    pub const ALL: [Self; 3] = [Self::Consignor, Self::Carrier, Self::Receiver];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Consignor => "consignor",
            Self::Carrier => "carrier",
            Self::Receiver => "receiver",
        }
    }

    pub fn parse_stored(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl Step {
    /// Every step, in order.
    pub const ALL: [Self; 4] = [Self::Confirm, Self::TakeOver, Self::Receive, Self::Complete];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirm => "confirm",
            Self::TakeOver => "take_over",
            Self::Receive => "receive",
            Self::Complete => "complete",
        }
    }

    /// The step a stored signature is of; `None` for the signatures that are not steps (a
    /// resolution, a revision proposed, approved or rejected).
    pub fn parse_stored(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|step| step.as_str() == s)
    }

    /// The status the manifest must be in, and the one it moves to.
    pub fn transition(self) -> (ManifestStatus, ManifestStatus) {
        match self {
            Self::Confirm => (ManifestStatus::Draft, ManifestStatus::Confirmed),
            Self::TakeOver => (ManifestStatus::Confirmed, ManifestStatus::InTransit),
            Self::Receive => (ManifestStatus::InTransit, ManifestStatus::Received),
            Self::Complete => (ManifestStatus::Received, ManifestStatus::Completed),
        }
    }

    pub fn party(self) -> Party {
        match self {
            Self::Confirm => Party::Consignor,
            Self::TakeOver => Party::Carrier,
            Self::Receive | Self::Complete => Party::Receiver,
        }
    }
}

/// The receiver's decision on what arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Accepted,
    PartiallyRefused,
    Refused,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::PartiallyRefused => "partially_refused",
            Self::Refused => "refused",
        }
    }

    pub fn parse_stored(s: &str) -> Option<Self> {
        match s {
            "accepted" => Some(Self::Accepted),
            "partially_refused" => Some(Self::PartiallyRefused),
            "refused" => Some(Self::Refused),
            _ => None,
        }
    }

    /// The refused grams this decision implies, checked against what was received: none when
    /// accepted, all when refused, some (more than 0, less than all) when partially refused.
    pub fn refused_grams(self, received: i64, refused: Option<i64>) -> Result<i64, &'static str> {
        match (self, refused) {
            (Self::Accepted, None | Some(0)) => Ok(0),
            (Self::Accepted, Some(_)) => Err("must be absent or 0 when the waste is accepted"),
            (Self::Refused, None) => Ok(received),
            (Self::Refused, Some(r)) if r == received => Ok(r),
            (Self::Refused, Some(_)) => Err("must equal received_grams when the waste is refused"),
            (Self::PartiallyRefused, Some(r)) if r > 0 && r < received => Ok(r),
            (Self::PartiallyRefused, _) => {
                Err("is required, more than 0 and less than received_grams, for a partial refusal")
            }
        }
    }
}

/// Whether `actual` differs from `expected` by more than `tolerance_percent` of `expected`.
fn beyond(expected: i64, actual: i64, tolerance_percent: i64) -> bool {
    let difference = (i128::from(actual) - i128::from(expected)).abs();
    difference * 100 > i128::from(expected.max(0)) * i128::from(tolerance_percent)
}

/// The mass balance of a manifest: the lots' inbound weights against the outbound weighing, and
/// the outbound weighing against what arrived at the receiver: what it accepted plus what it
/// refused (`received` is both; `refused` the part refused). Refused waste arrived: it is
/// weighed in the balance like the rest and never counts as a loss. Returns what is beyond the
/// tolerance, if anything; a finding on the receipt says how much of it was refused.
pub fn mass_balance(
    inbound: i64,
    outbound: i64,
    received: Option<i64>,
    refused: Option<i64>,
    tolerance_percent: i64,
) -> Option<String> {
    let mut findings = Vec::new();
    if beyond(inbound, outbound, tolerance_percent) {
        findings.push(format!(
            "outbound {outbound} g differs from the lots' inbound {inbound} g by more than {tolerance_percent} %"
        ));
    }
    if let Some(received) = received
        && beyond(outbound, received, tolerance_percent)
    {
        let refused = refused.unwrap_or(0);
        findings.push(if refused > 0 {
            format!(
                "received {received} g ({} g accepted + {refused} g refused) differs from outbound {outbound} g by more than {tolerance_percent} %",
                i128::from(received) - i128::from(refused)
            )
        } else {
            format!(
                "received {received} g differs from outbound {outbound} g by more than {tolerance_percent} %"
            )
        });
    }
    (!findings.is_empty()).then(|| findings.join("; "))
}

/// Shares `total` among parts in proportion to `weights`, in whole grams that add up to `total`
/// (largest remainders first; ties to the earlier part). Equal shares when all weights are 0.
pub fn allocate(total: i64, weights: &[i64]) -> Vec<i64> {
    if weights.is_empty() {
        return Vec::new();
    }
    let sum: i128 = weights.iter().map(|w| i128::from((*w).max(0))).sum();
    let n = weights.len();
    let exact: Vec<(i128, i128)> = weights
        .iter()
        .map(|w| {
            if sum == 0 {
                (i128::from(total) / n as i128, i128::from(total) % n as i128)
            } else {
                let product = i128::from(total) * i128::from((*w).max(0));
                (product / sum, product % sum)
            }
        })
        .collect();
    let mut shares: Vec<i128> = exact.iter().map(|(q, _)| *q).collect();
    let mut left = i128::from(total) - shares.iter().sum::<i128>();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| exact[*b].1.cmp(&exact[*a].1).then(a.cmp(b)));
    for i in order.iter().cycle() {
        if left <= 0 {
            break;
        }
        shares[*i] += 1;
        left -= 1;
    }
    // Each share lies between 0 and `total` (the weights are taken as 0 or more, and the
    // remainders handed out add up to what truncation left over), so it fits in an i64: the
    // fallback is never taken.
    shares
        .into_iter()
        .map(|s| i64::try_from(s).unwrap_or(i64::MAX))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_numbers_cannot_pass_for_official_ones() {
        let prefix = counter_prefix(true, 2026, "4403");
        assert_eq!(number(&prefix, 1).as_deref(), Some("WT-20264403-000001"));
        assert_eq!(
            number(&prefix, 999_999).as_deref(),
            Some("WT-20264403-999999")
        );
        assert_eq!(number(&prefix, 1_000_000), None);
        assert_eq!(number(&prefix, 0), None);
        assert_eq!(number(&prefix, i64::MIN), None);
        assert_eq!(
            number(&counter_prefix(false, 2026, "4403"), 7).as_deref(),
            Some("WT-G20264403-000007")
        );
        for serial in [1, 999_999] {
            let tracking = number(&prefix, serial).unwrap_or_default();
            assert!(parse_official_number("n", &tracking).is_err(), "{tracking}");
        }
    }

    #[test]
    fn official_numbers_are_checked_for_shape_province_year_and_serial() {
        assert_eq!(
            parse_official_number("n", " 20264403000123 ")
                .ok()
                .as_deref(),
            Some("20264403000123")
        );
        for (raw, code) in [
            ("2026440300012", "invalid"),
            ("202644030001234", "invalid"),
            ("2026440300012X", "invalid"),
            ("２０２６４４０３０００１２３", "invalid"),
            ("20214403000123", "invalid_year"),
            ("21004403000123", "invalid_year"),
            ("20269903000123", "unknown_province"),
            ("20264403000000", "invalid_serial"),
        ] {
            assert_eq!(
                parse_official_number("n", raw).err().map(|e| e.code),
                Some(code.to_owned()),
                "{raw}"
            );
        }
    }

    #[test]
    fn each_step_is_signed_by_one_party() {
        let signers: Vec<Party> = Step::ALL.into_iter().map(Step::party).collect();
        assert_eq!(
            signers,
            vec![
                Party::Consignor,
                Party::Carrier,
                Party::Receiver,
                Party::Receiver
            ]
        );
        for step in Step::ALL {
            assert_eq!(Step::parse_stored(step.as_str()), Some(step));
        }
        for party in Party::ALL {
            assert_eq!(Party::parse_stored(party.as_str()), Some(party));
        }
        assert_eq!(Step::parse_stored("approve_revision"), None);
        assert_eq!(
            Party::parse_stored("org_0193f1c2a4b87d21a1c6e1f0b2d3c4e5"),
            None
        );
    }

    #[test]
    fn the_steps_move_a_manifest_through_its_statuses_in_order() {
        let moves: Vec<(ManifestStatus, ManifestStatus)> =
            Step::ALL.into_iter().map(Step::transition).collect();
        let statuses = ManifestStatus::ALL;
        assert_eq!(moves.len() + 1, statuses.len());
        for (i, (from, to)) in moves.into_iter().enumerate() {
            assert_eq!((from, to), (statuses[i], statuses[i + 1]));
        }
    }

    #[test]
    fn decisions_imply_the_refused_quantity() {
        assert_eq!(Decision::Accepted.refused_grams(100, None), Ok(0));
        assert!(Decision::Accepted.refused_grams(100, Some(5)).is_err());
        assert_eq!(Decision::Refused.refused_grams(100, None), Ok(100));
        assert!(Decision::Refused.refused_grams(100, Some(5)).is_err());
        assert_eq!(
            Decision::PartiallyRefused.refused_grams(100, Some(5)),
            Ok(5)
        );
        assert!(
            Decision::PartiallyRefused
                .refused_grams(100, Some(100))
                .is_err()
        );
        assert!(Decision::PartiallyRefused.refused_grams(100, None).is_err());
    }

    #[test]
    fn the_mass_balance_flags_beyond_the_tolerance() {
        assert_eq!(mass_balance(1000, 1100, Some(1000), None, 10), None);
        assert!(mass_balance(1000, 1101, None, None, 10).is_some());
        let finding = mass_balance(1000, 1000, Some(899), Some(0), 10).expect("flagged");
        assert!(finding.contains("received 899 g differs"), "{finding}");
        assert_eq!(mass_balance(0, 0, Some(0), None, 10), None);
        // Refused waste arrived: a refusal, whole or partial, is no loss.
        assert_eq!(mass_balance(1000, 1000, Some(1000), Some(1000), 10), None);
        assert_eq!(mass_balance(1000, 1000, Some(990), Some(400), 10), None);
        let finding = mass_balance(1000, 1000, Some(800), Some(300), 10).expect("flagged");
        assert!(
            finding.contains("received 800 g (500 g accepted + 300 g refused)"),
            "{finding}"
        );
    }

    proptest::proptest! {
        /// Over the whole range of i64, the shares of a total of 0 or more add up to it exactly,
        /// and every share of any total lies between 0 and it: none wraps or is clamped.
        #[test]
        fn allocation_adds_up_over_the_whole_range(
            total in proptest::prop_oneof![proptest::prelude::any::<i64>(), 0i64..1_000_000, proptest::strategy::Just(i64::MAX), proptest::strategy::Just(i64::MIN)],
            weights in proptest::collection::vec(proptest::prop_oneof![proptest::prelude::any::<i64>(), 0i64..1_000, proptest::strategy::Just(i64::MAX)], 1..6),
        ) {
            let shares = allocate(total, &weights);
            proptest::prop_assert_eq!(shares.len(), weights.len());
            for share in &shares {
                proptest::prop_assert!((total.min(0)..=total.max(0)).contains(share), "{share} of {total}");
            }
            if total >= 0 {
                let sum: i128 = shares.iter().map(|s| i128::from(*s)).sum();
                proptest::prop_assert_eq!(sum, i128::from(total));
            }
        }
    }

    #[test]
    fn allocation_adds_up() {
        assert_eq!(allocate(100, &[1, 1, 1]), vec![34, 33, 33]);
        assert_eq!(
            allocate(2_050_000, &[1_200_000, 900_000]),
            vec![1_171_429, 878_571]
        );
        assert_eq!(allocate(10, &[0, 0]), vec![5, 5]);
        assert_eq!(allocate(7, &[]), Vec::<i64>::new());
        for (total, weights) in [
            (999_999, vec![3, 7, 11, 13]),
            (1, vec![5, 5]),
            (0, vec![1, 2]),
        ] {
            assert_eq!(allocate(total, &weights).iter().sum::<i64>(), total);
        }
    }
}
