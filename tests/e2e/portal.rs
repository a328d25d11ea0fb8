//! The admin portal in a real browser: `tests/browser/portal.test.mjs` clicks the seed's
//! walk-through in Debian's Chromium against this test's service and sandbox, checking every
//! screen with axe-core, and writes a screenshot of each step to `target/tmp/portal-screenshots`.
//! It needs Node.js, Chromium at `/usr/bin/chromium` (or `CHROMIUM`) and the npm packages of
//! `tests/browser` (installed here with `npm ci` when missing); `.ci/run` installs the first two.

use std::path::Path;
use std::process::Command;

use api::{Plan, Role};
use serde_json::json;

use crate::helpers::{Backend, TestApp};

fn browser_suite() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser"))
}

/// Installs the suite's npm packages (pinned by its lock file) unless they are there.
fn install_packages() {
    if browser_suite().join("node_modules/playwright-core").exists() {
        return;
    }
    let installed = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(browser_suite())
        .status()
        .expect("npm (Node.js) runs the browser tests; install Node.js");
    assert!(installed.success(), "npm ci in tests/browser failed");
}

#[tokio::test]
async fn the_seeds_walk_through_works_in_a_browser() {
    install_packages();
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(Path::new(&chromium).exists(), "the browser tests need Chromium at {chromium} (apt-get install chromium)");
    let app = TestApp::spawn(Backend::Embedded).await;
    let token = app.token_for(&app.workspace, Role::Admin, Plan::Paid);
    let sandbox = json!({
        "providerId": app.credentials.provider_id,
        "subdomain": app.credentials.subdomain,
        "apiKey": app.credentials.api_key,
        "employees": 60,
    });
    let screenshots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("portal-screenshots");
    let url = app.url.clone();
    let run = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("portal.test.mjs")
            .current_dir(browser_suite())
            .env("PORTAL_URL", url)
            .env("PORTAL_TOKEN", token)
            .env("SANDBOX", sandbox.to_string())
            .env("SCREENSHOTS", &screenshots)
            .env("CHROMIUM", chromium)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    let (out, err) = (String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    println!("{out}");
    assert!(run.status.success(), "the browser walk-through failed:\n{out}\n{err}");
    app.stop().await;
}
