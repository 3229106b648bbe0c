//! The code's layout rules, checked by reading the crate's sources: the handlers' transaction
//! convention (below), and features that depend on each other one way only.
//!
//! A handler (a feature's `routes.rs`) extracts and validates its input, may check the role with
//! the policy, then calls **one function of its own feature** — its service, or a use-case
//! module beside it (`lots::containers`, `pickups::collect`, `profiles::haves` …) — inside one
//! of
//!
//! - `Db::run`: a read;
//! - `Db::snapshot`: a read composed of several queries, seen in one snapshot;
//! - `Db::write`: a write, in one transaction (nested writes are savepoints);
//! - `idempotency::run`: a write a client may retry with an `Idempotency-Key`,
//!
//! and turns its result into the response. The closure given to them is that one call and
//! nothing else. The handler chooses the transaction; the called function is the use case: it
//! loads, authorises against the object through `auth::policy`, acts and returns what the
//! handler answers. A `routes.rs` names no store, so every query goes through a use case.

use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// The methods of `Db` that open the work of a handler.
const DB_METHODS: &[&str] = &["run", "snapshot", "write"];

/// Other features a feature's routes call, and why.
const CALLS_ACROSS: &[(&str, &str, &str)] = &[(
    "pickups",
    "requests",
    "the pickup requests' endpoints are served with dispatch and collection; raising one by hand is the threshold trigger's own use case",
)];

struct Handlers<'a> {
    feature: &'a str,
    file: String,
    /// The function being read, to name where a problem is.
    function: String,
    problems: Vec<String>,
}

impl Handlers<'_> {
    fn at(&self) -> String {
        format!("{}, fn {}", self.file, self.function)
    }

    /// The closure (or function) given to `Db::run`/`snapshot`/`write` or `idempotency::run`
    /// must be one call of a function of the feature.
    fn check_work(&mut self, work: &syn::Expr) {
        let body = match work {
            syn::Expr::Closure(c) => &*c.body,
            other => other,
        };
        let body = match body {
            syn::Expr::Block(b) if b.block.stmts.len() == 1 => match &b.block.stmts[0] {
                syn::Stmt::Expr(e, None) => e,
                _ => body,
            },
            _ => body,
        };
        let callee = match body {
            syn::Expr::Call(call) => match &*call.func {
                syn::Expr::Path(p) => Some(&p.path),
                _ => None,
            },
            syn::Expr::Path(p) => Some(&p.path),
            _ => None,
        };
        let Some(callee) = callee else {
            self.problems.push(format!(
                "{}: the handler's work is not one call of a use case",
                self.at()
            ));
            return;
        };
        let segments: Vec<String> = callee
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        if segments.len() < 2 {
            self.problems.push(format!(
                "{}: `{}` is not a function of a feature's module",
                self.at(),
                segments.join("::")
            ));
        }
        if segments.first().map(String::as_str) == Some("crate")
            && segments.get(1).map(String::as_str) != Some(self.feature)
        {
            let other = segments.get(1).cloned().unwrap_or_default();
            if !CALLS_ACROSS
                .iter()
                .any(|(from, to, _)| *from == self.feature && *to == other)
            {
                self.problems.push(format!(
                    "{}: calls `{}`, another feature's",
                    self.at(),
                    segments.join("::")
                ));
            }
        }
    }
}

fn is_store(ident: &syn::Ident) -> bool {
    let name = ident.to_string();
    name == "store" || name.ends_with("_store")
}

