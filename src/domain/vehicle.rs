//! Vehicle plates of mainland China: a province character, a letter, then 5 characters (6 for
//! new-energy plates) of letters and digits, e.g. 粤B12345 or 粤BD12345.

use crate::error::FieldError;

const PROVINCES: &str = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领";

pub fn parse_plate(field: &str, raw: &str) -> Result<String, FieldError> {
    let value: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '·' | '-'))
        .collect::<String>()
        .to_uppercase();
    let mut chars = value.chars();
    let ok = chars.next().is_some_and(|c| PROVINCES.contains(c))
        && chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && {
            let rest: Vec<char> = chars.collect();
            matches!(rest.len(), 5 | 6)
                && rest.iter().all(|c| {
                    c.is_ascii_uppercase() || c.is_ascii_digit() || "挂学警港澳".contains(*c)
                })
        };
    if ok {
        Ok(value)
    } else {
        Err(FieldError::new(
            field,
            "invalid",
            "a plate is a province character, a letter and 5 or 6 letters or digits, e.g. 粤B12345",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plates() {
        assert_eq!(
            parse_plate("p", "粤b·12345").ok().as_deref(),
            Some("粤B12345")
        );
        assert!(parse_plate("p", "粤BD12345").is_ok());
        assert!(parse_plate("p", "粤B1234").is_err());
        assert!(parse_plate("p", "AB12345").is_err());
        assert!(parse_plate("p", "").is_err());
    }
}
