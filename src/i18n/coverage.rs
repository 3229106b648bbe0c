//! Every English text the code gives an error has its entry in the catalogue.
//!
//! The test reads the crate's sources and collects the message of every error built there: the
//! message argument of `FieldError::new` and `ApiError::field`, the text of `ApiError`'s
//! variants that carry one, of the functions that pass a message on, and the string constants
//! named there. A message written as a literal
//! or with `format!` is looked up as written (a template keeps its placeholders).

use std::collections::BTreeSet;
use std::path::Path;

use syn::visit::Visit;

use super::catalogue;

/// `ApiError` variants whose one argument is a text for people.
const TEXT_VARIANTS: &[&str] = &[
    "BadRequest",
    "Conflict",
    "Forbidden",
    "NotFound",
    "Unauthenticated",
    "Unavailable",
    "UnsupportedMediaType",
];

/// Functions of the code that take a message (or a piece of one) as an argument: the
/// function's name and the argument's position.
const MESSAGE_ARGUMENTS: &[(&str, usize)] = &[
    // pagination::empty(field, what leaving the parameter out means)
    ("empty", 1),
    // limits::refuse_past(limiter, key, detail)
    ("refuse_past", 2),
    // wechat::code_error(code, message)
    ("code_error", 1),
];

#[derive(Default)]
struct Messages {
    found: BTreeSet<String>,
    /// Constants named where a message is expected, and the text of every string constant.
    named: BTreeSet<String>,
    constants: std::collections::HashMap<String, String>,
}

impl Messages {
    /// The texts an argument expression can evaluate to: literals, `format!` templates, and
    /// those of the branches of an `if` or a `match`, through `.to_owned()` and the like.
    fn collect(&mut self, expr: &syn::Expr) {
        match expr {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => {
                self.found.insert(s.value());
            }
            syn::Expr::Macro(m) if m.mac.path.is_ident("format") => {
                if let Ok(args) = m.mac.parse_body_with(
                    syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated,
                ) && let Some(first) = args.first()
                {
                    self.collect(first);
                }
            }
            syn::Expr::Path(p) if p.path.segments.len() == 1 => {
                self.named.insert(last_two(&p.path).1);
            }
            syn::Expr::MethodCall(call) => self.collect(&call.receiver),
            syn::Expr::Reference(r) => self.collect(&r.expr),
            syn::Expr::Paren(p) => self.collect(&p.expr),
            syn::Expr::Group(g) => self.collect(&g.expr),
            syn::Expr::If(i) => {
                if let Some(syn::Stmt::Expr(e, None)) = i.then_branch.stmts.last() {
                    self.collect(e);
                }
                if let Some((_, e)) = &i.else_branch {
                    self.collect(e);
                }
            }
            syn::Expr::Block(b) => {
                if let Some(syn::Stmt::Expr(e, None)) = b.block.stmts.last() {
                    self.collect(e);
                }
            }
            syn::Expr::Match(m) => {
                for arm in &m.arms {
                    self.collect(&arm.body);
                }
            }
            _ => {}
        }
    }
}

fn last_two(path: &syn::Path) -> (String, String) {
    let mut names = path.segments.iter().rev().map(|s| s.ident.to_string());
    let last = names.next().unwrap_or_default();
    let before = names.next().unwrap_or_default();
    (before, last)
}

impl<'ast> Visit<'ast> for Messages {
    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        if let syn::Expr::Path(p) = &*call.func {
            let (owner, name) = last_two(&p.path);
            let message = match (owner.as_str(), name.as_str()) {
                ("FieldError", "new") | ("ApiError", "field") => call.args.iter().nth(2),
                ("ApiError" | "Self", variant) if TEXT_VARIANTS.contains(&variant) => {
                    call.args.first()
                }
                // A message carried in a `Result` until a field error is made of it.
                ("", "Err") => call.args.first(),
                (_, function) => MESSAGE_ARGUMENTS
                    .iter()
                    .find(|(name, _)| *name == function)
                    .and_then(|(_, i)| call.args.iter().nth(*i)),
            };
            if let Some(message) = message {
                self.collect(message);
            }
        }
        syn::visit::visit_expr_call(self, call);
    }

    fn visit_expr_struct(&mut self, s: &'ast syn::ExprStruct) {
        if last_two(&s.path).1 == "TooManyRequests" {
            for field in &s.fields {
                if matches!(&field.member, syn::Member::Named(n) if n == "detail") {
                    self.collect(&field.expr);
                }
            }
        }
        syn::visit::visit_expr_struct(self, s);
    }

    fn visit_item_const(&mut self, c: &'ast syn::ItemConst) {
        // Texts kept in constants, which the calls name rather than spell.
        if let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) = &*c.expr
        {
            self.constants.insert(c.ident.to_string(), s.value());
        }
        syn::visit::visit_item_const(self, c);
    }
}

fn scan(dir: &Path, messages: &mut Messages) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            scan(&path, messages);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let Ok(source) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Ok(file) = syn::parse_file(&source) else {
                panic!("{} does not parse", path.display());
            };
            messages.visit_file(&file);
        }
    }
}

/// Texts the scan finds that are not messages for people (a value passed through).
const NOT_MESSAGES: &[&str] = &[
    // `wastetrack demo` on the command line, never over HTTP
    "demo park",
    "demo warehouse",
];

#[test]
fn every_message_of_the_code_is_in_the_catalogue() {
    let mut messages = Messages::default();
    scan(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut messages,
    );
    for name in std::mem::take(&mut messages.named) {
        if let Some(text) = messages.constants.get(&name) {
            messages.found.insert(text.clone());
        }
    }
    assert!(
        messages.found.len() > 100,
        "the scan found only {} messages",
        messages.found.len()
    );
    let missing: Vec<_> = messages
        .found
        .iter()
        .filter(|m| !NOT_MESSAGES.contains(&m.as_str()))
        .filter(|m| !catalogue().has_key(m))
        .collect();
    assert!(
        missing.is_empty(),
        "{} messages have no entry in src/i18n/catalogue.toml:\n{}",
        missing.len(),
        missing
            .iter()
            .map(|m| format!("{m:?} = \"\""))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
