//! The catalogue: every English text of an error, with its Chinese.
//!
//! An entry's key is the English exactly as the code writes it, a `format!` template included
//! (`{}`, `{name}`, `{0}`, `{name:?}`; `{{` and `}}` are literal braces). A key without
//! placeholders is looked up as it is; one with placeholders is matched against the rendered
//! text (the entry with the most literal text wins when several match), and its arguments go
//! into the Chinese text, where `{}` takes the English's next `{}`, `{N}` the English's N-th
//! placeholder of any kind (from 0) and `{name}` the one of that name. An argument that is itself an English sentence of the
//! catalogue is translated too (a message inside a message), and one that is a single word of
//! the `zh-CN-terms` table (a status, a kind of waste) is given its Chinese word. A text the catalogue does not know
//! stays in English: a message is never lost for want of a translation.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::{Regex, RegexSet};

const SOURCE: &str = include_str!("catalogue.toml");

/// How deep messages inside messages are translated.
const MAX_NESTING: usize = 3;

/// One piece of a template: literal text or a placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    /// A placeholder: its name (or index) as written, `None` for `{}`.
    Slot(Option<String>),
}

/// Splits a `format!`-style template into pieces; `None` if a brace is unbalanced.
fn pieces(template: &str) -> Option<Vec<Piece>> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let mut inner = String::new();
                loop {
                    match chars.next()? {
                        '}' => break,
                        '{' => return None,
                        c => inner.push(c),
                    }
                }
                if !text.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut text)));
                }
                let name = inner.split(':').next().unwrap_or("").trim().to_owned();
                out.push(Piece::Slot((!name.is_empty()).then_some(name)));
            }
            '}' => return None,
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    Some(out)
}

/// A template entry: the English pattern and the Chinese pieces, each slot of the Chinese
/// resolved to the index of an English slot.
#[derive(Debug)]
struct Template {
    english: Regex,
    literal_len: usize,
    chinese: Vec<Result<String, usize>>,
}

/// Why an entry of the catalogue is unusable.
#[derive(Debug, PartialEq, Eq)]
pub struct BadEntry {
    pub key: String,
    pub reason: String,
}

fn template(key: &str, zh: &str) -> Result<Option<Template>, BadEntry> {
    let bad = |reason: &str| BadEntry {
        key: key.to_owned(),
        reason: reason.to_owned(),
    };
    let english = pieces(key).ok_or_else(|| bad("unbalanced braces in the English"))?;
    let chinese = pieces(zh).ok_or_else(|| bad("unbalanced braces in the Chinese"))?;
    let slots: Vec<Option<&str>> = english
        .iter()
        .filter_map(|p| match p {
            Piece::Slot(name) => Some(name.as_deref()),
            Piece::Text(_) => None,
        })
        .collect();
    if slots.is_empty() {
        if chinese.iter().any(|p| matches!(p, Piece::Slot(_))) {
            return Err(bad("the Chinese has a placeholder the English lacks"));
        }
        return Ok(None);
    }
    let mut pattern = String::from("^");
    let mut literal_len = 0;
    for piece in &english {
        match piece {
            Piece::Text(t) => {
                literal_len += t.chars().count();
                pattern.push_str(&regex::escape(t));
            }
            Piece::Slot(_) => pattern.push_str("(.*?)"),
        }
    }
    pattern.push('$');
    if literal_len == 0 {
        return Err(bad("a template needs some literal text"));
    }
    let english_re = Regex::new(&pattern).map_err(|e| bad(&e.to_string()))?;
    let mut next = 0;
    let mut used = vec![false; slots.len()];
    let mut resolved = Vec::new();
    for piece in chinese {
        match piece {
            Piece::Text(t) => resolved.push(Ok(t)),
            Piece::Slot(name) => {
                let index = match name.as_deref() {
                    None => {
                        next += 1;
                        slots
                            .iter()
                            .enumerate()
                            .filter(|(_, s)| s.is_none())
                            .nth(next - 1)
                            .map(|(i, _)| i)
                            .ok_or_else(|| bad("the Chinese has more {} than the English"))?
                    }
                    Some(n) if n.chars().all(|c| c.is_ascii_digit()) => n
                        .parse()
                        .map_err(|_| bad("a placeholder index is too large"))?,
                    Some(n) => slots
                        .iter()
                        .position(|s| *s == Some(n))
                        .ok_or_else(|| bad(&format!("the English has no placeholder {{{n}}}")))?,
                };
                let name = slots
                    .get(index)
                    .ok_or_else(|| bad("the Chinese has more placeholders than the English"))?;
                // A name used twice in the English is one argument written twice.
                for (seen, slot) in used.iter_mut().zip(&slots) {
                    if slot.is_some() && slot == name {
                        *seen = true;
                    }
                }
                used[index] = true;
                resolved.push(Err(index));
            }
        }
    }
    if used.iter().any(|u| !u) {
        return Err(bad("the Chinese leaves out a placeholder of the English"));
    }
    Ok(Some(Template {
        english: english_re,
        literal_len,
        chinese: resolved,
    }))
}

