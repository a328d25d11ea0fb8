//! The GraphQL documents of the admin flow, shared by `demo` and the end-to-end tests.

pub const PROVIDERS: &str = r#"query($search: String, $category: ProviderCategory) {
  providers(search: $search, category: $category) {
    id name category logoUrl authMethods subdomainLabel apiKeyInstructions readPermissions termsUrl
    credentialFields { key label secret help }
  }
}"#;

pub const CONNECT_WITH_API_KEY: &str = r#"mutation($input: ConnectWithApiKeyInput!) {
  connectWithApiKey(input: $input) { id status statusMessage credentialHint subdomain authMethod provider { id } }
}"#;

pub const UPLOAD_SPREADSHEET: &str = r#"mutation($connectionId: ID, $file: Upload!, $adminConfirmed: Boolean!, $termsAccepted: Boolean!) {
  uploadSpreadsheet(connectionId: $connectionId, file: $file, adminConfirmed: $adminConfirmed, termsAccepted: $termsAccepted) {
    id fileName format byteSize rows columns keyColumn findings readable
    connection { id status authMethod provider { id } }
  }
}"#;

pub const BEGIN_CREDENTIAL_CONNECTION: &str = r#"mutation($input: BeginCredentialConnectionInput!) {
  beginCredentialConnection(input: $input) { authorizationUrl linkToken widgetScriptUrl connection { id status } }
}"#;

pub const COMPLETE_CREDENTIAL_CONNECTION: &str = r#"mutation($id: ID!, $publicToken: String!) {
  completeCredentialConnection(connectionId: $id, publicToken: $publicToken) { id status statusMessage linkedSystem }
}"#;

pub const CONNECTION: &str = r#"query($id: ID!) {
  connection(id: $id) {
    id status statusMessage credentialHint linkedSystem resyncRequired
    accessibleData { name fields { key label type } }
    fieldMapping { version status entries { internalField externalField } savedAt confirmedAt }
    confirmedMapping { version status }
    schedule { enabled intervalMinutes nextRunAt }
    lastSync { id status }
  }
}"#;

pub const CONNECTION_STATUS: &str = r#"subscription($id: ID!) {
  connectionStatus(connectionId: $id) { id status statusMessage }
}"#;

pub const INTERNAL_FIELDS: &str = r#"{ internalFields { key label required description } }"#;

pub const CONFIRM_DEACTIVATIONS: &str =
    "mutation($id: ID!) { confirmDeactivations(runId: $id) { status deactivated deactivationsHeld } }";

pub const PREVIEW_MAPPING: &str = r#"query($id: ID!, $entries: [FieldMappingEntryInput!], $limit: Int) {
  previewFieldMapping(connectionId: $id, entries: $entries, limit: $limit) { remoteId values problems }
}"#;

pub const SAVE_MAPPING: &str = r#"mutation($id: ID!, $entries: [FieldMappingEntryInput!]!) {
  saveFieldMapping(connectionId: $id, entries: $entries) { version status entries { internalField externalField } }
}"#;

pub const CONFIRM_MAPPING: &str = r#"mutation($id: ID!, $version: Int!) {
  confirmFieldMapping(connectionId: $id, version: $version) { version status confirmedAt }
}"#;

const RUN_FIELDS: &str = "id mode status phase percent processed total created updated unchanged deactivated deactivationsHeld skipped error triggeredBy startedAt finishedAt";

pub fn start_sync() -> String {
    format!("mutation($id: ID!, $mode: SyncMode) {{ startSync(connectionId: $id, mode: $mode) {{ {RUN_FIELDS} }} }}")
}

pub fn sync_progress() -> String {
    format!("subscription($id: ID!) {{ syncProgress(runId: $id) {{ run {{ {RUN_FIELDS} }} }} }}")
}

pub fn sync_run() -> String {
    format!("query($id: ID!) {{ syncRun(id: $id) {{ {RUN_FIELDS} issues(first: 200) {{ remoteId kind message }} }} }}")
}

pub fn cancel_sync() -> String {
    format!("mutation($id: ID!) {{ cancelSync(runId: $id) {{ {RUN_FIELDS} }} }}")
}

pub const CONNECT_SCIM: &str = r#"mutation { connectScim(adminConfirmed: true, termsAccepted: true) {
  baseUrl token connection { id status } } }"#;

