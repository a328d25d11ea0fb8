//! The admin portal in a real browser: `tests/browser/portal.test.mjs` clicks the seed's
//! walk-through, and `guard.test.mjs` the sync's safety nets, in Debian's Chromium against this
//! test's service and sandbox, checking every screen with axe-core, and writes a screenshot of
//! each step to `target/tmp/portal-screenshots/<test>/`.
//! It needs Node.js, Chromium at `/usr/bin/chromium` (or `CHROMIUM`) and the npm packages of
//! `tests/browser` (installed here with `npm ci` when missing); `.ci/run` installs the first two.
//! Also here: the portal's local sign-in, and `demo --open`, which hands a person the portal.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use api::{Plan, Role};
use directory_sync::client::GraphqlClient;
use sandbox::Company;
use serde_json::{json, Value};

use crate::helpers::{Backend, Process, TestApp};

fn browser_suite() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser"))
}

/// Installs the suite's npm packages (pinned by its lock file) unless they are there.
/// Once per test process, as the browser tests run side by side.
fn install_packages() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(install_packages_now);
}

fn install_packages_now() {
    let modules = browser_suite().join("node_modules");
    if modules.join("playwright-core").exists() && modules.join("axe-core").exists() {
        return;
    }
    let installed = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(browser_suite())
        .status()
        .expect("npm (Node.js) runs the browser tests; install Node.js");
    assert!(installed.success(), "npm ci in tests/browser failed");
}

/// Runs `tests/browser/<script>` against `app`, signed in as its admin, with `sandbox` telling
/// the script what the sandbox holds; its screenshots go to `portal-screenshots/<script's name>`.
async fn run_in_browser(app: &TestApp, script: &str, sandbox: Value) {
    install_packages();
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(Path::new(&chromium).exists(), "the browser tests need Chromium at {chromium} (apt-get install chromium)");
    let token = app.token_for(&app.workspace, Role::Admin, Plan::Paid);
    let scenario = script.trim_end_matches(".test.mjs");
    let screenshots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("portal-screenshots").join(scenario);
    let (url, script) = (app.url.clone(), script.to_string());
    let run = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
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
    assert!(run.status.success(), "{scenario} failed in the browser:\n{out}\n{err}");
}

#[tokio::test]
async fn the_seeds_walk_through_works_in_a_browser() {
    let app = TestApp::spawn(Backend::Embedded).await;
    // A linked account at Merge too, for Merge Link.
    let merge_employees = 20;
    app.sandbox.add_tenant("merge", "acme-merge", Company::generate("merge.example", merge_employees, 5));
    let sandbox = json!({
        "providerId": app.credentials.provider_id,
        "subdomain": app.credentials.subdomain,
        "apiKey": app.credentials.api_key,
        "employees": 60,
        "mergeEmployees": merge_employees,
    });
    run_in_browser(&app, "portal.test.mjs", sandbox).await;
    app.stop().await;
}

/// Held deactivations confirmed, and a slow sync cancelled, in the browser.
#[tokio::test]
async fn held_deactivations_and_cancelling_work_in_a_browser() {
    let app = TestApp::spawn(Backend::Embedded).await;
    let admin = app.admin();
    let connection_id = app.connect_and_map(&admin).await;
    app.sync(&admin, &connection_id).await;
    // The provider answers with nobody: the sync holds everyone's deactivation back.
    let employees = app.sandbox.with_tenant("acme", |t| std::mem::take(&mut t.company.employees));
    let held = app.sync(&admin, &connection_id).await;
    let held = held["deactivationsHeld"].as_i64().unwrap();
    assert!(held > 50, "{held}");
    // Back, and slow, so the next sync runs long enough to be cancelled.
    app.sandbox.with_tenant("acme", |t| {
        t.company.employees = employees;
        t.latency = Some(std::time::Duration::from_secs(4));
    });
    run_in_browser(&app, "guard.test.mjs", json!({ "connectionId": connection_id, "held": held })).await;
    app.stop().await;
}

