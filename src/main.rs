//! The `directory-sync` binary: parses the command line and configuration, then hands over.

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use tracing_subscriber::EnvFilter;

use api::{Plan, Role};
use directory_sync::bench::{BenchOptions, FanoutOptions, ProviderOptions, Servers, Store};
use directory_sync::config::Config;
use directory_sync::service::{self, Roles, RunningService, Tuning};

/// A sync builds and drops many small values per row (statements, parameters, records) across
/// worker threads, where glibc's allocator spent a quarter of the process's CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "directory-sync",
    version,
    about = "Fills the User Directory from your HR system, and keeps it filled"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the GraphQL API (and, unless --no-worker, run sync workers in the same process).
    Serve {
        /// API only: leave syncing to `directory-sync worker` processes.
        #[arg(long)]
        no_worker: bool,
        /// Apply pending database migrations first (production mode otherwise refuses to start
        /// on a database that is behind).
        #[arg(long)]
        migrate: bool,
    },
    /// Run sync workers only.
    Worker {
        /// Apply pending database migrations first.
        #[arg(long)]
        migrate: bool,
    },
    /// Apply database migrations.
    Migrate,
    /// Walk the whole flow against a built-in sample tenant of one provider.
    Demo {
        /// The catalogue id of the provider to connect (bamboohr, personio, ..., or spreadsheet,
        /// which uploads a file of the people instead).
        #[arg(long, default_value = "bamboohr")]
        provider: String,
        #[arg(long, default_value_t = 200)]
        employees: u32,
        /// Instead of walking the flow: leave the service running and print the admin portal's
        /// address with a ready token, to walk it through in a browser.
        #[arg(long)]
        open: bool,
    },
    /// Serve every provider's fake on one port, with a sample company at each, and print the
    /// configuration and credentials to try the whole flow by hand against `serve`.
    Sandbox {
        #[arg(long, default_value = "127.0.0.1:8090")]
        bind: std::net::SocketAddr,
        #[arg(long, default_value_t = 200)]
        employees: u32,
    },
    /// Measure full syncs against a baseline on the embedded parts (SQLite) and the production
    /// parts (PostgreSQL + Redis), and print the figures.
    Bench {
        /// Company sizes to sync (default 200, 10,000 and 100,000; with --provider, 10,000).
        #[arg(long, value_delimiter = ',')]
        employees: Vec<u32>,
        /// Runs per case; with more than one, the run with the median ratio is printed again.
        #[arg(long, default_value_t = 1)]
        repeat: usize,
        /// Stores to sync into.
        #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Store::Sqlite, Store::Postgres])]
        stores: Vec<Store>,
        /// `syncProgress` subscribers in the fan-out case (0 skips it).
        #[arg(long, default_value_t = 1000)]
        subscribers: usize,
        /// Company size for the fan-out case.
        #[arg(long, default_value_t = 20_000)]
        fanout_employees: u32,
        /// The provider whose fake the cases above sync from, or `spreadsheet`: the same company
        /// as an uploaded CSV (its upload timed apart from its sync).
        #[arg(long, default_value = "bamboohr")]
        source: String,
        /// Instead of the cases above: full syncs at these providers' fakes (bamboohr, personio,
        /// hibob, merge), with their quotas and a latency, next to the floor their rules set.
        #[arg(long, value_delimiter = ',')]
        provider: Vec<String>,
        /// How long each provider request takes to answer, in the provider cases.
        #[arg(long, default_value_t = 150)]
        latency_ms: u64,
        /// Admin connection for creating a database per PostgreSQL case.
        #[arg(long, env = "BENCH_POSTGRES_URL", default_value = "postgres://postgres@127.0.0.1:5432/test")]
        postgres_url: String,
        /// Redis for the queue and progress events of PostgreSQL cases (a key prefix per case).
        #[arg(long, env = "BENCH_REDIS_URL", default_value = "redis://127.0.0.1:6379")]
        redis_url: String,
    },
    /// Print a bearer token for local use.
    Token {
        #[arg(long)]
        workspace: String,
        #[arg(long, value_enum, default_value = "admin")]
        role: RoleArg,
        #[arg(long, value_enum, default_value = "paid")]
        plan: PlanArg,
        #[arg(long, default_value = "local-admin")]
        subject: String,
        /// Validity in hours.
        #[arg(long, default_value_t = 24)]
        hours: i64,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Admin,
    Member,
}

