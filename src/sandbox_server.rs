//! `directory-sync sandbox`: every provider's fake on one port, each with a sample company, for
//! trying the product by hand (or building a frontend) against `directory-sync serve`.

use std::net::{SocketAddr, TcpListener};

use anyhow::Context as _;

use sandbox::{Company, Sandbox, FAKES};
use worker::providers::catalogue::{self, CredentialKey};

/// Prints, in the API-key form's words, what connects the sandbox tenant of `provider_id`.
pub(crate) fn print_credentials(provider_id: &str, credentials: sandbox::SampleCredentials) -> anyhow::Result<()> {
    let info = catalogue::find(provider_id).context("every fake has a catalogue entry")?.info();
    let label = |key: CredentialKey| info.credential_field(key).map_or(key.as_str(), |f| f.label);
    println!("   {} (providerId: \"{}\")", info.name, info.id);
    let values = [
        (CredentialKey::Subdomain, credentials.subdomain),
        (CredentialKey::ApiKey, Some(credentials.api_key)),
        (CredentialKey::ApiSecret, credentials.api_secret),
    ];
    for (key, value) in values {
        if let Some(value) = value {
            println!("     {:<10} {value}    ({})", key.as_str(), label(key));
        }
    }
    Ok(())
}

/// Serves until Ctrl-C.
pub async fn run(bind: SocketAddr, employees: u32) -> anyhow::Result<()> {
    let listener = TcpListener::bind(bind).with_context(|| format!("binding {bind}"))?;
    let sandbox = Sandbox::start_on(listener).await?;
    println!(
        "directory-sync sandbox at {}: every provider's fake, {employees} sample employees at each.\n",
        sandbox.url()
    );
    println!("1. Run the service against it (in another shell):\n");
    let settings: Vec<String> =
        sandbox.settings().into_iter().map(|(name, value)| format!("{name}='{value}'")).collect();
    println!("   env {} \\\n     directory-sync serve\n", settings.join(" \\\n     "));
    println!("2. Connect with these credentials (connectWithApiKey, or the admin portal's API-key form):\n");
    for fake in FAKES {
        let name = format!("acme-{}", fake.id());
        sandbox.add_tenant(fake.id(), &name, Company::generate("acme.example", employees, 7));
        // Fixed credentials, so a connection made against one sandbox run works against the next.
        sandbox.with_tenant(&name, |t| {
            t.key = format!("sandbox-{}-key", fake.id());
            t.secret = format!("sandbox-{}-secret", fake.id());
        });
        print_credentials(fake.id(), sandbox.credentials(&name))?;
    }
    println!("\nSign-ins (\"Open Window\") work too: the sandbox signs in and consents at once.");
    println!("Ctrl-C stops the sandbox.");
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    sandbox.stop().await;
    Ok(())
}