impl<'ast> Visit<'ast> for Handlers<'_> {
    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        let method = call.method.to_string();
        let on_db = matches!(&*call.receiver, syn::Expr::Field(f)
            if matches!(&f.member, syn::Member::Named(n) if n == "db"))
            || matches!(&*call.receiver, syn::Expr::Path(p) if p.path.is_ident("db"));
        if on_db && DB_METHODS.contains(&method.as_str()) && call.args.len() == 1 {
            self.check_work(&call.args[0]);
        }
        syn::visit::visit_expr_method_call(self, call);
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        if let syn::Expr::Path(p) = &*call.func {
            let names: Vec<String> = p
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            if names.ends_with(&["idempotency".to_owned(), "run".to_owned()])
                && let Some(work) = call.args.last()
            {
                self.check_work(work);
            }
        }
        syn::visit::visit_expr_call(self, call);
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.function = f.sig.ident.to_string();
        syn::visit::visit_item_fn(self, f);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.function = f.sig.ident.to_string();
        syn::visit::visit_impl_item_fn(self, f);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.segments.iter().any(|s| is_store(&s.ident)) {
            self.problems.push(format!(
                "{}: names a store (`{}`)",
                self.at(),
                path.segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect::<Vec<_>>()
                    .join("::")
            ));
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let mut paths = Vec::new();
        flatten(&item.tree, &mut Vec::new(), &mut paths);
        for path in paths {
            let [first, other, rest @ ..] = path.as_slice() else {
                continue;
            };
            let module_of_service = rest.iter().any(|s| s == "service")
                && rest.last().is_some_and(|s| {
                    s == "self" || s == "service" || s.starts_with(char::is_lowercase)
                });
            if first == "crate"
                && other != self.feature
                && module_of_service
                && !CALLS_ACROSS
                    .iter()
                    .any(|(from, to, _)| *from == self.feature && to == other)
            {
                self.problems.push(format!(
                    "{}: imports another feature's service (`{}`)",
                    self.at(),
                    path.join("::")
                ));
            }
        }
        syn::visit::visit_item_use(self, item);
    }

    fn visit_use_tree(&mut self, tree: &'ast syn::UseTree) {
        let ident = match tree {
            syn::UseTree::Path(p) => Some(&p.ident),
            syn::UseTree::Name(n) => Some(&n.ident),
            syn::UseTree::Rename(r) => Some(&r.ident),
            _ => None,
        };
        if let Some(ident) = ident.filter(|i| is_store(i)) {
            self.problems
                .push(format!("{}: imports a store (`{ident}`)", self.at()));
        }
        syn::visit::visit_use_tree(self, tree);
    }
}

/// Every path a `use` item names, as segments (a rename keeps its original name, a glob is `*`).
fn flatten(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => out.push([prefix.clone(), vec![n.ident.to_string()]].concat()),
        syn::UseTree::Rename(r) => out.push([prefix.clone(), vec![r.ident.to_string()]].concat()),
        syn::UseTree::Glob(_) => out.push([prefix.clone(), vec!["*".to_owned()]].concat()),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                flatten(t, prefix, out);
            }
        }
    }
}

fn routes_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            routes_files(&path, found);
        } else if path.file_name().is_some_and(|n| n == "routes.rs") {
            found.push(path);
        }
    }
}

/// The problems of one routes file of `feature`.
fn problems_of(feature: &str, file: &str, source: &str) -> Vec<String> {
    let Ok(parsed) = syn::parse_file(source) else {
        return vec![format!("{file}: does not parse")];
    };
    let mut handlers = Handlers {
        feature,
        file: file.to_owned(),
        function: "(top)".to_owned(),
        problems: Vec::new(),
    };
    handlers.visit_file(&parsed);
    handlers.problems
}

