//! Simulated provider tenants for the demo, tests and benchmarks. Each fake speaks its
//! provider's documented wire format (paths, auth, JSON shapes, errors, rate limiting) so the
//! real connectors run against it unchanged; only the base URL differs.
//!
//! Faults can be injected per tenant: error answers, 429 with `Retry-After`, slow answers.

pub mod bamboohr;
pub mod company;
mod faults;

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::{dev::ServerHandle, web, App, HttpServer};

pub use company::{Company, Employee};
pub use faults::Fault;

/// The OAuth application every sandbox tenant accepts.
pub const OAUTH_CLIENT_ID: &str = "sandbox-client";
pub const OAUTH_CLIENT_SECRET: &str = "sandbox-secret";

/// A running sandbox server with its tenants.
pub struct Sandbox {
    url: String,
    tenants: Tenants,
    handle: ServerHandle,
}

pub(crate) type Tenants = Arc<Mutex<HashMap<String, bamboohr::Tenant>>>;

impl Sandbox {
    /// Starts the server on an ephemeral loopback port.
    pub async fn start() -> std::io::Result<Self> {
        let tenants: Tenants = Arc::default();
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}", listener.local_addr()?);
        let data = web::Data::new(tenants.clone());
        let server = HttpServer::new(move || App::new().app_data(data.clone()).configure(bamboohr::routes))
            .workers(1)
            .disable_signals()
            .listen(listener)?
            .run();
        let handle = server.handle();
        tokio::spawn(server);
        Ok(Self { url, tenants, handle })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Value for `BAMBOOHR_API_BASE`.
    pub fn bamboohr_api_base(&self) -> String {
        format!("{}/api/gateway.php", self.url)
    }

    /// Value for `BAMBOOHR_OAUTH_BASE` (`{subdomain}` is substituted by the connector).
    pub fn bamboohr_oauth_base(&self) -> String {
        format!("{}/oauth/{{subdomain}}", self.url)
    }

    /// Adds a BambooHR company at `subdomain`; answers its API key.
    pub fn add_bamboohr_tenant(&self, subdomain: &str, company: Company) -> String {
        let tenant = bamboohr::Tenant::new(company);
        let key = tenant.api_key.clone();
        self.tenants.lock().expect("tenants lock").insert(subdomain.to_string(), tenant);
        key
    }

    /// Changes a tenant: its employees, its faults, its API access. Employees added, changed or
    /// removed here are stamped as changed now, for the change feed.
    pub fn with_tenant<T>(&self, subdomain: &str, change: impl FnOnce(&mut bamboohr::Tenant) -> T) -> T {
        let mut tenants = self.tenants.lock().expect("tenants lock");
        let tenant = tenants.get_mut(subdomain).expect("no such sandbox tenant");
        let answer = change(tenant);
        tenant.record_changes();
        answer
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}