/// The loaded catalogue.
#[derive(Debug)]
pub struct Catalogue {
    exact: HashMap<String, String>,
    templates: Vec<Template>,
    set: RegexSet,
    keys: Vec<String>,
    /// Words an argument may be (a status, a kind of waste), translated only as arguments.
    terms: HashMap<String, String>,
}

impl Catalogue {
    /// Parses a catalogue: a TOML document whose `zh-CN` table maps English to Chinese.
    pub fn parse(source: &str) -> Result<Self, Vec<BadEntry>> {
        #[derive(serde::Deserialize)]
        struct File {
            #[serde(rename = "zh-CN")]
            zh_cn: std::collections::BTreeMap<String, String>,
            #[serde(rename = "zh-CN-terms", default)]
            terms: HashMap<String, String>,
        }
        let file: File = toml::from_str(source).map_err(|e| {
            vec![BadEntry {
                key: String::new(),
                reason: e.to_string(),
            }]
        })?;
        let mut exact = HashMap::new();
        let mut templates = Vec::new();
        let mut errors = Vec::new();
        let mut keys = Vec::new();
        for (key, zh) in file.zh_cn {
            if zh.trim().is_empty() {
                errors.push(BadEntry {
                    key: key.clone(),
                    reason: "the Chinese is empty".to_owned(),
                });
                continue;
            }
            match template(&key, &zh) {
                Ok(Some(t)) => templates.push(t),
                Ok(None) => {
                    // A literal key: its braces, if any, are written doubled like the code's.
                    let unescape = |s: &str| s.replace("{{", "{").replace("}}", "}");
                    exact.insert(unescape(&key), unescape(&zh));
                }
                Err(e) => errors.push(e),
            }
            keys.push(key);
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let set = RegexSet::new(templates.iter().map(|t| t.english.as_str())).map_err(|e| {
            vec![BadEntry {
                key: String::new(),
                reason: e.to_string(),
            }]
        })?;
        Ok(Self {
            exact,
            templates,
            set,
            keys,
            terms: file.terms,
        })
    }

    /// Whether the catalogue has an entry for this key (a template as the code writes it).
    pub fn has_key(&self, key: &str) -> bool {
        self.keys.iter().any(|k| k == key)
    }

    /// The Chinese of an English text; the text itself when the catalogue does not know it.
    pub fn translate(&self, text: &str) -> String {
        self.lookup(text, 0).unwrap_or_else(|| text.to_owned())
    }

    fn lookup(&self, text: &str, depth: usize) -> Option<String> {
        if let Some(zh) = self.exact.get(text) {
            return Some(zh.clone());
        }
        let best = self
            .set
            .matches(text)
            .into_iter()
            .filter_map(|i| self.templates.get(i))
            .max_by_key(|t| t.literal_len)?;
        let captures = best.english.captures(text)?;
        let argument = |i: usize| {
            let raw = captures.get(i + 1).map_or("", |m| m.as_str());
            // Only a sentence is translated again: a name or a number never is.
            if depth < MAX_NESTING && raw.contains(' ') {
                self.lookup(raw, depth + 1)
                    .unwrap_or_else(|| raw.to_owned())
            } else {
                self.terms
                    .get(raw)
                    .cloned()
                    .unwrap_or_else(|| raw.to_owned())
            }
        };
        Some(
            best.chinese
                .iter()
                .map(|piece| match piece {
                    Ok(t) => t.clone(),
                    Err(i) => argument(*i),
                })
                .collect(),
        )
    }
}

static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(|| match Catalogue::parse(SOURCE) {
    Ok(c) => c,
    Err(errors) => {
        // The unit tests refuse such a catalogue; should one ship anyway, the service answers
        // in English rather than not at all.
        tracing::error!(
            ?errors,
            "the message catalogue is unusable; answering in English"
        );
        Catalogue {
            exact: HashMap::new(),
            templates: Vec::new(),
            set: RegexSet::empty(),
            keys: Vec::new(),
            terms: HashMap::new(),
        }
    }
});

/// The service's catalogue.
pub fn catalogue() -> &'static Catalogue {
    &CATALOGUE
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Catalogue {
        let source = r#"
            [zh-CN]
            "must not be empty" = "不能为空"
            "must be at most {max} characters" = "不得超过 {max} 个字符"
            "{} is invalid: {}" = "{0}无效：{1}"
            "{} fields are invalid" = "{} 个字段无效"
            "{t:?} is not a message type" = "{t:?} 不是消息类型"
            "a {} cannot belong to a {} organisation" = "{1}不能有{0}"
            "braces {{literal}}" = "花括号 {{literal}}"
            "{} waste cannot go into a {} zone" = "{}废物不能放入{}分区"

            [zh-CN-terms]
            hazardous = "危险"
        "#;
        match Catalogue::parse(source) {
            Ok(c) => c,
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn shipped_catalogue_parses() {
        if let Err(errors) = Catalogue::parse(SOURCE) {
            panic!("unusable entries: {errors:#?}");
        }
    }

    #[test]
    fn translates_literals_templates_and_nested_messages() {
        let c = sample();
        assert_eq!(c.translate("must not be empty"), "不能为空");
        assert_eq!(
            c.translate("must be at most 64 characters"),
            "不得超过 64 个字符"
        );
        assert_eq!(
            c.translate("username is invalid: must not be empty"),
            "username无效：不能为空"
        );
        assert_eq!(c.translate("3 fields are invalid"), "3 个字段无效");
        assert_eq!(
            c.translate("\"x.y\" is not a message type"),
            "\"x.y\" 不是消息类型"
        );
        assert_eq!(
            c.translate("a driver cannot belong to a park organisation"),
            "park不能有driver"
        );
        assert_eq!(c.translate("braces {literal}"), "花括号 {literal}");
        assert_eq!(
            c.translate("hazardous waste cannot go into a general zone"),
            "危险废物不能放入general分区"
        );
        assert_eq!(
            c.translate("hazardous"),
            "hazardous",
            "a term alone is not a message"
        );
        assert_eq!(c.translate("something else"), "something else");
    }

    #[test]
    fn refuses_inconsistent_entries() {
        for source in [
            "[zh-CN]\n\"{a} b\" = \"{c} 乙\"",
            "[zh-CN]\n\"{a} b\" = \"乙\"",
            "[zh-CN]\n\"a\" = \"{} 乙\"",
            "[zh-CN]\n\"{}\" = \"{}\"",
            "[zh-CN]\n\"a {\" = \"甲\"",
            "[zh-CN]\n\"a\" = \" \"",
        ] {
            assert!(Catalogue::parse(source).is_err(), "{source}");
        }
    }
}
