//! Simulated provider tenants for the demo, tests, benchmarks and frontend development. Each
//! fake speaks its provider's documented wire format (paths, auth, JSON shapes, pagination,
//! errors, rate limits) so the real connectors run against it unchanged; only the base URL
//! differs. All fakes serve one provider-neutral [`Tenant`] model, listed once in [`FAKES`] as
//! the catalogue lists providers, each under its own path (`/bamboohr`, `/personio`, ...).
//!
//! Faults are injected per tenant and mean the same for every fake: error answers, 429 with
//! `Retry-After`, slow answers, an answer broken off mid-way, a provider down mid-fetch.

pub mod bamboohr;
pub mod company;
mod faults;
pub mod greenhouse;
pub mod hibob;
pub mod hiring;
pub mod lever;
pub mod merge;
pub mod merge_ats;
mod oauth;
pub mod personio;
pub mod scim;
pub mod spreadsheet;
mod tenant;
mod wire;
pub mod workday;

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::{dev::ServerHandle, web, App, HttpServer};

pub use company::{Attribute, Company, Employee, Employment};
pub use faults::Fault;
pub use tenant::{Quota, Tenant};

/// The OAuth application every sandbox tenant accepts.
pub const OAUTH_CLIENT_ID: &str = "sandbox-client";
pub const OAUTH_CLIENT_SECRET: &str = "sandbox-secret";

/// A fake of one provider's API.
pub trait FakeProvider: Send + Sync {
    /// The catalogue id of the provider it fakes; also the path it is served under.
    fn id(&self) -> &'static str;

    /// Its routes, relative to its own path.
    fn routes(&self, cfg: &mut web::ServiceConfig);

    /// The service's configuration pointing its connector at this fake, served at `base`.
    fn settings(&self, base: &str) -> Vec<(String, String)>;

    /// What an admin types into the API-key form to connect `tenant`.
    fn credentials(&self, tenant: &Tenant) -> SampleCredentials;

    /// The request quotas the provider documents; its tenants enforce them.
    fn quotas(&self) -> Vec<Quota>;

    /// The fewest requests a complete read of `employees` people takes by the provider's rules.
    fn full_read(&self, employees: usize) -> FullRead;

    /// What its records are of: an HR system's employees, by default.
    fn holds(&self) -> Holds {
        Holds::Employees
    }

    /// The directory fields a connection loses when the provider's API user may not read
    /// `attribute`: the one field carrying it, by default; none when the fake cannot withhold it.
    fn withholding(&self, attribute: Attribute) -> Vec<&'static str> {
        vec![attribute.directory_field()]
    }
}

/// What a provider's records are of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    /// An HR system's: everyone, leavers included (as leavers).
    Employees,
    /// An applicant tracking system's: the people it hired (a rescinded hire is no longer
    /// listed) and its users.
    Hires,
}

impl Holds {
    /// How the directory shows `employee` of `company` once a connection to such a provider
    /// synced everything (the hiring team included); `None` when it lists them as no one.
    pub fn expected(self, company: &Company, employee: &Employee) -> Option<hiring::Expected> {
        match self {
            Self::Employees => Some(hiring::Expected::of(employee)),
            Self::Hires => hiring::expected(company, employee),
        }
    }

    /// How many records a complete read of `company` yields: one per employee, or one per
    /// standing hire and one per user of the ATS (a user someone hired yields to their hire).
    pub fn records(self, company: &Company) -> usize {
        match self {
            Self::Employees => company.employees.len(),
            Self::Hires => hiring::hires(company).iter().filter(|h| h.hired).count() + hiring::team(company).len(),
        }
    }

    /// Whether a leaver is listed (as a leaver), rather than no longer listed.
    pub fn lists_leavers(self) -> bool {
        self == Self::Employees
    }
}

/// What reading a whole company costs at a provider, by its documented rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FullRead {
    pub requests: usize,
    /// The longest chain of requests each of which must wait for the one before (a page that
    /// names the next, a lookup needed first): 1 when all can go at once.
    pub round_trips: usize,
}

/// Every fake this sandbox serves, one per catalogue provider.
pub static FAKES: &[&dyn FakeProvider] = &[
    &bamboohr::BambooHr,
    &personio::Personio,
    &hibob::HiBob,
    &merge::Merge,
    &workday::Workday,
    &greenhouse::Greenhouse,
    &lever::Lever,
    &merge_ats::MergeAts,
];

/// The fake of provider `id`.
pub fn fake(id: &str) -> Option<&'static dyn FakeProvider> {
    FAKES.iter().copied().find(|f| f.id() == id)
}

/// The API-key form's values for one tenant (`connectWithApiKey`'s input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleCredentials {
    pub provider_id: &'static str,
    pub subdomain: Option<String>,
    pub api_key: String,
    pub api_secret: Option<String>,
}

pub(crate) type Tenants = Arc<Mutex<HashMap<String, Tenant>>>;

/// A running sandbox server with its tenants.
pub struct Sandbox {
    url: String,
    tenants: Tenants,
    handle: ServerHandle,
}

impl Sandbox {
    /// Starts the server on an ephemeral loopback port.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_on(TcpListener::bind("127.0.0.1:0")?).await
    }

    /// Starts the server on `listener`.
    pub async fn start_on(listener: TcpListener) -> std::io::Result<Self> {
        let tenants: Tenants = Arc::default();
        let url = format!("http://{}", listener.local_addr()?);
        let data = web::Data::new(tenants.clone());
        let server = HttpServer::new(move || {
            FAKES.iter().fold(App::new().app_data(data.clone()), |app, fake| {
                app.service(web::scope(&format!("/{}", fake.id())).configure(|cfg| fake.routes(cfg)))
            })
        })
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

    /// Configuration pointing every connector at its fake (`BAMBOOHR_API_BASE`, ...).
    pub fn settings(&self) -> Vec<(String, String)> {
        FAKES.iter().flat_map(|fake| fake.settings(&format!("{}/{}", self.url, fake.id()))).collect()
    }

    /// Adds a company named `name` at provider `provider_id`; answers how to connect it.
    ///
    /// # Panics
    /// When no fake serves `provider_id`, or a tenant is already called `name`.
    pub fn add_tenant(&self, provider_id: &str, name: &str, company: Company) -> SampleCredentials {
        let fake = fake(provider_id).unwrap_or_else(|| panic!("the sandbox has no fake of {provider_id}"));
        let tenant = Tenant::new(name, fake.id(), company, fake.quotas());
        let credentials = fake.credentials(&tenant);
        let mut tenants = self.tenants.lock().expect("tenants lock");
        assert!(!tenants.contains_key(name), "a sandbox tenant is already called {name}");
        tenants.insert(name.to_string(), tenant);
        credentials
    }

    /// The API-key form's values for tenant `name`.
    pub fn credentials(&self, name: &str) -> SampleCredentials {
        let tenants = self.tenants.lock().expect("tenants lock");
        let tenant = tenants.get(name).expect("no such sandbox tenant");
        fake(tenant.provider).expect("every tenant's provider has a fake").credentials(tenant)
    }

    /// Changes a tenant: its employees, its faults, its API access. Employees added, changed or
    /// removed here are stamped as changed now, for change feeds.
    pub fn with_tenant<T>(&self, name: &str, change: impl FnOnce(&mut Tenant) -> T) -> T {
        let mut tenants = self.tenants.lock().expect("tenants lock");
        let tenant = tenants.get_mut(name).expect("no such sandbox tenant");
        let answer = change(tenant);
        tenant.record_changes();
        answer
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}
