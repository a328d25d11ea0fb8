//! What an operator meets running the binary: a database that is behind is refused at start-up
//! with the command that fixes it, `/readyz` says when the schema falls behind, request logs
//! carry no secrets from query strings, and embedded files are private to the service's user.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database};

use crate::helpers::{fresh_postgres_database, unique, Cleanup, Process, REDIS_URL};

/// `directory-sync <args>` with `env`, its stderr written to `log`.
fn spawn(args: &[&str], env: &[(String, String)], log: &std::path::Path) -> Process {
    let log = std::fs::File::create(log).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_directory-sync"))
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("the directory-sync binary starts");
    Process(child)
}

/// A refusal to start is one line naming the binary, however the process was told to report
/// (`RUST_BACKTRACE=1` included).
fn assert_one_line(said: &str, what: &str) {
    let lines: Vec<&str> = said.lines().filter(|line| !line.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{what}: one line, not a backtrace: {said}");
    assert!(lines[0].starts_with("directory-sync: "), "{what}: {said}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Polls `/readyz` until it answers `status`, or 30 s pass.
/// How `process` (`what`, for the failure message) exited, within 30 s.
async fn exit_of(mut process: Process, what: &str) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = process.0.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "{what}: kept running");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_for_readyz(url: &str, status: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(response) = reqwest::get(format!("{url}/readyz")).await {
            if response.status().as_u16() == status {
                return response.text().await.unwrap();
            }
        }
        assert!(Instant::now() < deadline, "/readyz did not answer {status} within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_database_behind_the_binary_is_refused_with_the_command_that_fixes_it() {
    let (database, database_url) = fresh_postgres_database().await;
    let data_dir = std::env::temp_dir().join(unique("directory-sync-operator"));
    let redis_prefix = unique("ds-operator");
    let _cleanup = Cleanup {
        data_dir: data_dir.clone(),
        postgres_database: Some(database),
        redis_prefix: Some(redis_prefix.clone()),
    };
    std::fs::create_dir_all(&data_dir).unwrap();
    let port = free_port();
    let env: Vec<(String, String)> = [
        ("DATABASE_URL", database_url.clone()),
        ("REDIS_URL", REDIS_URL.to_string()),
        ("REDIS_PREFIX", redis_prefix),
        // Production mode needs a mail server for invitations; these processes never send.
        ("SMTP_URL", "smtp://127.0.0.1:2525".to_string()),
        ("JWT_SECRET", "operator-test-secret".to_string()),
        ("ENCRYPTION_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".to_string()),
        ("BIND_ADDR", format!("127.0.0.1:{port}")),
        ("DATA_DIR", data_dir.display().to_string()),
        ("RUST_LOG", "error".to_string()),
        ("RUST_BACKTRACE", "1".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();

    // Not migrated: both roles refuse to start, and say what to run.
    for args in [&["serve"][..], &["worker"][..]] {
        let log = data_dir.join("refused.log");
        let status = exit_of(spawn(args, &env, &log), &format!("{args:?} on an unmigrated database")).await;
        assert!(!status.success(), "{args:?} exits non-zero");
        let said = std::fs::read_to_string(&log).unwrap();
        assert!(said.contains("not migrated") && said.contains("directory-sync migrate"), "{args:?}: {said}");
        assert_one_line(&said, &format!("{args:?}"));
    }

    // --migrate applies them and serves.
    let url = format!("http://127.0.0.1:{port}");
    let mut server = spawn(&["serve", "--migrate"], &env, &data_dir.join("serve.log"));
    assert_eq!(wait_for_readyz(&url, 200).await, "ready");

    // A migration this binary needs goes missing (an older binary's rollback, say): not ready.
    let db = Database::connect(&database_url).await.unwrap();
    db.execute_unprepared("DELETE FROM seaql_migrations WHERE version = (SELECT MAX(version) FROM seaql_migrations)")
        .await
        .unwrap();
    let problem = wait_for_readyz(&url, 503).await;
    assert!(problem.contains("directory-sync migrate"), "{problem}");
    server.kill();
}

#[tokio::test]
async fn request_logs_and_embedded_files_keep_secrets() {
    let data_dir = std::env::temp_dir().join(unique("directory-sync-operator"));
    let _cleanup = Cleanup { data_dir: data_dir.clone(), postgres_database: None, redis_prefix: None };
    let port = free_port();
    let env: Vec<(String, String)> = [
        ("BIND_ADDR", format!("127.0.0.1:{port}")),
        ("DATA_DIR", data_dir.display().to_string()),
        ("RUST_LOG", "info".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let log = std::env::temp_dir().join(unique("directory-sync-operator-log"));
    let mut server = spawn(&["serve"], &env, &log);
    let url = format!("http://127.0.0.1:{port}");
    wait_for_readyz(&url, 200).await;
    let callback =
        reqwest::get(format!("{url}/oauth/callback?code=CODE-SECRET-1234&state=STATE-SECRET-5678")).await.unwrap();
    assert_eq!(callback.status().as_u16(), 400, "an unknown sign-in");
    // The request line is logged once the answer is sent; give the logger a moment.
    let deadline = Instant::now() + Duration::from_secs(10);
    let logged = loop {
        let logged = std::fs::read_to_string(&log).unwrap();
        if logged.contains("/oauth/callback") || Instant::now() > deadline {
            break logged;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    server.kill();
    let _ = std::fs::remove_file(&log);
    assert!(logged.contains("GET /oauth/callback 400"), "the request is logged: {logged}");
    assert!(!logged.contains("CODE-SECRET") && !logged.contains("STATE-SECRET"), "{logged}");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |name: &str| std::fs::metadata(data_dir.join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(""), 0o700, "the data directory");
        for file in ["directory-sync.db", "directory-sync.db-wal", "queue.db", "jwt_secret", "encryption_key"] {
            assert_eq!(mode(file), 0o600, "{file}");
        }
    }
}

/// Mail settings are checked before anything starts: a malformed `SMTP_URL` (whose password is
/// never repeated) and a production deployment without one both stop `serve`, naming it.
#[tokio::test]
async fn mail_settings_are_checked_at_start_up() {
    let data_dir = std::env::temp_dir().join(unique("directory-sync-operator"));
    let _cleanup = Cleanup { data_dir: data_dir.clone(), postgres_database: None, redis_prefix: None };
    std::fs::create_dir_all(&data_dir).unwrap();
    let common = [
        ("DATA_DIR", data_dir.display().to_string()),
        ("BIND_ADDR", format!("127.0.0.1:{}", free_port())),
        ("RUST_BACKTRACE", "1".to_string()),
    ];
    let malformed = [("SMTP_URL", "smtp://mailer:hunter2@/nohost".to_string())];
    let production = [
        ("REDIS_URL", REDIS_URL.to_string()),
        ("JWT_SECRET", "operator-test-secret".to_string()),
        ("ENCRYPTION_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".to_string()),
    ];
    for (case, extra, expected) in [
        ("malformed", &malformed[..], "SMTP_URL: "),
        ("production", &production[..], "SMTP_URL must be set when REDIS_URL is set"),
    ] {
        let env: Vec<(String, String)> = common.iter().chain(extra).map(|(k, v)| (k.to_string(), v.clone())).collect();
        let log = data_dir.join(format!("{case}.log"));
        let status = exit_of(spawn(&["serve"], &env, &log), case).await;
        let said = std::fs::read_to_string(&log).unwrap();
        assert!(!status.success() && said.contains(expected), "{case}: {said}");
        assert!(!said.contains("hunter2"), "{case}: the password stays out of the log: {said}");
        assert_one_line(&said, case);
    }
}
