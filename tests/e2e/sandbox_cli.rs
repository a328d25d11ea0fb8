//! `directory-sync sandbox`, as a frontend developer uses it: start it, copy the configuration
//! it prints into a service, and connect each provider with the credentials it prints.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use sandbox::SampleCredentials;

use directory_sync::admin_flow;
use directory_sync::config::Config;
use directory_sync::service::{Roles, RunningService};

use crate::helpers::{test_tuning, unique, Process};

/// What the sandbox printed: the service's configuration, and per provider the form's values.
struct Printed {
    settings: HashMap<String, String>,
    credentials: Vec<(String, HashMap<String, String>)>,
}

fn read_until_ready(process: &mut Process) -> Printed {
    let stdout = process.0.stdout.take().expect("stdout is piped");
    let mut printed = Printed { settings: HashMap::new(), credentials: Vec::new() };
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("the sandbox's output");
        let text = line.trim().trim_end_matches('\\').trim();
        if text.starts_with("Ctrl-C") {
            return printed;
        }
        if let Some((name, value)) = text.split_once("='") {
            printed.settings.insert(name.trim_start_matches("env ").to_string(), value.trim_end_matches('\'').into());
        } else if let Some(id) = text.split("providerId: \"").nth(1) {
            printed.credentials.push((id.trim_end_matches("\")").to_string(), HashMap::new()));
        } else if let Some((_, values)) = printed.credentials.last_mut() {
            let words: Vec<&str> = text.split_whitespace().collect();
            if let [key @ ("subdomain" | "apiKey" | "apiSecret"), value, ..] = words[..] {
                values.insert(key.to_string(), value.to_string());
            }
        }
    }
    panic!("the sandbox stopped before it was ready");
}

#[tokio::test]
async fn the_sandbox_prints_what_connects_every_provider() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut process = Process(
        Command::new(env!("CARGO_BIN_EXE_directory-sync"))
            .args(["sandbox", "--bind", &format!("127.0.0.1:{port}"), "--employees", "30"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the directory-sync binary starts"),
    );
    let printed = tokio::task::spawn_blocking(move || {
        let printed = read_until_ready(&mut process);
        (printed, process)
    });
    let (printed, _process) = printed.await.unwrap();
    assert!(printed.settings.contains_key("BAMBOOHR_API_BASE") && printed.settings.contains_key("MERGE_API_KEY"));

    let data_dir = std::env::temp_dir().join(unique("directory-sync-sandbox-cli"));
    let dir = data_dir.display().to_string();
    let config = Config::from_lookup(|name| match name {
        "BIND_ADDR" => Some("127.0.0.1:0".into()),
        "DATA_DIR" => Some(dir.clone()),
        other => printed.settings.get(other).cloned(),
    })
    .unwrap();
    let service =
        RunningService::start(&config, Roles { api: true, worker: true }, test_tuning(&config, 25)).await.unwrap();
    let token = service.keys.mint("dev", "frontend", api::Role::Admin, api::Plan::Paid, chrono::Duration::hours(1));
    let client = directory_sync::client::GraphqlClient::new(service.url.as_deref().unwrap(), Some(token));
    // A spreadsheet has no fake to print credentials for.
    let providers: Vec<&str> =
        worker::providers::catalogue::all().map(|p| p.info()).filter(|p| p.is_called()).map(|p| p.id).collect();
    assert_eq!(printed.credentials.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), providers);
    for (id, values) in &printed.credentials {
        let provider = sandbox::fake(id).unwrap().id();
        let credentials = SampleCredentials {
            provider_id: provider,
            subdomain: values.get("subdomain").cloned(),
            api_key: values["apiKey"].clone(),
            api_secret: values.get("apiSecret").cloned(),
        };
        let connection = admin_flow::connect(&client, &credentials).await.unwrap();
        assert_eq!(connection["status"], "CONNECTED", "{id}: {connection}");
        let connection_id = connection["id"].as_str().unwrap();
        let entries = admin_flow::current_mapping(&client, connection_id).await.unwrap();
        admin_flow::save_and_confirm(&client, connection_id, entries).await.unwrap();
        let run_id = admin_flow::start_sync(&client, connection_id).await.unwrap();
        let last = admin_flow::follow_run(&client, &run_id, |_| {}).await.unwrap();
        // The sandbox's sample company, as each provider lists it.
        let records = sandbox::fake(id).unwrap().holds().records(&sandbox::Company::generate("acme.example", 30, 7));
        assert_eq!(
            (last["status"].as_str(), last["processed"].as_i64()),
            (Some("SUCCEEDED"), Some(records as i64)),
            "{id}: {last}"
        );
    }
    service.stop().await;
    let _ = std::fs::remove_dir_all(&data_dir);
}
