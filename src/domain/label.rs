//! Rules of HJ 1276-2022 labels beyond the lot itself: how a lot's weight falls on its
//! containers, how many labels a container carries, what a label warns of by default, and the
//! random token behind a label's QR code.

use rand::RngCore;

use crate::domain::lot::MAX_LOT_GRAMS;
use crate::domain::waste::Characteristic;
use crate::error::FieldError;

/// The most containers that may be weighed one by one in one lot: the digital identification
/// code counts at most 999 containers of one code per producer and day (its last segment has
/// three digits), so a longer list could never be labelled.
pub const MAX_WEIGHED_CONTAINERS: usize = 999;

/// Container volume above which HJ 1276-2022 asks for a label on two opposite sides
/// ("容积超过 450 L 的容器或包装物，应在相对的两面都设置危险废物标签").
pub const TWO_SIDED_ABOVE_LITRES: i32 = 450;

/// How many copies of its label a container carries: two on opposite sides above 450 L, else
/// one.
pub fn copies_per_container(litres: Option<i32>) -> usize {
    if litres.is_some_and(|l| l > TWO_SIDED_ABOVE_LITRES) {
        2
    } else {
        1
    }
}

/// Checks the weights of containers weighed one by one: one per container (`count`), each
/// positive, and together the lot's net weight.
pub fn container_weights(
    field: &str,
    weights: &[i64],
    count: i32,
    net: i64,
) -> Result<Vec<i64>, FieldError> {
    if weights.len() > MAX_WEIGHED_CONTAINERS {
        return Err(FieldError::new(
            field,
            "too_many",
            format!("at most {MAX_WEIGHED_CONTAINERS} containers are weighed one by one"),
        ));
    }
    if usize::try_from(count).ok() != Some(weights.len()) {
        return Err(FieldError::new(
            field,
            "count_mismatch",
            format!("must have one weight per container ({count})"),
        ));
    }
    if weights.iter().any(|g| !(1..=MAX_LOT_GRAMS).contains(g)) {
        return Err(FieldError::new(
            field,
            "out_of_range",
            format!("each must be 1 to {MAX_LOT_GRAMS} grams"),
        ));
    }
    // Each is at most MAX_LOT_GRAMS and there are at most 999: the sum cannot overflow.
    let sum: i64 = weights.iter().sum();
    if sum != net {
        return Err(FieldError::new(
            field,
            "sum_mismatch",
            format!("must add up to the net weight ({net} grams)"),
        ));
    }
    Ok(weights.to_vec())
}

/// The lot's weight shared among `count` containers, in whole grams: the first containers take
/// one gram more until the remainder is spent, so that the shares add up to the lot's weight.
pub fn shared_weight(net: i64, count: i32, position: i32) -> i64 {
    let count = i64::from(count.max(1));
    let position = i64::from(position.max(1));
    let base = net.div_euclid(count);
    let remainder = net.rem_euclid(count);
    base + i64::from(position <= remainder)
}

/// The precautions (注意事项) printed when none were given: one line per hazard characteristic.
pub fn default_precautions(characteristics: &[Characteristic]) -> String {
    let mut lines: Vec<&str> = characteristics
        .iter()
        .map(|c| match c {
            Characteristic::T => "避免接触和吸入，作业时佩戴防护用品",
            Characteristic::C => "防止泄漏，避免接触皮肤和眼睛",
            Characteristic::I => "远离火种和热源，禁止烟火",
            Characteristic::R => "避免与水、酸碱及其他物质混合",
            Characteristic::In => "密闭存放，防止扩散，接触后消毒",
        })
        .collect();
    lines.push("包装破损或泄漏时及时报告");
    lines.join("；")
}

/// A new token for a label's public verification page: 128 random bits, URL-safe. It is the
/// only thing the printed URL carries, so that the page of one container reveals nothing about
/// the address of another (the digital code, made of a credit code, a waste code, a date and a
/// small sequence, would enumerate lots).
pub fn new_verify_token() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `raw` has the shape of a verification token (22 URL-safe base64 characters, or the
/// 32 or 64 hexadecimal digits the migration gave lots weighed before containers were kept);
/// others are refused before any look-up.
pub fn is_verify_token(raw: &str) -> bool {
    (22..=64).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_the_lot() {
        for (net, count) in [(10, 3), (1_000_001, 7), (5, 5), (2, 4)] {
            let sum: i64 = (1..=count).map(|p| shared_weight(net, count, p)).sum();
            assert_eq!(sum, net);
        }
        assert_eq!(shared_weight(10, 3, 1), 4);
        assert_eq!(shared_weight(10, 3, 3), 3);
    }

    #[test]
    fn weights_one_by_one_are_checked() {
        assert_eq!(
            container_weights("w", &[3, 7], 2, 10).map_err(|e| e.code),
            Ok(vec![3, 7])
        );
        let code = |r: Result<Vec<i64>, FieldError>| r.err().map(|e| e.code);
        assert_eq!(
            code(container_weights("w", &[3, 7], 3, 10)).as_deref(),
            Some("count_mismatch")
        );
        assert_eq!(
            code(container_weights("w", &[3, 6], 2, 10)).as_deref(),
            Some("sum_mismatch")
        );
        assert_eq!(
            code(container_weights("w", &[0, 10], 2, 10)).as_deref(),
            Some("out_of_range")
        );
        assert_eq!(
            code(container_weights("w", &vec![1; 1000], 1000, 1000)).as_deref(),
            Some("too_many")
        );
    }

    #[test]
    fn two_labels_only_above_450_litres() {
        assert_eq!(copies_per_container(Some(200)), 1);
        assert_eq!(copies_per_container(Some(450)), 1);
        assert_eq!(copies_per_container(Some(1000)), 2);
        assert_eq!(copies_per_container(None), 1);
    }

    #[test]
    fn tokens_are_random_and_well_formed() {
        let (a, b) = (new_verify_token(), new_verify_token());
        assert_ne!(a, b);
        assert!(is_verify_token(&a), "{a}");
        assert!(is_verify_token("0123456789abcdef0123456789abcdef"));
        assert!(!is_verify_token("short"));
        assert!(!is_verify_token(&"a".repeat(65)));
        assert!(!is_verify_token("aaaaaaaaaaaaaaaaaaaa/a"));
    }
}
