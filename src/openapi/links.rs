//! Links from a response to the operations its id feeds, so that stateful clients and tools can
//! chain calls: a created lot to its page, its label and its corrections; a pickup request to its
//! acceptance and its collection; a manifest to its steps and its print.
//!
//! Derived from the paths, so that new routes get them:
//!
//! - a `201` to a POST on a collection (`/lots`, `/warehouses/{id}/zones`) whose body has an
//!   `id` links to every operation on that object: on `<collection>/{param}` and below it, or
//!   else on `/api/v1/<last segment>/{id}` (`/warehouses/{id}/zones` → `/zones/{id}`) or the
//!   parent collection's `{id}` (`/lots/declarations` → `/lots/{id}`) and below;
//! - a `200` to a GET of an object (`/manifests/{id}`) whose body has an `id` links to every
//!   other operation below that object (`/manifests/{id}/confirm`, `/manifests/{id}/print.html`).
//!
//! The new object's id fills the object's parameter (`$response.body#/id`); any other path
//! parameter of the target is taken from the request (`$request.path.<name>`) when the request
//! has it, or the link is not made. [`EXTRA`] adds links from ids deeper in a body.

use std::collections::BTreeMap;

use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::{OpenApi, RefOr};

/// Links from an id inside a body: (source operation, status, JSON pointer of the id, target
/// path prefix, the target's parameter it fills, what the link says).
const EXTRA: &[(&str, &str, &str, &str, &str, &str)] = &[(
    "collect",
    "201",
    "/manifests/0/id",
    "/api/v1/manifests/{id}",
    "id",
    "The first manifest the collection issued (one per disposal route; see `manifests`)",
)];

struct Target {
    template: String,
    method: &'static str,
    operation_id: String,
    path_params: Vec<String>,
}

pub fn document(doc: &mut OpenApi) {
    let targets = targets(doc);
    let with_id = schemas_with_id(doc);
    for (template, item) in doc.paths.paths.iter_mut() {
        for (method, op) in [
            ("get", item.get.as_mut()),
            ("post", item.post.as_mut()),
            ("patch", item.patch.as_mut()),
        ]
        .into_iter()
        .filter_map(|(m, op)| op.map(|op| (m, op)))
        {
            let source_id = op.operation_id.clone().unwrap_or_default();
            let source_params: Vec<String> = op
                .parameters
                .iter()
                .flatten()
                .filter(|p| p.parameter_in == ParameterIn::Path)
                .map(|p| p.name.clone())
                .collect();
            for (status, response) in op.responses.responses.iter_mut() {
                let RefOr::T(response) = response else {
                    continue;
                };
                let object = match (method, status.as_str()) {
                    ("post", "201") => created_object(template, &targets),
                    ("get", "200") if template.ends_with('}') => Some(template.clone()),
                    _ => None,
                };
                let has_id = response
                    .content
                    .get("application/json")
                    .and_then(|c| c.schema.as_ref())
                    .is_some_and(|s| match s {
                        RefOr::Ref(r) => with_id.contains_key(r.ref_location.as_str()),
                        RefOr::T(_) => false,
                    });
                if let (Some(object), true) = (object, has_id) {
                    let param = last_param(&object);
                    for target in targets.iter().filter(|t| {
                        (t.template == object || t.template.starts_with(&format!("{object}/")))
                            && t.operation_id != source_id
                    }) {
                        let mut parameters: Vec<(String, String)> = Vec::new();
                        let mut complete = true;
                        for name in &target.path_params {
                            if Some(name.as_str()) == param.as_deref() {
                                parameters.push((name.clone(), "$response.body#/id".to_owned()));
                            } else if source_params.contains(name) {
                                parameters.push((name.clone(), format!("$request.path.{name}")));
                            } else {
                                complete = false;
                            }
                        }
                        if !complete {
                            continue;
                        }
                        let mut link = LinkBuilder::new();
                        for (name, value) in parameters {
                            link = link.parameter(name, value);
                        }
                        response.links.insert(
                            target.operation_id.clone(),
                            RefOr::T(
                                link.description(format!(
                                    "`{} {}` with this object's id",
                                    target.method.to_uppercase(),
                                    target.template
                                ))
                                .extensions(Some(operation_id(&target.operation_id)))
                                .build(),
                            ),
                        );
                    }
                }
                for (source, wanted, pointer, prefix, param, description) in EXTRA {
                    if *source != source_id || status != wanted {
                        continue;
                    }
                    for target in targets
                        .iter()
                        .filter(|t| {
                            t.template == *prefix || t.template.starts_with(&format!("{prefix}/"))
                        })
                        .filter(|t| t.path_params.len() == 1)
                    {
                        response.links.insert(
                            target.operation_id.clone(),
                            RefOr::T(
                                LinkBuilder::new()
                                    .parameter(*param, format!("$response.body#{pointer}"))
                                    .description(*description)
                                    .extensions(Some(operation_id(&target.operation_id)))
                                    .build(),
                            ),
                        );
                    }
                }
            }
        }
    }
}

