//! The deployment files, checked without a cluster or a container engine: the Kubernetes
//! manifests parse and are what they claim, every `WASTETRACK_*` name in `deploy/` and in the
//! README is a setting of the service (derived from `config::Settings`), the replicas run on
//! PostgreSQL with probes on `/healthz` and `/readyz`, and the Dockerfile gives cargo what it
//! needs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_norway::Value;
use wastetrack::config::Settings;

/// Read by the service although not settings: the configuration file's variable.
const NOT_SETTINGS_BUT_READ: &[&str] = &["WASTETRACK_CONFIG"];

/// Variables the tests read, not the server.
const TEST_VARIABLES: &[&str] = &[
    "WASTETRACK_TEST_POSTGRES_URL",
    "WASTETRACK_TYPESCRIPT",
    "WASTETRACK_CONTRACT",
    "WASTETRACK_UPDATE_SCREENSHOTS",
];

/// The kinds the manifests may hold, with their API version.
const KINDS: &[(&str, &str)] = &[
    ("ConfigMap", "v1"),
    ("Secret", "v1"),
    ("Service", "v1"),
    ("Deployment", "apps/v1"),
    ("Job", "batch/v1"),
    ("PodDisruptionBudget", "policy/v1"),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn settings() -> BTreeSet<String> {
    Settings::environment_names().unwrap().into_iter().collect()
}

/// Every file under `dir`, recursively, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// Every YAML document of `deploy/kubernetes/`, with its file.
fn manifests() -> Vec<(String, Value)> {
    let mut documents = Vec::new();
    for path in files_under(&root().join("deploy/kubernetes")) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.ends_with(".yaml"),
            "{name}: only .yaml files belong here"
        );
        let text = read(&path);
        for document in serde_norway::Deserializer::from_str(&text) {
            let value = Value::deserialize(document).unwrap_or_else(|e| panic!("{name}: {e}"));
            if !value.is_null() {
                documents.push((name.clone(), value));
            }
        }
    }
    documents
}

fn str_of<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(value, |v, key| v.get(*key))?.as_str()
}

/// The one manifest of a kind.
fn the(kind: &str) -> Value {
    let mut found: Vec<Value> = manifests()
        .into_iter()
        .filter(|(_, m)| m["kind"].as_str() == Some(kind))
        .map(|(_, m)| m)
        .collect();
    assert_eq!(found.len(), 1, "one {kind}");
    found.remove(0)
}

fn named(kind: &str, name: &str) -> Value {
    manifests()
        .into_iter()
        .map(|(_, m)| m)
        .find(|m| {
            m["kind"].as_str() == Some(kind) && str_of(m, &["metadata", "name"]) == Some(name)
        })
        .unwrap_or_else(|| panic!("no {kind} named {name}"))
}

/// The `WASTETRACK_*` names a text mentions (a bare `WASTETRACK_` prefix is not a name).
fn names_in(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in text.match_indices("WASTETRACK_") {
        let rest = &text[at + "WASTETRACK_".len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(rest.len());
        if end > 0 {
            names.insert(format!("WASTETRACK_{}", &rest[..end]));
        }
    }
    names
}

/// The environment a container gets: its `envFrom` ConfigMaps and Secrets, then its `env`.
fn environment(container: &Value) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for source in container["envFrom"].as_sequence().into_iter().flatten() {
        let (kind, name, field) = if let Some(name) = str_of(source, &["configMapRef", "name"]) {
            ("ConfigMap", name, "data")
        } else if let Some(name) = str_of(source, &["secretRef", "name"]) {
            ("Secret", name, "stringData")
        } else {
            panic!("envFrom of an unknown kind: {source:?}")
        };
        let manifest = named(kind, name);
        let data = manifest[field]
            .as_mapping()
            .unwrap_or_else(|| panic!("{kind} {name} has no {field}"));
        for (key, value) in data {
            env.insert(
                key.as_str().unwrap().to_owned(),
                value
                    .as_str()
                    .unwrap_or_else(|| panic!("{key:?} is not a string"))
                    .to_owned(),
            );
        }
    }
    for var in container["env"].as_sequence().into_iter().flatten() {
        let name = var["name"].as_str().unwrap().to_owned();
        let value = var["value"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: a plain value"))
            .to_owned();
        env.insert(name, value);
    }
    env
}

fn containers(manifest: &Value) -> &Vec<Value> {
    manifest["spec"]["template"]["spec"]["containers"]
        .as_sequence()
        .unwrap()
}

#[test]
fn every_manifest_is_a_known_kind_with_an_api_version_and_a_name() {
    let manifests = manifests();
    let kinds: BTreeSet<&str> = manifests
        .iter()
        .filter_map(|(_, m)| m["kind"].as_str())
        .collect();
    for kind in ["ConfigMap", "Secret", "Service", "Deployment", "Job"] {
        assert!(kinds.contains(kind), "a {kind}: {kinds:?}");
    }
    let mut seen = BTreeSet::new();
    for (file, m) in &manifests {
        let kind = m["kind"]
            .as_str()
            .unwrap_or_else(|| panic!("{file}: no kind"));
        let version = KINDS
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("{file}: unknown kind {kind}"));
        assert_eq!(
            m["apiVersion"].as_str(),
            Some(version),
            "{file}: apiVersion of {kind}"
        );
        let name =
            str_of(m, &["metadata", "name"]).unwrap_or_else(|| panic!("{file}: no metadata.name"));
        assert!(!name.is_empty(), "{file}");
        assert!(seen.insert((kind, name)), "{file}: a second {kind} {name}");
    }
}

