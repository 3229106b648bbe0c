//! A typed client can be generated from the document without hand edits: with
//! `WASTETRACK_TYPESCRIPT=1`, `tests/contract/typescript.sh` generates TypeScript types with
//! openapi-typescript and type-checks a client module against them with `tsc --strict`. It
//! needs node, npm and the npm registry, so it is skipped otherwise.

use std::process::Command;

#[test]
fn a_typescript_client_can_be_generated_from_the_document() {
    if std::env::var("WASTETRACK_TYPESCRIPT").ok().as_deref() != Some("1") {
        eprintln!("TypeScript client check skipped: set WASTETRACK_TYPESCRIPT=1 to run it");
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let output = Command::new("bash")
        .arg(format!("{root}/tests/contract/typescript.sh"))
        .arg(format!("{root}/openapi/openapi.json"))
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "typescript.sh failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("{}", String::from_utf8_lossy(&output.stdout));
}