/// The link's `operationId`. utoipa 5.5 writes its `Link::operation_id` as `operation_id`,
/// which no OpenAPI tool reads; the key is written as the specification spells it instead.
fn operation_id(id: &str) -> utoipa::openapi::extensions::Extensions {
    [("operationId", id)].into_iter().collect()
}

/// The template of the object a POST on `collection` creates, if some operation acts on it.
fn created_object(collection: &str, targets: &[Target]) -> Option<String> {
    let is_object = |t: &Target| {
        t.template
            .strip_prefix(collection)
            .and_then(|rest| rest.strip_prefix("/{"))
            .is_some_and(|rest| rest.find('}').is_some_and(|end| !rest[..end].contains('/')))
    };
    if let Some(t) = targets.iter().find(|t| is_object(t)) {
        let rest = &t.template[collection.len() + 1..];
        let end = rest.find('}').map_or(rest.len(), |i| i + 1);
        return Some(format!("{collection}/{}", &rest[..end]));
    }
    // A collection of its own at the top (`/warehouses/{id}/zones` → `/zones/{id}`), or the
    // parent collection (`/lots/declarations` → `/lots/{id}`).
    let (parent, last) = collection.rsplit_once('/')?;
    let top = format!("/api/v1/{last}");
    [top, parent.to_owned()]
        .into_iter()
        .filter(|c| c != collection && c != "/api/v1" && !c.ends_with('}'))
        .find(|c| targets.iter().any(|t| is_object_of(c, t)))
        .map(|c| format!("{c}/{{id}}"))
}

fn is_object_of(collection: &str, t: &Target) -> bool {
    t.template == format!("{collection}/{{id}}")
        || t.template.starts_with(&format!("{collection}/{{id}}/"))
}

fn last_param(template: &str) -> Option<String> {
    template
        .rsplit('/')
        .next()
        .and_then(|s| s.strip_prefix('{'))
        .and_then(|s| s.strip_suffix('}'))
        .map(str::to_owned)
}

fn targets(doc: &OpenApi) -> Vec<Target> {
    let mut all = Vec::new();
    for (template, item) in &doc.paths.paths {
        for (method, op) in [
            ("get", &item.get),
            ("post", &item.post),
            ("patch", &item.patch),
            ("put", &item.put),
            ("delete", &item.delete),
        ] {
            let Some(op) = op else { continue };
            let Some(operation_id) = op.operation_id.clone() else {
                continue;
            };
            all.push(Target {
                template: template.clone(),
                method,
                operation_id,
                path_params: op
                    .parameters
                    .iter()
                    .flatten()
                    .filter(|p| p.parameter_in == ParameterIn::Path)
                    .map(|p| p.name.clone())
                    .collect(),
            });
        }
    }
    all
}

/// `#/components/schemas/<name>` of every object schema with an `id` property, its own or
/// that of a schema it extends (`allOf`).
fn schemas_with_id(doc: &OpenApi) -> BTreeMap<String, ()> {
    let schemas: Vec<_> = doc
        .components
        .iter()
        .flat_map(|c| c.schemas.iter())
        .collect();
    let own_id = |s: &RefOr<Schema>| matches!(s, RefOr::T(Schema::Object(o)) if o.properties.contains_key("id"));
    let mut found: BTreeMap<String, ()> = schemas
        .iter()
        .filter(|(_, s)| own_id(s))
        .map(|(name, _)| (format!("#/components/schemas/{name}"), ()))
        .collect();
    for (name, schema) in &schemas {
        if let RefOr::T(Schema::AllOf(all)) = schema
            && all.items.iter().any(|item| match item {
                RefOr::Ref(r) => found.contains_key(&r.ref_location),
                other => own_id(other),
            })
        {
            found.insert(format!("#/components/schemas/{name}"), ());
        }
    }
    found
}
