//! The language of problem details: zh-CN by default, English where the client asks for it.
//!
//! The code writes every human-readable text of an error in English, as it always has; the
//! catalogue ([`catalogue.toml`](catalogue.toml), one file) gives each its Chinese text. English
//! is the source language (as a gettext `msgid`): a text written with `format!` is entered with
//! its placeholders (`"must be at most {max} characters"`), and the rendered text is matched
//! against it when the problem is written, its arguments carried over into the translation.
//!
//! The language is chosen per request from `Accept-Language` ([`Locale::negotiate`]) by the
//! request middleware and kept in a task-local, so that [`crate::error::ApiError`] renders in it
//! wherever the error arises. `type` URIs, field names and field codes never change with the
//! language: clients branch on those, people read the rest.

mod catalogue;
#[cfg(test)]
mod coverage;

use actix_web::HttpMessage;
use actix_web::http::header::{AcceptLanguage, Header, LanguageTag, Preference};

pub use catalogue::{Catalogue, catalogue};

/// A language the service writes its messages in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    /// Simplified Chinese, the default: the park's people, the mini-program and the console.
    #[default]
    ZhCn,
    /// English, where the client asks for it.
    En,
}

impl Locale {
    /// The language tag, as sent in `Content-Language`.
    pub fn tag(self) -> &'static str {
        match self {
            Self::ZhCn => "zh-CN",
            Self::En => "en",
        }
    }

    /// The client's first acceptable language the service writes, by quality; zh-CN when the
    /// header is absent, unparsable, `*`, or names only languages the service does not write.
    /// Any Chinese tag (`zh`, `zh-CN`, `zh-Hans`, `zh-TW`) gets the simplified Chinese text; any
    /// English tag (`en`, `en-GB`) the English.
    pub fn negotiate(req: &impl HttpMessage) -> Self {
        let Ok(accepted) = AcceptLanguage::parse(req) else {
            return Self::default();
        };
        accepted
            .ranked()
            .into_iter()
            .find_map(|preference| match preference {
                Preference::Any => Some(Self::default()),
                Preference::Specific(tag) => Self::of_tag(&tag),
            })
            .unwrap_or_default()
    }

    fn of_tag(tag: &LanguageTag) -> Option<Self> {
        match tag.primary_language() {
            "zh" => Some(Self::ZhCn),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    /// `text`, written in English in the code, in this language.
    pub fn text(self, text: &str) -> String {
        match self {
            Self::En => text.to_owned(),
            Self::ZhCn => catalogue().translate(text),
        }
    }
}

tokio::task_local! {
    static LOCALE: Locale;
}

/// The language of the request being served on this task (zh-CN outside a request).
pub fn current_locale() -> Locale {
    LOCALE.try_with(|l| *l).unwrap_or_default()
}

/// Runs `f` with `locale` as the language of its errors.
pub async fn scope<F: std::future::Future>(locale: Locale, f: F) -> F::Output {
    LOCALE.scope(locale, f).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn negotiate(header: Option<&str>) -> Locale {
        let mut req = TestRequest::default();
        if let Some(value) = header {
            req = req.insert_header(("accept-language", value));
        }
        Locale::negotiate(&req.to_http_request())
    }

    #[test]
    fn chinese_unless_english_is_preferred() {
        assert_eq!(negotiate(None), Locale::ZhCn);
        assert_eq!(negotiate(Some("")), Locale::ZhCn);
        assert_eq!(negotiate(Some("*")), Locale::ZhCn);
        assert_eq!(negotiate(Some("fr-FR, de;q=0.8")), Locale::ZhCn);
        assert_eq!(negotiate(Some("zh-CN,zh;q=0.9,en;q=0.8")), Locale::ZhCn);
        assert_eq!(negotiate(Some("zh-TW")), Locale::ZhCn);
        assert_eq!(negotiate(Some("en")), Locale::En);
        assert_eq!(negotiate(Some("en-GB,en;q=0.9")), Locale::En);
        assert_eq!(negotiate(Some("fr;q=0.9, en;q=0.5, zh;q=0.3")), Locale::En);
        assert_eq!(negotiate(Some("zh;q=0.2, en;q=0.7")), Locale::En);
        assert_eq!(negotiate(Some("en;q=0, zh")), Locale::ZhCn);
        assert_eq!(negotiate(Some(";;;garbage")), Locale::ZhCn);
    }
}