#[test]
fn every_handler_calls_one_use_case_of_its_feature_and_no_store() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    routes_files(&src, &mut files);
    files.sort();
    assert!(files.len() >= 15, "found only {} routes files", files.len());
    let mut problems = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap_or(file);
        let feature = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or_default();
        let source = std::fs::read_to_string(file).unwrap_or_default();
        problems.extend(problems_of(
            feature,
            &relative.display().to_string(),
            &source,
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_check_sees_what_breaks_the_convention() {
    let source = r#"
        use crate::lots::store::LotRow;
        async fn two_calls(state: AppState) {
            state.db.run(move |conn| {
                let lot = service::load(conn, &id)?;
                service::view(conn, lot)
            }).await;
        }
        async fn a_store(state: AppState) {
            state.db.write(move |conn| store::insert(conn, &row)).await;
        }
        async fn another_feature(state: AppState) {
            state.db.snapshot(move |conn| crate::billing::service::balance(conn)).await;
        }
        async fn retried(state: AppState) {
            idempotency::run(&state, p, &req, key, s, l, move |conn, p| {
                let x = service::a(conn)?;
                service::b(conn, x)
            }).await;
        }
        use crate::registry::warehouses::service as warehouses;
        use crate::manifests::service::ManifestView;
        async fn fine(state: AppState) {
            state.db.run(move |conn| service::read(conn, &principal, &id)).await;
            state.db.snapshot(service::verify).await;
            idempotency::run(&state, p, &req, key, s, l, move |conn, p| service::weigh_in(conn, p)).await;
        }
    "#;
    let problems = problems_of("lots", "lots/routes.rs", source);
    assert_eq!(problems.len(), 6, "{problems:#?}");
    assert!(
        problems
            .iter()
            .any(|p| p
                .contains("another feature's service (`crate::registry::warehouses::service`)"))
    );
    assert!(problems[0].contains("imports a store"), "{problems:#?}");
    assert!(problems.iter().any(|p| p.contains("not one call")));
    assert!(problems.iter().any(|p| p.contains("names a store")));
    assert!(problems.iter().any(|p| p.contains("another feature's")));
}

/// The features (folders of `src` with a service or a store, at any depth) each feature's code below its
/// routes names, from `crate::…` paths outside tests. `auth` is left out: its principal,
/// tokens and policy are what every feature builds on, and its sign-in reads identity's users.
fn feature_imports(
    src: &Path,
) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let features: Vec<String> = std::fs::read_dir(src)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let mut files = Vec::new();
            rust_files(p, &mut files);
            files
                .iter()
                .any(|f| f.ends_with("service.rs") || f.ends_with("store.rs"))
        })
        .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
        .filter(|f| f != "auth")
        .collect();
    let mut graph = std::collections::BTreeMap::new();
    for feature in &features {
        let mut files = Vec::new();
        rust_files(&src.join(feature), &mut files);
        let mut imports = std::collections::BTreeSet::new();
        for file in files.iter().filter(|f| !f.ends_with("routes.rs")) {
            let source = std::fs::read_to_string(file).unwrap_or_default();
            let code = source.split("#[cfg(test)]").next().unwrap_or_default();
            for (i, _) in code.match_indices("crate::") {
                let name: String = code[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if name != *feature && features.contains(&name) {
                    imports.insert(name);
                }
            }
        }
        graph.insert(feature.clone(), imports);
    }
    graph
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// A cycle of the graph, as the features along it, if there is one.
fn cycle(
    graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
) -> Option<Vec<String>> {
    fn walk(
        graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        node: &str,
        path: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_owned());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = walk(graph, next, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = std::collections::BTreeSet::new();
    graph
        .keys()
        .find_map(|start| walk(graph, start, &mut Vec::new(), &mut done))
}

#[test]
fn features_depend_on_each_other_one_way() {
    let graph = feature_imports(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(
        [
            "lots",
            "pickups",
            "manifests",
            "requests",
            "notify",
            "registry"
        ]
        .iter()
        .all(|f| graph.contains_key(*f)),
        "{graph:?}"
    );
    assert!(
        graph["pickups"].contains("manifests") && graph["lots"].contains("requests"),
        "the imports were not read: {graph:?}"
    );
    if let Some(found) = cycle(&graph) {
        panic!("features import each other: {}", found.join(" → "));
    }
}

#[test]
fn a_cycle_is_found() {
    let graph = |edges: &[(&str, &str)]| {
        let mut g = std::collections::BTreeMap::<String, std::collections::BTreeSet<String>>::new();
        for (from, to) in edges {
            g.entry((*from).to_owned())
                .or_default()
                .insert((*to).to_owned());
            g.entry((*to).to_owned()).or_default();
        }
        g
    };
    assert_eq!(cycle(&graph(&[("a", "b"), ("b", "c"), ("a", "c")])), None);
    assert_eq!(
        cycle(&graph(&[("a", "b"), ("b", "c"), ("c", "a")])),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}