pub const USERS: &str = r#"query($first: Int, $after: String, $filter: UserFilter) {
  users(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id email displayName jobTitle department employmentStatus invitationStatus updatedAt } }
  }
}"#;

pub const USER: &str = r#"query($id: ID!) {
  user(id: $id) {
    id email firstName lastName displayName jobTitle department location employmentStatus startDate
    invitationStatus updatedAt
    manager { id displayName email }
    directReports { id displayName }
    source { remoteId lastSyncedAt connection { id } }
  }
}"#;

pub const ORG_CHART: &str = r#"query($depth: Int) {
  orgChart(depth: $depth) { user { displayName jobTitle } reports { user { displayName jobTitle } reports { user { displayName } } } }
}"#;

/// The fields of a person the people mutations answer.
const PERSON: &str = "id email firstName lastName displayName jobTitle department location startDate \
                      employmentStatus invitationStatus manager { id } source { remoteId }";

pub fn create_user() -> String {
    format!("mutation($input: CreateUserInput!) {{ createUser(input: $input) {{ {PERSON} }} }}")
}

pub fn update_user() -> String {
    format!("mutation($id: ID!, $input: UpdateUserInput!) {{ updateUser(id: $id, input: $input) {{ {PERSON} }} }}")
}

pub fn deactivate_user() -> String {
    format!("mutation($id: ID!) {{ deactivateUser(id: $id) {{ {PERSON} }} }}")
}

pub fn reactivate_user() -> String {
    format!("mutation($id: ID!) {{ reactivateUser(id: $id) {{ {PERSON} }} }}")
}

pub const ASSIGN_ACTIVITY: &str = r#"mutation($input: AssignActivityInput!) {
  assignActivity(input: $input) { id title dueDate assignedAt user { id email invitationStatus } }
}"#;

pub const RESEND_INVITATION: &str = r#"mutation($id: ID!) {
  resendInvitation(userId: $id) { id invitationStatus invitationError }
}"#;

/// A person's invitation and activities.
pub const INVITATION: &str = r#"query($id: ID!) {
  user(id: $id) {
    id email displayName employmentStatus invitationStatus invitedAt invitationError
    activities { id title dueDate }
  }
}"#;

pub const HISTORY: &str = r#"query($id: ID!, $first: Int, $after: String) {
  user(id: $id) { history(first: $first, after: $after) { id at field oldValue newValue by user { id } } }
}"#;

pub const RUN_CHANGES: &str = r#"query($id: ID!, $first: Int, $after: String) {
  syncRun(id: $id) { changes(first: $first, after: $after) { id field oldValue newValue by user { id email } } }
}"#;

const WEBHOOK_ENDPOINT: &str = "id url events description failing createdAt";

pub fn create_webhook_endpoint() -> String {
    format!(
        "mutation($input: CreateWebhookEndpointInput!) {{ createWebhookEndpoint(input: $input) {{ secret endpoint {{ {WEBHOOK_ENDPOINT} }} }} }}"
    )
}

pub fn update_webhook_endpoint() -> String {
    format!(
        "mutation($id: ID!, $input: UpdateWebhookEndpointInput!) {{ updateWebhookEndpoint(id: $id, input: $input) {{ {WEBHOOK_ENDPOINT} }} }}"
    )
}

pub fn rotate_webhook_secret() -> String {
    format!("mutation($id: ID!) {{ rotateWebhookSecret(id: $id) {{ secret endpoint {{ {WEBHOOK_ENDPOINT} }} }} }}")
}

pub fn webhook_endpoints() -> String {
    format!("{{ webhookEndpoints {{ {WEBHOOK_ENDPOINT} }} }}")
}

pub const DELETE_WEBHOOK_ENDPOINT: &str = r#"mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }"#;

const WEBHOOK_DELIVERY: &str = "id eventId eventType status attempts responseStatus nextAttemptAt lastError createdAt";

pub fn send_test_webhook() -> String {
    format!("mutation($id: ID!) {{ sendTestWebhook(endpointId: $id) {{ {WEBHOOK_DELIVERY} }} }}")
}

pub fn webhook_deliveries() -> String {
    format!(
        "query($id: ID!, $first: Int, $after: String) {{ webhookDeliveries(endpointId: $id, first: $first, after: $after) {{ {WEBHOOK_DELIVERY} }} }}"
    )
}