#[test]
fn every_wastetrack_name_in_the_deployment_files_is_a_setting() {
    let known: BTreeSet<String> = settings()
        .into_iter()
        .chain(NOT_SETTINGS_BUT_READ.iter().map(|s| (*s).to_owned()))
        .collect();
    let mut checked = 0;
    for path in files_under(&root().join("deploy")) {
        for name in names_in(&read(&path)) {
            assert!(
                known.contains(&name),
                "{}: {name} is not a setting",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 20, "names were found ({checked})");
    // The environment the manifests give, key by key.
    for (file, m) in manifests() {
        let keys: Vec<String> = match m["kind"].as_str() {
            Some("ConfigMap") => m["data"]
                .as_mapping()
                .unwrap()
                .keys()
                .map(|k| k.as_str().unwrap().to_owned())
                .collect(),
            Some("Secret") => m["stringData"]
                .as_mapping()
                .unwrap()
                .keys()
                .map(|k| k.as_str().unwrap().to_owned())
                .collect(),
            Some("Deployment" | "Job") => containers(&m)
                .iter()
                .flat_map(|c| environment(c).into_keys())
                .collect(),
            _ => Vec::new(),
        };
        for key in keys {
            assert!(known.contains(&key), "{file}: {key} is not a setting");
        }
    }
}

#[test]
fn the_readme_documents_every_setting_and_names_no_other() {
    let readme = names_in(&read(&root().join("README.md")));
    let settings = settings();
    for name in &settings {
        assert!(readme.contains(name), "README.md does not document {name}");
    }
    for name in &readme {
        assert!(
            settings.contains(name)
                || NOT_SETTINGS_BUT_READ.contains(&name.as_str())
                || TEST_VARIABLES.contains(&name.as_str()),
            "README.md names {name}, which is not a setting"
        );
    }
}

#[test]
fn the_deployment_runs_replicas_on_postgresql_behind_its_probes() {
    let deployment = the("Deployment");
    let replicas = deployment["spec"]["replicas"].as_u64().unwrap();
    assert!(replicas >= 2, "replicas: {replicas}");
    let spec = &deployment["spec"]["template"]["spec"];
    let [container] = containers(&deployment).as_slice() else {
        panic!("one container")
    };
    assert_eq!(
        container["args"],
        serde_norway::from_str::<Value>("[serve]").unwrap()
    );

    let env = environment(container);
    let url = env.get("WASTETRACK_DATABASE_URL").expect("a database URL");
    assert!(
        url.starts_with("postgres://") || url.starts_with("postgresql://"),
        "replicas share PostgreSQL, never a SQLite file: {url}"
    );
    for secret in ["WASTETRACK_AUTH__JWT_SECRET", "WASTETRACK_ADMIN_PASSWORD"] {
        assert!(env.contains_key(secret), "{secret} is set");
    }
    // The port the service listens on is the container's, which the probes and the Service use.
    let listen = env.get("WASTETRACK_LISTEN").expect("WASTETRACK_LISTEN");
    let port: u64 = listen.rsplit_once(':').unwrap().1.parse().unwrap();
    assert!(
        listen.starts_with("0.0.0.0:"),
        "reachable from outside the pod: {listen}"
    );
    let ports = container["ports"].as_sequence().unwrap();
    let http = ports
        .iter()
        .find(|p| p["containerPort"].as_u64() == Some(port))
        .unwrap_or_else(|| panic!("a container port {port}"));
    let port_name = http["name"].as_str().unwrap();
    let probe = |name: &str| {
        let get = &container[name]["httpGet"];
        let to = &get["port"];
        assert!(
            to.as_str() == Some(port_name) || to.as_u64() == Some(port),
            "{name} port: {to:?}"
        );
        get["path"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: an HTTP path"))
            .to_owned()
    };
    assert_eq!(probe("livenessProbe"), "/healthz");
    assert_eq!(probe("readinessProbe"), "/readyz");
    if !container["startupProbe"].is_null() {
        assert_eq!(probe("startupProbe"), "/healthz");
    }
    // SIGTERM comes after the preStop pause; the grace period covers both and the shutdown.
    let shutdown: u64 = env
        .get("WASTETRACK_SHUTDOWN_TIMEOUT_SECS")
        .map_or(30, |s| s.parse().unwrap());
    let pause: u64 = container["lifecycle"]["preStop"]["exec"]["command"]
        .as_sequence()
        .and_then(|c| c.last())
        .and_then(Value::as_str)
        .map_or(0, |s| s.parse().unwrap());
    let grace = spec["terminationGracePeriodSeconds"].as_u64().unwrap_or(30);
    assert!(
        grace > shutdown + pause,
        "grace {grace} s ≤ {shutdown} s + {pause} s"
    );

    // The Service and the disruption budget select these pods, on the named port.
    let labels = deployment["spec"]["template"]["metadata"]["labels"]
        .as_mapping()
        .unwrap();
    let selects = |selector: &Value| {
        selector
            .as_mapping()
            .unwrap()
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
    };
    let service = the("Service");
    assert!(
        selects(&service["spec"]["selector"]),
        "the Service selects the pods"
    );
    assert!(
        service["spec"]["ports"]
            .as_sequence()
            .unwrap()
            .iter()
            .any(|p| p["targetPort"].as_str() == Some(port_name)
                || p["targetPort"].as_u64() == Some(port))
    );
    let budget = the("PodDisruptionBudget");
    assert!(selects(&budget["spec"]["selector"]["matchLabels"]));
    assert!(budget["spec"]["minAvailable"].as_u64().unwrap() < replicas);

    // Every container states what it needs and may use.
    for manifest in [&deployment, &the("Job")] {
        for c in containers(manifest) {
            for bound in ["requests", "limits"] {
                for resource in ["cpu", "memory"] {
                    assert!(
                        !c["resources"][bound][resource].is_null(),
                        "{}: resources.{bound}.{resource}",
                        c["name"].as_str().unwrap_or_default()
                    );
                }
            }
        }
    }
}

#[test]
fn the_migration_job_migrates_the_deployments_database_with_its_image() {
    let job = the("Job");
    let deployment = the("Deployment");
    let [migrate] = containers(&job).as_slice() else {
        panic!("one container")
    };
    let [serve] = containers(&deployment).as_slice() else {
        panic!("one container")
    };
    assert_eq!(
        migrate["args"],
        serde_norway::from_str::<Value>("[migrate]").unwrap()
    );
    assert_eq!(migrate["image"], serve["image"]);
    assert_eq!(
        environment(migrate).get("WASTETRACK_DATABASE_URL"),
        environment(serve).get("WASTETRACK_DATABASE_URL")
    );
    assert_eq!(
        job["spec"]["template"]["spec"]["restartPolicy"].as_str(),
        Some("Never")
    );
}

#[test]
fn compose_runs_the_service_on_postgresql_with_real_settings() {
    let compose: Value =
        serde_norway::from_str(&read(&root().join("deploy/docker-compose.yml"))).unwrap();
    let service = &compose["services"]["wastetrack"];
    let env = service["environment"].as_mapping().unwrap();
    let settings = settings();
    for (key, _) in env {
        let key = key.as_str().unwrap();
        assert!(
            settings.contains(key),
            "docker-compose.yml: {key} is not a setting"
        );
    }
    let url = env
        .get("WASTETRACK_DATABASE_URL")
        .and_then(Value::as_str)
        .expect("a database URL");
    assert!(url.starts_with("postgres://"), "{url}");
    assert!(env.contains_key("WASTETRACK_AUTH__JWT_SECRET"));
}

/// Cargo reads every target Cargo.toml declares, even to build one binary: the Dockerfile's
/// build stage must copy the folders they live in, besides the sources, the migrations and
/// cargo's own settings.
#[test]
fn the_dockerfile_copies_what_cargo_needs_and_the_context_leaves_out_the_build_folder() {
    let dockerfile = read(&root().join("deploy/Dockerfile"));
    let build_stage = dockerfile.split("\nFROM ").nth(1).expect("a build stage");
    let mut copied = BTreeSet::new();
    for line in build_stage.lines().filter(|l| l.starts_with("COPY ")) {
        let words: Vec<&str> = line
            .split_whitespace()
            .skip(1)
            .filter(|w| !w.starts_with("--"))
            .collect();
        for source in &words[..words.len() - 1] {
            copied.insert(source.trim_end_matches('/').to_owned());
        }
    }
    // `.cargo` holds the build settings of the bundled SQLite (its config.toml).
    let mut needed: BTreeSet<String> = ["Cargo.toml", "Cargo.lock", ".cargo", "src", "migrations"]
        .map(str::to_owned)
        .into();
    let mut section = String::new();
    let mut target_dirs: Vec<(String, Option<String>)> = Vec::new();
    for line in read(&root().join("Cargo.toml")).lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.to_owned();
            let default = match line {
                "[[bench]]" => Some("benches"),
                "[[example]]" => Some("examples"),
                "[[test]]" => Some("tests"),
                "[[bin]]" | "[lib]" => Some("src"),
                _ => None,
            };
            if let Some(dir) = default {
                target_dirs.push((dir.to_owned(), None));
            }
        } else if let Some(path) = line.strip_prefix("path")
            && ["[[bench]]", "[[example]]", "[[test]]", "[[bin]]", "[lib]"]
                .contains(&section.as_str())
        {
            let path = path.trim_start_matches([' ', '=']).trim_matches('"');
            if let Some(last) = target_dirs.last_mut() {
                last.1 = Some(path.split('/').next().unwrap().to_owned());
            }
        }
    }
    needed.extend(
        target_dirs
            .into_iter()
            .map(|(default, path)| path.unwrap_or(default)),
    );
    for path in &needed {
        assert!(
            copied.contains(path),
            "deploy/Dockerfile's build stage does not copy {path}: {copied:?}"
        );
    }
    // The service's settings: the port exposed is the one it listens on.
    let listen = dockerfile
        .split_whitespace()
        .find_map(|w| w.strip_prefix("WASTETRACK_LISTEN="))
        .expect("WASTETRACK_LISTEN in the image");
    let port = listen.rsplit_once(':').unwrap().1;
    assert!(
        dockerfile.contains(&format!("EXPOSE {port}")),
        "EXPOSE {port}"
    );
    let ignored = read(&root().join(".dockerignore"));
    assert!(
        ignored.lines().any(|l| l.trim() == "target"),
        ".dockerignore leaves out target"
    );
}

#[test]
fn the_systemd_unit_migrates_then_serves_with_the_documented_environment() {
    let unit = read(&root().join("deploy/wastetrack.service"));
    let value = |key: &str| {
        unit.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("{key}= in the unit"))
            .to_owned()
    };
    assert!(value("ExecStartPre").ends_with("wastetrack migrate"));
    assert!(value("ExecStart").ends_with("wastetrack serve"));
    assert_eq!(value("EnvironmentFile"), "/etc/wastetrack/wastetrack.env");
    let stop: u64 = value("TimeoutStopSec").parse().unwrap();
    assert!(
        stop > 30,
        "the stop timeout leaves room for the 30 s shutdown"
    );
    let example = read(&root().join("deploy/wastetrack.env.example"));
    let settings = settings();
    for line in example.lines().map(|l| l.trim_start_matches("# ")) {
        if let Some((key, _)) = line.split_once('=')
            && key.starts_with("WASTETRACK_")
        {
            assert!(
                settings.contains(key),
                "wastetrack.env.example: {key} is not a setting"
            );
        }
    }
}

#[test]
fn the_image_and_the_unit_bound_the_allocator() {
    let dockerfile = read(&root().join("deploy/Dockerfile"));
    let unit = read(&root().join("deploy/wastetrack.service"));
    for setting in ["MALLOC_ARENA_MAX=2", "MALLOC_MMAP_THRESHOLD_=131072"] {
        assert!(
            dockerfile
                .lines()
                .any(|l| l.trim().trim_end_matches('\\').trim() == setting),
            "the Dockerfile sets {setting}"
        );
        assert!(
            unit.lines()
                .any(|l| l.trim() == format!("Environment={setting}")),
            "the unit sets {setting}"
        );
    }
}
