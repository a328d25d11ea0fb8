//! SCIM 2.0: an identity provider (Okta, Microsoft Entra ID, OneLogin, JumpCloud, Google) that
//! pushes its users to an endpoint we serve (see [`crate::scim`]), rather than an API we read.
//! Each request changes the directory as it arrives; a sync of the connection (its first, after
//! the mapping is confirmed, and the full re-sync a mapping edit calls for) reads the users
//! pushed so far, as any connector reads its provider's, so that whoever it did not read (a
//! deleted user) leaves through the deactivation guard like every source's leavers.

use async_trait::async_trait;
use futures::StreamExt;
use uuid::Uuid;

use super::catalogue::{Provider, ProviderCategory, ProviderContext, ProviderInfo};
use super::{Connector, ExternalField, FetchRequest, PageStream, ProviderError, RemotePage};
use crate::credentials::Credentials;
use crate::scim::resource;
use crate::scim::store::PushedUsers;

/// SCIM's catalogue id.
pub const ID: &str = "scim";

static INFO: ProviderInfo = ProviderInfo {
    id: ID,
    name: "SCIM (Okta, Entra ID, …)",
    category: ProviderCategory::Identity,
    logo_url: "",
    sign_in: None,
    credential_fields: &[],
    api_key_instructions: "Connecting gives you a SCIM base URL and a secret token, shown once. \
        In Okta: Applications → your app → General → Provisioning: SCIM; then Provisioning → Integration: paste the \
        base URL as \"SCIM connector base URL\", set \"Unique identifier field for users\" to userName, tick Push New \
        Users, Push Profile Updates and Push Groups, choose \"HTTP Header\" authentication and paste the token as the \
        Bearer token; Test Connector Configuration, then enable Create Users, Update User Attributes and Deactivate \
        Users under To App. In Microsoft Entra ID: Enterprise applications → your app → Provisioning → Automatic: \
        paste the base URL as \"Tenant URL\" and the token as \"Secret Token\", Test Connection, save, and start \
        provisioning. Users and groups assigned to the app are pushed here; a user unassigned or disabled is \
        deactivated (many at once wait for your confirmation). Rotate the token from the connection's card if it \
        leaks: the old one stops working at once.",
    read_permissions: &[
        "The users and groups your identity provider assigns to this app, with the attributes it sends \
         (userName, name, emails, title, department, manager, active)",
    ],
    terms_url: "",
    suggested_mapping: &[
        ("email", "userName"),
        ("firstName", "name.givenName"),
        ("lastName", "name.familyName"),
        ("displayName", "displayName"),
        ("jobTitle", "title"),
        ("department", "enterprise.department"),
        ("location", "addresses.locality"),
        ("employmentStatus", "active"),
        ("managerId", "enterprise.manager"),
    ],
    named_by_admin: false,
    uploaded: false,
    pushed: true,
};

pub struct Scim;

#[async_trait]
impl Provider for Scim {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn connector(
        &self,
        ctx: &ProviderContext,
        _subdomain: Option<&str>,
        _credentials: &Credentials,
    ) -> Result<Box<dyn Connector>, ProviderError> {
        match (&ctx.pushed, ctx.connection_id) {
            (Some(store), Some(connection_id)) => Ok(Box::new(ScimConnector { store: store.clone(), connection_id })),
            _ => Err(ProviderError::NotConfigured("a SCIM connection is made from the catalogue".into())),
        }
    }
}

struct ScimConnector {
    store: PushedUsers,
    connection_id: Uuid,
}

#[async_trait]
impl Connector for ScimConnector {
    async fn discover_fields(&self) -> Result<Vec<ExternalField>, ProviderError> {
        Ok(resource::fields())
    }

    async fn fetch(&self, request: FetchRequest) -> Result<PageStream<'_>, ProviderError> {
        // Managers named by externalId (as Okta may send them) are the users with that id.
        let external_ids = self.store.external_ids(self.connection_id).await.map_err(ProviderError::buffer)?;
        let page_size = request.page_size.max(1) as u64;
        let after = request.cursor.as_deref().and_then(|c| Uuid::parse_str(c).ok());
        let pages = futures::stream::unfold(Some(after), move |next| {
            let external_ids = external_ids.clone();
            async move {
                let after = next?;
                let rows = match self.store.users_after(self.connection_id, after, page_size).await {
                    Ok(rows) => rows,
                    Err(err) => return Some((Err(ProviderError::buffer(err)), None)),
                };
                let last = (rows.len() as u64) < page_size;
                let cursor = rows.last().map(|r| r.id);
                let records = rows
                    .iter()
                    .map(|row| {
                        let manager = resource::manager_id(&row.document)
                            .map(|m| external_ids.get(m).map_or_else(|| m.to_string(), Uuid::to_string));
                        let mut record = resource::record(&row.id.to_string(), &row.document, manager);
                        // A deactivation the guard holds waits for the admin, not for a re-sync.
                        if row.deactivation_held {
                            record.withheld.insert(resource::ACTIVE.to_string());
                        }
                        record
                    })
                    .collect();
                let page = RemotePage {
                    records,
                    next_cursor: cursor.map(|c| c.to_string()),
                    last,
                    total: None,
                    estimated_total: None,
                };
                Some((Ok(page), if last { None } else { Some(cursor) }))
            }
        });
        Ok(pages.boxed())
    }
}
