//! Users and groups as SCIM documents: checking what a provider sent (and reading its
//! documented quirks the way it meant them), the answer we give for a stored resource, and a
//! user as the record a mapping reads.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

use super::{ScimError, ScimResult};
use crate::providers::{employment, ExternalField, RemoteRecord};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A user's `active`, as the field a mapping reads it from.
pub const ACTIVE: &str = "active";

/// Longest userName, displayName or externalId kept: within any index's row.
const MAX_NAME_CHARS: usize = 320;

/// The two kinds of resource served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceType {
    User,
    Group,
}

impl ResourceType {
    /// As SCIM names it (`meta.resourceType`), and as it is stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Group => "Group",
        }
    }

    /// The endpoint, under the connection's base URL.
    pub fn endpoint(self) -> &'static str {
        match self {
            Self::User => "Users",
            Self::Group => "Groups",
        }
    }
}

/// The core User attributes by their canonical names: attribute names are case-insensitive
/// (RFC 7643 §2.1), so `UserName` is stored as `userName`.
const USER_ATTRIBUTES: &[&str] = &[
    "userName",
    "name",
    "displayName",
    "nickName",
    "profileUrl",
    "title",
    "userType",
    "preferredLanguage",
    "locale",
    "timezone",
    "active",
    "emails",
    "phoneNumbers",
    "ims",
    "photos",
    "addresses",
    "entitlements",
    "roles",
    "x509Certificates",
    "externalId",
];
const GROUP_ATTRIBUTES: &[&str] = &["displayName", "externalId"];
pub(super) const ENTERPRISE_ATTRIBUTES: &[&str] =
    &["employeeNumber", "costCenter", "organization", "division", "department", "manager"];

/// Attributes never stored: ours (`id`, `meta`, `schemas`), a user's groups (read from the
/// groups' members), and a password, which the directory has no use for and keeps nowhere.
const NOT_STORED: &[&str] = &["id", "meta", "schemas", "groups", "password", "members"];

/// The canonical spelling of attribute `name` among `known`, or `name` as given.
pub fn canonical<'a>(name: &'a str, known: &[&'static str]) -> &'a str {
    known.iter().copied().find(|k| k.eq_ignore_ascii_case(name)).unwrap_or(name)
}

/// The attributes of resource type `kind`, for canonical spelling.
pub fn attributes_of(kind: ResourceType) -> &'static [&'static str] {
    match kind {
        ResourceType::User => USER_ATTRIBUTES,
        ResourceType::Group => GROUP_ATTRIBUTES,
    }
}

/// The attributes of a user or group a provider sent, as stored: canonical names, nulls
/// dropped (Entra sends `"addresses": null`), `active` a boolean, the enterprise manager an
/// object, and nothing of ours or the password. `userName` (a user's) or `displayName` (a
/// group's) is required.
pub fn stored_document(kind: ResourceType, body: Value) -> ScimResult<Value> {
    let Value::Object(body) = body else {
        return Err(ScimError::InvalidSyntax(format!("a {} must be a JSON object", kind.as_str())));
    };
    let mut doc = Map::new();
    for (key, value) in body {
        if value.is_null() || NOT_STORED.iter().any(|n| n.eq_ignore_ascii_case(&key)) {
            continue;
        }
        if kind == ResourceType::User && key.eq_ignore_ascii_case(ENTERPRISE_SCHEMA) {
            doc.insert(ENTERPRISE_SCHEMA.to_string(), enterprise(value)?);
            continue;
        }
        // Entra once spelled the extension `…:2.0User`; any other schema URN is an extension we
        // do not serve, kept as sent.
        let key = canonical(&key, attributes_of(kind)).to_string();
        doc.insert(key, without_nulls(value));
    }
    let mut doc = Value::Object(doc);
    if let Some(value) = doc.get("active").filter(|_| kind == ResourceType::User) {
        let active = boolean(value).ok_or_else(|| {
            ScimError::InvalidValue(format!("'active' must be true or false, not {}", excerpt(value)))
        })?;
        doc["active"] = Value::Bool(active);
    }
    let required = match kind {
        ResourceType::User => "userName",
        ResourceType::Group => "displayName",
    };
    if !doc.get(required).and_then(Value::as_str).is_some_and(|name| !name.trim().is_empty()) {
        return Err(ScimError::InvalidValue(format!("'{required}' is required and must be a non-empty string")));
    }
    for key in ["userName", "displayName", "externalId"] {
        match doc.get(key) {
            None => {}
            Some(Value::String(text)) => {
                if text.chars().count() > MAX_NAME_CHARS {
                    return Err(ScimError::InvalidValue(format!("'{key}' is longer than {MAX_NAME_CHARS} characters")));
                }
                if text.chars().any(char::is_control) {
                    return Err(ScimError::InvalidValue(format!("'{key}' holds a control character")));
                }
            }
            Some(_) => return Err(ScimError::InvalidValue(format!("'{key}' must be a string"))),
        }
    }
    Ok(doc)
}