/// An ATS connected in the browser, and two people who may be one joined from the history.
#[tokio::test]
async fn an_ats_connection_and_a_join_work_in_a_browser() {
    let app = TestApp::spawn(Backend::Embedded).await;
    let admin = app.admin();
    let bamboohr = app.connect_and_map(&admin).await;
    app.sync(&admin, &bamboohr).await;
    // The ATS knows everyone by the same work email but one, by a personal address.
    let mut hired = app.sandbox.with_tenant("acme", |t| t.company.clone());
    let twin = hired.employees.iter().find(|e| e.id > 20 && e.is_active() && e.work_email.is_some()).unwrap().id;
    let twin = hired.employee_mut(twin);
    let work = twin.work_email.replace("twin.personal@mail.example".into()).unwrap();
    let ats = app.sandbox.add_tenant("greenhouse", "acme-ats", hired);
    let sandbox = json!({
        "clientId": ats.api_key,
        "clientSecret": ats.api_secret,
        "twin": { "workEmail": work, "email": "twin.personal@mail.example" },
    });
    run_in_browser(&app, "ats.test.mjs", sandbox).await;
    app.stop().await;
}

/// A spreadsheet uploaded, mapped and synced in the browser, then a newer file without someone.
#[tokio::test]
async fn a_spreadsheet_is_uploaded_and_synced_in_a_browser() {
    let app = TestApp::spawn(Backend::Embedded).await;
    let mut company = Company::generate("acme.example", 30, 29);
    let with_email: Vec<u32> = company.employees.iter().filter(|e| e.work_email.is_some()).map(|e| e.id).collect();
    company.employee_mut(with_email[0]).job_title = "=SUM(A1:A2)".into();
    let file = String::from_utf8(sandbox::spreadsheet::people_csv(&company)).unwrap();
    let leaver = company
        .employees
        .iter()
        .find(|e| {
            e.is_active() && e.work_email.is_some() && company.employees.iter().all(|r| r.manager_id != Some(e.id))
        })
        .unwrap()
        .clone();
    company.employees.retain(|e| e.id != leaver.id);
    let inactive = company
        .employees
        .iter()
        .filter(|e| e.work_email.is_some() && sandbox::hiring::Expected::of(e).status == "INACTIVE")
        .count();
    let sandbox = json!({
        "file": file,
        "newer": String::from_utf8(sandbox::spreadsheet::people_csv(&company)).unwrap(),
        "people": with_email.len(),
        "inactive": inactive + 1,
        "leaver": leaver.work_email,
    });
    run_in_browser(&app, "spreadsheet.test.mjs", sandbox).await;
    app.stop().await;
}

/// An identity provider connected in a browser: its SCIM endpoint made from the catalogue, users
/// pushed with the token the page showed, a first sync, a mass deactivation held and confirmed
/// from the card, and a rotated token.
#[tokio::test]
async fn an_identity_provider_is_connected_over_scim_in_a_browser() {
    let app = TestApp::spawn(Backend::Embedded).await;
    run_in_browser(&app, "scim.test.mjs", json!({ "people": 12 })).await;
    app.stop().await;
}