#[derive(Clone, Copy, ValueEnum)]
enum PlanArg {
    Paid,
    Free,
}

/// A failure is one line on stderr, its causes after colons and never a backtrace (whatever
/// `RUST_BACKTRACE` says): an operator reads what to do, not where in the code it was found.
#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("directory-sync: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let quiet = matches!(
        cli.command,
        Command::Demo { .. } | Command::Token { .. } | Command::Bench { .. } | Command::Sandbox { .. }
    );
    let default_level = if quiet { "warn" } else { "info" };
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level)))
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Serve { no_worker, migrate } => {
            run_until_signal(Roles { api: true, worker: !no_worker }, migrate).await
        }
        Command::Worker { migrate } => run_until_signal(Roles { api: false, worker: true }, migrate).await,
        Command::Migrate => {
            let config = Config::from_env()?;
            let db = service::connect_database(&config.database_url).await?;
            service::migrate(&db).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Demo { provider, employees, open: false } => directory_sync::demo::run(&provider, employees).await,
        Command::Demo { provider, employees, open: true } => directory_sync::demo::open(&provider, employees).await,
        Command::Sandbox { bind, employees } => directory_sync::sandbox_server::run(bind, employees).await,
        Command::Bench {
            employees,
            repeat,
            stores,
            subscribers,
            fanout_employees,
            source,
            provider,
            latency_ms,
            postgres_url,
            redis_url,
        } => {
            let servers = Servers { postgres_url, redis_url };
            let options = if provider.is_empty() {
                let sizes = if employees.is_empty() { vec![200, 10_000, 100_000] } else { employees };
                let fanout = (subscribers > 0).then_some(FanoutOptions { subscribers, employees: fanout_employees });
                BenchOptions { sizes, source, repeat, fanout, providers: None, stores, servers }
            } else {
                let employees = if employees.is_empty() { vec![10_000] } else { employees };
                let latency = std::time::Duration::from_millis(latency_ms);
                let providers = Some(ProviderOptions { providers: provider, employees, latency });
                BenchOptions { sizes: Vec::new(), source, repeat, fanout: None, providers, stores, servers }
            };
            directory_sync::bench::run(options).await
        }
        Command::Token { workspace, role, plan, subject, hours } => {
            let config = Config::from_env()?;
            let keys = api::JwtKeys::from_secret(secrecy::ExposeSecret::expose_secret(&config.jwt_secret).as_bytes());
            let role = match role {
                RoleArg::Admin => Role::Admin,
                RoleArg::Member => Role::Member,
            };
            let plan = match plan {
                PlanArg::Paid => Plan::Paid,
                PlanArg::Free => Plan::Free,
            };
            println!("{}", keys.mint(&subject, &workspace, role, plan, chrono::Duration::hours(hours)));
            Ok(())
        }
    }
}

async fn run_until_signal(roles: Roles, migrate: bool) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    if migrate {
        service::migrate(&service::connect_database(&config.database_url).await?).await?;
    }
    let service = RunningService::start(&config, roles, Tuning::from_config(&config)).await?;
    if let Some(url) = &service.url {
        eprintln!("directory-sync listening on {url} (GraphiQL at {url}/graphiql)");
    }
    // SIGTERM is how supervisors and rolling deploys stop a process; Ctrl-C sends SIGINT.
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).context("listening for SIGTERM")?;
    let fatal = tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted.context("waiting for Ctrl-C").map(|()| None)?,
        _ = terminate.recv() => None,
        reason = service.fatal() => Some(reason),
    };
    tracing::info!("shutting down");
    service.stop().await;
    match fatal {
        None => Ok(()),
        Some(reason) => anyhow::bail!("stopped: {reason}"),
    }
}