/// The enterprise extension as stored: canonical names, no nulls, `manager` as `{ "value": … }`
/// however it came (Entra sends a bare string).
fn enterprise(value: Value) -> ScimResult<Value> {
    let Value::Object(ext) = value else {
        return Err(ScimError::InvalidSyntax(format!("'{ENTERPRISE_SCHEMA}' must be an object")));
    };
    let mut out = Map::new();
    for (key, value) in ext {
        let key = canonical(&key, ENTERPRISE_ATTRIBUTES).to_string();
        if key == "manager" {
            if let Some(manager) = manager(value)? {
                out.insert(key, manager);
            }
        } else if !value.is_null() {
            out.insert(key, without_nulls(value));
        }
    }
    Ok(Value::Object(out))
}

/// A manager as sent: `{ "value": id, … }` (kept as sent), a bare id (Entra), a one-element list
/// (Entra's PATCH example), or empty (no manager).
pub fn manager(value: Value) -> ScimResult<Option<Value>> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Ok(Some(json!({ "value": s.trim() }))),
        Value::Object(o) => match o.get("value") {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(without_nulls(Value::Object(o)))),
            None | Some(Value::Null) | Some(Value::String(_)) => Ok(None),
            Some(other) => Err(ScimError::InvalidValue(format!("manager.value must be a string, not {other}"))),
        },
        Value::Array(mut items) if items.len() <= 1 => items.pop().map_or(Ok(None), manager),
        other => Err(ScimError::InvalidValue(format!("'manager' must be an object, not {}", excerpt(&other)))),
    }
}

/// A boolean as sent: JSON, or the strings "True" and "False" in any case (Entra ID without its
/// `aadOptscim062020` flag).
pub fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        Value::Array(items) => Value::Array(items.into_iter().filter(|v| !v.is_null()).map(without_nulls).collect()),
        other => other,
    }
}

fn excerpt(value: &Value) -> String {
    crate::text::excerpt(&value.to_string(), 40).to_string()
}

/// A stored document's text attribute, trimmed; absent when blank.
pub fn text<'a>(doc: &'a Value, key: &str) -> Option<&'a str> {
    doc.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

/// The element of multi-valued `attribute` a person is known by: the one typed "work", else
/// the primary one, else the first.
fn preferred<'a>(doc: &'a Value, attribute: &str) -> Option<&'a Value> {
    let items = doc.get(attribute)?.as_array()?;
    let typed = |t: &str| {
        items.iter().find(|i| i.get("type").and_then(Value::as_str).is_some_and(|v| v.eq_ignore_ascii_case(t)))
    };
    typed("work")
        .or_else(|| items.iter().find(|i| i.get("primary").and_then(boolean) == Some(true)))
        .or_else(|| items.first())
}