/// "Sign in on this computer": a token for the data directory's workspace, in embedded mode,
/// asked for on this computer by a loopback name, as JSON; refused otherwise.
async fn a_local_sign_in_is_for_embedded_mode_on_this_computer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let http = reqwest::Client::new();
    let address = format!("{}/portal/local-sign-in", app.url);
    let offered: Value = http.get(&address).send().await.unwrap().json().await.unwrap();
    let answer = http.post(&address).json(&json!({})).send().await.unwrap();
    let status = answer.status().as_u16();
    let body: Value = answer.json().await.unwrap();
    match backend {
        Backend::Embedded => {
            assert_eq!(offered, json!({ "available": true }));
            assert_eq!(status, 200, "{body}");
            let local = GraphqlClient::new(&app.url, Some(body["token"].as_str().unwrap().to_string()));
            let viewer =
                local.execute("{ viewer { subject workspaceId role plan } }", json!({})).await.unwrap().ok().unwrap();
            assert_eq!(
                viewer["viewer"],
                json!({ "subject": "local-admin", "workspaceId": "local", "role": "admin", "plan": "paid" })
            );
            // A site whose name points at 127.0.0.1 (DNS rebinding) sends its own name.
            let rebound = http.post(&address).header("host", "attacker.example").json(&json!({})).send().await.unwrap();
            assert_eq!(rebound.status().as_u16(), 403);
            let offered: Value =
                http.get(&address).header("host", "attacker.example").send().await.unwrap().json().await.unwrap();
            assert_eq!(offered, json!({ "available": false }));
            // Passed on by a proxy on this computer, whose callers may be anywhere; or sent by
            // another site's page.
            let proxied =
                http.post(&address).header("x-forwarded-for", "203.0.113.9").json(&json!({})).send().await.unwrap();
            assert_eq!(proxied.status().as_u16(), 403);
            let other_site =
                http.post(&address).header("origin", "https://attacker.example").json(&json!({})).send().await.unwrap();
            assert_eq!(other_site.status().as_u16(), 403);
            // A form another site's page could post without asking.
            let form = http.post(&address).header("content-type", "text/plain").body("{}").send().await.unwrap();
            assert_eq!(form.status().as_u16(), 403);
        }
        Backend::PostgresRedis => {
            assert_eq!(offered, json!({ "available": false }));
            assert_eq!(status, 403);
            assert!(body["error"].as_str().unwrap().contains("embedded mode"), "{body}");
        }
    }
    app.stop().await;
}

crate::on_both_backends!(a_local_sign_in_is_for_embedded_mode_on_this_computer);

/// `demo --open` leaves the demo running and prints the portal's address with a ready token,
/// and the credentials that connect its sandbox tenant there.
#[tokio::test]
async fn demo_open_prints_a_signed_in_portal_link_and_credentials_that_connect() {
    let mut process = Process(
        Command::new(env!("CARGO_BIN_EXE_directory-sync"))
            .args(["demo", "--open", "--employees", "25"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the directory-sync binary starts"),
    );
    let stdout = process.0.stdout.take().unwrap();
    let reading = tokio::task::spawn_blocking(move || {
        let mut printed = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let ready = line.starts_with("Ctrl-C");
            printed.push(line);
            if ready {
                return printed;
            }
        }
        panic!("the demo stopped before it was ready: {printed:?}");
    });
    let printed = tokio::time::timeout(std::time::Duration::from_secs(60), reading)
        .await
        .expect("the demo is ready within a minute")
        .unwrap();
    let link = printed.iter().find_map(|l| l.trim().split_once("/#token=")).expect("a portal link");
    let (url, token) = (link.0.to_string(), link.1.to_string());
    let value = |key: &str| {
        printed.iter().find_map(|l| {
            l.split_whitespace().collect::<Vec<_>>().get(..2).filter(|w| w[0] == key).map(|w| w[1].to_string())
        })
    };
    let page = reqwest::get(format!("{url}/")).await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("/portal/app.js"));

    // The link's token is the demo workspace's admin, and the printed values connect.
    let admin = GraphqlClient::new(&url, Some(token));
    let viewer = admin.execute("{ viewer { workspaceId role } }", json!({})).await.unwrap().ok().unwrap();
    assert_eq!(viewer["viewer"], json!({ "workspaceId": "demo", "role": "admin" }));
    let credentials = sandbox::SampleCredentials {
        provider_id: "bamboohr",
        subdomain: value("subdomain"),
        api_key: value("apiKey").expect("the API key is printed"),
        api_secret: None,
    };
    let connection = directory_sync::admin_flow::connect(&admin, &credentials).await.unwrap();
    assert_eq!(connection["status"], "CONNECTED", "{connection}");
    // Its local sign-in is for the same workspace.
    let local: Value = reqwest::Client::new()
        .post(format!("{url}/portal/local-sign-in"))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let local = GraphqlClient::new(&url, local["token"].as_str().map(String::from));
    let connections = local.execute("{ connections { id } }", json!({})).await.unwrap().ok().unwrap();
    assert_eq!(connections["connections"][0]["id"], connection["id"]);

    // SIGTERM stops it cleanly.
    let pid = process.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let exited = tokio::task::spawn_blocking(move || process.0.wait().unwrap()).await.unwrap();
    assert!(exited.success(), "{exited:?}");
}
