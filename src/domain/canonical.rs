//! Canonical JSON: the one byte form of a JSON value that is hashed and signed.
//!
//! Objects have their members sorted by key (byte order, which for the service's ASCII keys is
//! RFC 8785's UTF-16 order), no insignificant white space, strings escaped as `serde_json`
//! escapes them, numbers as integers are written. The service writes no floating-point numbers
//! into documents of record (weights are grams, money is fen), so the number form of RFC 8785
//! is not needed beyond integers.

use serde_json::Value;

/// The canonical text of `value`.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    write(value, &mut out);
    out
}

fn write(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, member)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write(member, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_sorted_and_space_is_dropped() {
        let value: Value =
            serde_json::from_str(r#"{ "b": [1, {"z": null, "a": "é\n"}], "a": true }"#)
                .unwrap_or_default();
        assert_eq!(
            to_string(&value),
            r#"{"a":true,"b":[1,{"a":"é\n","z":null}]}"#
        );
    }

    #[test]
    fn the_canonical_form_is_a_fixed_point() {
        let value: Value =
            serde_json::from_str(r#"{"y":{"b":2,"a":1},"x":"q"}"#).unwrap_or_default();
        let once = to_string(&value);
        let again: Value = serde_json::from_str(&once).unwrap_or_default();
        assert_eq!(to_string(&again), once);
    }
}