/// The user's email values, lower-cased, each between newlines: what `emails` filters match.
pub fn emails_key(doc: &Value) -> String {
    let emails = doc.get("emails").and_then(Value::as_array).into_iter().flatten();
    let values: Vec<String> =
        emails.filter_map(|e| e.get("value").and_then(Value::as_str)).map(|v| v.trim().to_lowercase()).collect();
    if values.is_empty() {
        String::new()
    } else {
        format!("\n{}\n", values.join("\n"))
    }
}

/// The stored manager reference of a user document.
pub fn manager_id(doc: &Value) -> Option<&str> {
    doc.get(ENTERPRISE_SCHEMA)?.get("manager")?.get("value")?.as_str()
}

/// The fields a SCIM user offers a mapping: its "accessible data".
pub fn fields() -> Vec<ExternalField> {
    [
        ("userName", "User name (the IdP's login)", "email", "User"),
        ("emails.work", "Work email", "email", "User"),
        ("name.givenName", "Given name", "string", "User"),
        ("name.familyName", "Family name", "string", "User"),
        ("displayName", "Display name", "string", "User"),
        ("title", "Title", "string", "User"),
        ("active", "Active", "status", "User"),
        ("addresses.locality", "Work address: city", "string", "User"),
        ("externalId", "External id", "string", "User"),
        ("enterprise.department", "Department", "string", "Enterprise"),
        ("enterprise.employeeNumber", "Employee number", "string", "Enterprise"),
        ("enterprise.manager", "Manager", "reference", "Enterprise"),
    ]
    .into_iter()
    .map(|(key, label, field_type, category)| ExternalField::listed(key, label, field_type, category))
    .collect()
}

/// A user as the record a mapping reads: its id is the SCIM id; `manager` is what its manager
/// reference resolves to (the manager's SCIM id, where the reference names a known user by id
/// or externalId).
pub fn record(id: &str, doc: &Value, manager: Option<String>) -> RemoteRecord {
    let mut values = BTreeMap::new();
    let mut put = |key: &str, value: Option<&str>| {
        if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
            values.insert(key.to_string(), v.to_string());
        }
    };
    put("userName", text(doc, "userName"));
    put("emails.work", preferred(doc, "emails").and_then(|e| e.get("value")).and_then(Value::as_str));
    let name = doc.get("name");
    put("name.givenName", name.and_then(|n| n.get("givenName")).and_then(Value::as_str));
    put("name.familyName", name.and_then(|n| n.get("familyName")).and_then(Value::as_str));
    put("displayName", text(doc, "displayName"));
    put("title", text(doc, "title"));
    put("addresses.locality", preferred(doc, "addresses").and_then(|a| a.get("locality")).and_then(Value::as_str));
    put("externalId", text(doc, "externalId"));
    let ext = doc.get(ENTERPRISE_SCHEMA);
    put("enterprise.department", ext.and_then(|e| e.get("department")).and_then(Value::as_str));
    let employee_number = ext.and_then(|e| e.get("employeeNumber"));
    put("enterprise.employeeNumber", employee_number.and_then(Value::as_str));
    put("enterprise.manager", manager.as_deref());
    let active = doc.get(ACTIVE).and_then(boolean).unwrap_or(true);
    values.insert(ACTIVE.into(), employment(!active).to_string());
    RemoteRecord::new(id.to_string(), values)
}

/// What we answer for a stored resource.
pub struct Answer<'a> {
    pub kind: ResourceType,
    pub id: uuid::Uuid,
    pub document: &'a Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
    /// The connection's base URL (`…/scim/v2/<connection>`).
    pub base_url: &'a str,
}

/// The ETag of a resource's version.
pub fn etag(version: i32) -> String {
    format!("W/\"{version}\"")
}

impl Answer<'_> {
    /// The resource as JSON: its attributes, `id`, `schemas` and `meta`; `related` adds a user's
    /// groups or a group's members (each `{value, $ref}` with a `display` where known).
    pub fn to_json(&self, related: Option<Vec<(uuid::Uuid, Option<String>)>>) -> Value {
        let mut out = self.document.as_object().cloned().unwrap_or_default();
        let mut schemas = vec![match self.kind {
            ResourceType::User => USER_SCHEMA,
            ResourceType::Group => GROUP_SCHEMA,
        }];
        if out.contains_key(ENTERPRISE_SCHEMA) {
            schemas.push(ENTERPRISE_SCHEMA);
        }
        let location = format!("{}/{}/{}", self.base_url, self.kind.endpoint(), self.id);
        out.insert("schemas".into(), json!(schemas));
        out.insert("id".into(), json!(self.id.to_string()));
        if let Some(related) = related {
            // A user's groups are direct memberships (RFC 7643 §4.1.2); a group's members users.
            let (attribute, endpoint, item_type) = match self.kind {
                ResourceType::User => ("groups", ResourceType::Group.endpoint(), "direct"),
                ResourceType::Group => ("members", ResourceType::User.endpoint(), ResourceType::User.as_str()),
            };
            let items: Vec<Value> = related
                .into_iter()
                .map(|(id, display)| {
                    let mut item = json!({
                        "value": id.to_string(),
                        "$ref": format!("{}/{endpoint}/{id}", self.base_url),
                        "type": item_type,
                    });
                    if let Some(display) = display {
                        item["display"] = json!(display);
                    }
                    item
                })
                .collect();
            out.insert(attribute.into(), Value::Array(items));
        }
        out.insert(
            "meta".into(),
            json!({
                "resourceType": self.kind.as_str(),
                "created": timestamp(self.created_at),
                "lastModified": timestamp(self.updated_at),
                "location": location,
                "version": etag(self.version),
            }),
        );
        Value::Object(out)
    }
}

pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Which attributes an answer carries (RFC 7644 §3.9): `attributes` keeps only those named (and
/// `id`, `schemas`, `meta`, which are always returned); `excludedAttributes` drops those named.
/// Names are case-insensitive; `name.givenName` keeps or drops one sub-attribute.
pub fn project(mut resource: Value, attributes: &[String], excluded: &[String]) -> Value {
    let Some(map) = resource.as_object_mut() else { return resource };
    let always = ["id", "schemas", "meta"];
    if !attributes.is_empty() {
        let keep = |key: &str| {
            always.contains(&key)
                || attributes.iter().any(|a| {
                    let top = a.strip_prefix(&format!("{USER_SCHEMA}:")).unwrap_or(a);
                    top.split('.').next().is_some_and(|t| t.eq_ignore_ascii_case(key))
                        || a.eq_ignore_ascii_case(key)
                        || (key == ENTERPRISE_SCHEMA && a.starts_with(ENTERPRISE_SCHEMA))
                })
        };
        map.retain(|key, _| keep(key));
    }
    for name in excluded {
        let name = name.strip_prefix(&format!("{USER_SCHEMA}:")).unwrap_or(name);
        match name.split_once('.') {
            Some((top, sub)) => {
                if let Some(Value::Object(inner)) =
                    map.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(top)).map(|(_, v)| v)
                {
                    inner.retain(|k, _| !k.eq_ignore_ascii_case(sub));
                }
            }
            None if !always.iter().any(|a| a.eq_ignore_ascii_case(name)) => {
                map.retain(|key, _| !key.eq_ignore_ascii_case(name));
            }
            None => {}
        }
    }
    resource
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::EMPLOYMENT_INACTIVE;

    #[test]
    fn what_entra_sends_is_read_as_it_means_it() {
        let body = json!({
            "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
            "UserName": "Ada@Acme.test",
            "active": "False",
            "addresses": null,
            "password": "hunter2",
            "meta": { "resourceType": "User" },
            ENTERPRISE_SCHEMA: { "Manager": "m-1", "department": "R&D", "costCenter": null },
        });
        let doc = stored_document(ResourceType::User, body).unwrap();
        assert_eq!(doc["userName"], "Ada@Acme.test", "canonical name");
        assert_eq!(doc["active"], false, "the string False");
        assert!(doc.get("addresses").is_none() && doc.get("password").is_none() && doc.get("meta").is_none());
        assert_eq!(doc[ENTERPRISE_SCHEMA]["manager"], json!({ "value": "m-1" }), "a bare manager id");
        assert!(doc[ENTERPRISE_SCHEMA].get("costCenter").is_none());
    }

    #[test]
    fn a_user_needs_a_user_name_and_a_readable_active() {
        let err = stored_document(ResourceType::User, json!({ "name": { "givenName": "Ada" } })).unwrap_err();
        assert_eq!(err.scim_type(), Some("invalidValue"));
        assert!(err.to_string().contains("userName"), "{err}");
        let err = stored_document(ResourceType::User, json!({ "userName": "a", "active": "maybe" })).unwrap_err();
        assert!(err.to_string().contains("active"), "{err}");
        assert!(stored_document(ResourceType::User, json!({ "userName": "a" })).unwrap().get("active").is_none());
        assert!(stored_document(ResourceType::Group, json!({ "displayName": " " })).is_err());
        assert!(stored_document(ResourceType::User, json!([1])).is_err());
    }

    #[test]
    fn a_manager_comes_in_every_documented_shape() {
        assert_eq!(manager(json!("m")).unwrap(), Some(json!({ "value": "m" })));
        assert_eq!(manager(json!({ "value": "m", "$ref": "r" })).unwrap(), Some(json!({ "value": "m", "$ref": "r" })));
        assert_eq!(manager(json!([{ "value": "m" }])).unwrap(), Some(json!({ "value": "m" })));
        assert_eq!(manager(json!("")).unwrap(), None);
        assert_eq!(manager(json!({ "value": null })).unwrap(), None);
        assert!(manager(json!(7)).is_err());
    }

    #[test]
    fn a_user_reads_as_a_record_of_its_work_details() {
        let doc = stored_document(
            ResourceType::User,
            json!({
                "userName": "ada",
                "name": { "givenName": "Ada", "familyName": "Lovelace" },
                "emails": [{ "value": "ada@home.test", "type": "home", "primary": true }, { "value": "Ada@Acme.test", "type": "work" }],
                "addresses": [{ "type": "work", "locality": "London" }],
                "active": false,
                ENTERPRISE_SCHEMA: { "department": "R&D", "employeeNumber": "E7" },
            }),
        )
        .unwrap();
        let record = record("id-1", &doc, Some("id-0".into()));
        assert_eq!(record.remote_id, "id-1");
        assert_eq!(record.values["emails.work"], "Ada@Acme.test", "the work email over the primary one");
        assert_eq!(record.values["addresses.locality"], "London");
        assert_eq!(record.values["enterprise.department"], "R&D");
        assert_eq!(record.values["enterprise.manager"], "id-0");
        assert_eq!(record.values["active"], EMPLOYMENT_INACTIVE);
        assert_eq!(emails_key(&doc), "\nada@home.test\nada@acme.test\n");
        let keys: Vec<String> = fields().into_iter().map(|f| f.key).collect();
        assert!(record.values.keys().all(|k| keys.contains(k)), "every value is an offered field");
    }

    #[test]
    fn an_answer_projects_attributes_but_keeps_its_identity() {
        let resource = json!({ "id": "1", "schemas": [], "meta": {}, "userName": "a", "name": { "givenName": "A", "familyName": "B" }, "title": "t" });
        let only = project(resource.clone(), &["userName".into(), "name.givenName".into()], &[]);
        assert!(only.get("id").is_some() && only.get("meta").is_some() && only.get("userName").is_some());
        assert!(only.get("title").is_none());
        let without = project(resource, &[], &["title".into(), "name.familyName".into(), "id".into()]);
        assert!(without.get("title").is_none() && without.get("id").is_some());
        assert_eq!(without["name"], json!({ "givenName": "A" }));
    }
}
