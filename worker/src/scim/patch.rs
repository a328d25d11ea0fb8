//! PATCH (RFC 7644 §3.5.2) on a stored document: `add`, `replace` and `remove`, with attribute
//! paths (`name.givenName`, `urn:…:enterprise:2.0:User:department`) and value paths
//! (`emails[type eq "work"].value`), parsed by `scim_v2`'s grammar. A group's `members` are
//! kept as rows, not in its document: [`split_members`] takes their operations out, so adding
//! ten thousand members is one insert.
//!
//! Read as Okta and Entra ID send it: `op` in any case ("Replace"), a PATCH without `path` whose
//! value object names attributes by path (`"name.givenName": "Ada"`), an `add` to a value path
//! that matches nothing (it adds the element the filter describes).

use std::str::FromStr;

use scim_v2::filter::{AttrExp, AttrPath, CompValue, CompareOp, PatchPath, ValFilter};
use serde_json::{Map, Value};

use super::resource::{self, canonical, ResourceType, ENTERPRISE_SCHEMA, PATCH_SCHEMA};
use super::{ScimError, ScimResult, MAX_MEMBERS_PER_PATCH, MAX_OPERATIONS};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Replace,
    Remove,
}

/// One operation of a PATCH request.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub op: Op,
    pub path: Option<String>,
    pub value: Option<Value>,
}

/// A group member as an operation names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub value: String,
    pub display: Option<String>,
}

/// What a PATCH does to a group's members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberChange {
    Add(Vec<Member>),
    Remove(Vec<String>),
    RemoveAll,
    Replace(Vec<Member>),
}

/// The operations of a PATCH request body.
pub fn operations(body: Value) -> ScimResult<Vec<Operation>> {
    let Value::Object(body) = body else { return Err(syntax("a PATCH request must be a JSON object")) };
    if let Some(schemas) = body.get("schemas") {
        let listed = schemas.as_array().is_some_and(|s| s.iter().any(|u| u.as_str() == Some(PATCH_SCHEMA)));
        if !listed {
            return Err(syntax(&format!("a PATCH request's schemas must include '{PATCH_SCHEMA}'")));
        }
    }
    let listed = body.iter().find(|(k, _)| k.eq_ignore_ascii_case("Operations")).map(|(_, v)| v);
    let Some(Value::Array(listed)) = listed else { return Err(syntax("'Operations' must be a list of operations")) };
    if listed.is_empty() {
        return Err(syntax("'Operations' is empty"));
    }
    if listed.len() > MAX_OPERATIONS {
        return Err(ScimError::TooMany(format!("at most {MAX_OPERATIONS} operations per PATCH request")));
    }
    listed.iter().map(operation).collect()
}

fn operation(raw: &Value) -> ScimResult<Operation> {
    let field =
        |name: &str| raw.as_object().and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))).map(|(_, v)| v);
    let op = match field("op").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
        Some("add") => Op::Add,
        Some("replace") => Op::Replace,
        Some("remove") => Op::Remove,
        _ => return Err(syntax("each operation's 'op' must be add, replace or remove")),
    };
    let path = match field("path") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) if p.trim().is_empty() => None,
        Some(Value::String(p)) => Some(p.trim().to_string()),
        Some(_) => return Err(ScimError::InvalidPath("'path' must be a string".into())),
    };
    let value = field("value").cloned().filter(|v| !v.is_null());
    if op != Op::Remove && value.is_none() {
        return Err(ScimError::InvalidValue("an add or replace operation needs a 'value'".into()));
    }
    if op == Op::Remove && path.is_none() {
        return Err(ScimError::NoTarget("a remove operation needs a 'path'".into()));
    }
    Ok(Operation { op, path, value })
}

fn syntax(message: &str) -> ScimError {
    ScimError::InvalidSyntax(message.to_string())
}

/// Takes a group's `members` operations out of `operations`, as member changes; answers the
/// changes and the operations left for the group's document.
pub fn split_members(operations: Vec<Operation>) -> ScimResult<(Vec<MemberChange>, Vec<Operation>)> {
    let mut changes = Vec::new();
    let mut rest = Vec::new();
    let mut counted = 0;
    for operation in operations {
        let change = match operation.path.as_deref() {
            Some(path) if path.eq_ignore_ascii_case("members") => Some(match (operation.op, operation.value) {
                (Op::Add, Some(value)) => MemberChange::Add(members(value)?),
                (Op::Replace, Some(value)) => MemberChange::Replace(members(value)?),
                (Op::Remove, None) => MemberChange::RemoveAll,
                (Op::Remove, Some(value)) => {
                    MemberChange::Remove(members(value)?.into_iter().map(|m| m.value).collect())
                }
                (_, None) => unreachable!("checked by `operation`"),
            }),
            Some(path) if starts_with_ignore_case(path, "members[") => {
                if operation.op != Op::Remove {
                    return Err(ScimError::InvalidPath(format!("'{path}': members are added or replaced as a list")));
                }
                Some(MemberChange::Remove(member_ids(path)?))
            }
            None => {
                // A value object naming `members` among other attributes.
                let mut operation = operation;
                let Some(Value::Object(mut value)) = operation.value.take() else {
                    return Err(ScimError::InvalidValue("an operation without a path needs an object value".into()));
                };
                let listed = value.keys().find(|k| k.eq_ignore_ascii_case("members")).cloned();
                if let Some(key) = listed {
                    let listed = members(value.remove(&key).unwrap_or(Value::Null))?;
                    counted += listed.len();
                    changes.push(if operation.op == Op::Add {
                        MemberChange::Add(listed)
                    } else {
                        MemberChange::Replace(listed)
                    });
                }
                if !value.is_empty() {
                    rest.push(Operation { value: Some(Value::Object(value)), ..operation });
                }
                None
            }
            Some(_) => {
                rest.push(operation);
                None
            }
        };
        if let Some(change) = change {
            counted += match &change {
                MemberChange::Add(m) | MemberChange::Replace(m) => m.len(),
                MemberChange::Remove(ids) => ids.len(),
                MemberChange::RemoveAll => 0,
            };
            changes.push(change);
        }
    }
    if counted > MAX_MEMBERS_PER_PATCH {
        return Err(ScimError::TooMany(format!("at most {MAX_MEMBERS_PER_PATCH} members per PATCH request")));
    }
    Ok((changes, rest))
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len()).is_some_and(|start| start.eq_ignore_ascii_case(prefix))
}

/// Members as a value lists them: `[{ "value": id, "display": … }]`, or one such object.
pub fn members(value: Value) -> ScimResult<Vec<Member>> {
    let items = match value {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        one => vec![one],
    };
    items
        .into_iter()
        .map(|item| {
            let id = item.get("value").and_then(Value::as_str).map(str::trim).filter(|v| !v.is_empty());
            let Some(id) = id else { return Err(ScimError::InvalidValue("each member needs a string 'value'".into())) };
            let display = item.get("display").and_then(Value::as_str).map(str::to_string);
            Ok(Member { value: id.to_string(), display })
        })
        .collect()
}

/// The ids `members[value eq "a" or value eq "b"]` names.
fn member_ids(path: &str) -> ScimResult<Vec<String>> {
    let parsed = parse_path(path)?;
    let PatchPath::Value(value_path) = parsed else { return Err(invalid_path(path)) };
    let mut ids = Vec::new();
    collect_value_eq(&value_path.filter, &mut ids).then_some(()).ok_or_else(|| {
        ScimError::InvalidFilter(format!("'{path}': members are removed by value eq \"<id>\" (joined with or)"))
    })?;
    Ok(ids)
}

fn collect_value_eq(filter: &ValFilter, ids: &mut Vec<String>) -> bool {
    match filter {
        ValFilter::Attr(AttrExp::Comparison(path, CompareOp::Eq, CompValue::Str(id)))
            if path.name.eq_ignore_ascii_case("value") && path.sub_attr.is_none() =>
        {
            ids.push(id.clone());
            true
        }
        ValFilter::Or(left, right) => collect_value_eq(left, ids) && collect_value_eq(right, ids),
        _ => false,
    }
}

fn parse_path(path: &str) -> ScimResult<PatchPath> {
    PatchPath::from_str(path).map_err(|_| invalid_path(path))
}

fn invalid_path(path: &str) -> ScimError {
    ScimError::InvalidPath(format!("'{}' is not an attribute path this resource has", crate::text::excerpt(path, 80)))
}

/// Applies `operations` to the stored document of a `kind` resource; answers the document as
/// stored afterwards (checked as a whole, as a PUT would be).
pub fn apply(kind: ResourceType, document: &Value, operations: &[Operation]) -> ScimResult<Value> {
    let mut doc = document.as_object().cloned().unwrap_or_default();
    for operation in operations {
        match (&operation.path, &operation.value) {
            (Some(path), value) => apply_at(kind, &mut doc, operation.op, path, value.clone())?,
            (None, Some(Value::Object(values))) => {
                for (key, value) in values {
                    // Ours, and sent back by Okta's group rename: not the provider's to change.
                    if ["id", "meta", "schemas"].iter().any(|k| k.eq_ignore_ascii_case(key)) {
                        continue;
                    }
                    apply_at(kind, &mut doc, operation.op, key, Some(value.clone()))?;
                }
            }
            (None, _) => {
                return Err(ScimError::InvalidValue("an operation without a path needs an object value".into()))
            }
        }
    }
    resource::stored_document(kind, Value::Object(doc))
}

/// Applies one operation at `path`.
fn apply_at(
    kind: ResourceType,
    doc: &mut Map<String, Value>,
    op: Op,
    path: &str,
    value: Option<Value>,
) -> ScimResult<()> {
    // The whole extension (scim2-tester's bare-URN path): its attributes, not its `schemas`.
    if path.eq_ignore_ascii_case(ENTERPRISE_SCHEMA) && kind == ResourceType::User {
        return match (op, value) {
            (Op::Remove, _) => {
                doc.remove(ENTERPRISE_SCHEMA);
                Ok(())
            }
            (_, Some(Value::Object(mut ext))) => {
                ext.remove("schemas");
                let target = doc.entry(ENTERPRISE_SCHEMA).or_insert_with(|| Value::Object(Map::new()));
                merge(target, Value::Object(ext));
                Ok(())
            }
            _ => Err(ScimError::InvalidValue(format!("'{ENTERPRISE_SCHEMA}' takes an object"))),
        };
    }
    let parsed = parse_path(path)?;
    let (attr, filter, sub_attr) = match &parsed {
        PatchPath::Attr(attr) => (attr, None, attr.sub_attr.as_deref()),
        PatchPath::Value(v) => (&v.attr, Some(&v.filter), v.sub_attr.as_deref()),
    };
    let container = container(kind, doc, attr, path)?;
    let name = canonical(&attr.name, resource::attributes_of(kind)).to_string();
    if ["id", "meta", "schemas", "groups"].iter().any(|k| k.eq_ignore_ascii_case(&name)) && attr.uri.is_none() {
        return Err(ScimError::Mutability(format!("'{name}' is read-only")));
    }
    match filter {
        None => {
            // `name.givenName` on a plain path is the attribute's sub-attribute.
            let sub = if matches!(parsed, PatchPath::Attr(_)) { attr.sub_attr.as_deref() } else { None };
            match sub {
                None => set(container, &name, op, value),
                Some(sub) => {
                    let inner = container.entry(name.clone()).or_insert_with(|| Value::Object(Map::new()));
                    let Value::Object(inner) = inner else { return Err(invalid_path(path)) };
                    set(inner, sub, op, value)?;
                    if inner.is_empty() {
                        container.remove(&name);
                    }
                    Ok(())
                }
            }
        }
        Some(filter) => apply_filtered(container, &name, filter, sub_attr, op, value, path),
    }
}

/// The object an attribute path's attribute lives in: the document, or its enterprise extension.
fn container<'d>(
    kind: ResourceType,
    doc: &'d mut Map<String, Value>,
    attr: &AttrPath,
    path: &str,
) -> ScimResult<&'d mut Map<String, Value>> {
    // An extension attribute named without its schema (Entra's `manager`) is the extension's.
    let extension_attribute = kind == ResourceType::User
        && resource::ENTERPRISE_ATTRIBUTES.iter().any(|a| a.eq_ignore_ascii_case(&attr.name))
        && !resource::attributes_of(kind).iter().any(|a| a.eq_ignore_ascii_case(&attr.name));
    let uri = attr.uri.as_deref().or(extension_attribute.then_some(ENTERPRISE_SCHEMA));
    match uri {
        None => Ok(doc),
        Some(uri) if uri.eq_ignore_ascii_case(resource::USER_SCHEMA) && kind == ResourceType::User => Ok(doc),
        Some(uri) if uri.eq_ignore_ascii_case(resource::GROUP_SCHEMA) && kind == ResourceType::Group => Ok(doc),
        Some(uri) if uri.eq_ignore_ascii_case(ENTERPRISE_SCHEMA) && kind == ResourceType::User => {
            let ext = doc.entry(ENTERPRISE_SCHEMA).or_insert_with(|| Value::Object(Map::new()));
            ext.as_object_mut().ok_or_else(|| invalid_path(path))
        }
        Some(_) => Err(invalid_path(path)),
    }
}

/// `op` on attribute `name` of `target`.
fn set(target: &mut Map<String, Value>, name: &str, op: Op, value: Option<Value>) -> ScimResult<()> {
    let name = target.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned().unwrap_or_else(|| name.to_string());
    let value = match (name.as_str(), value) {
        ("manager", Some(v)) => resource::manager(v)?,
        (_, v) => v,
    };
    match (op, value) {
        (Op::Remove, Some(Value::Array(listed))) if target.get(&name).is_some_and(Value::is_array) => {
            // Entra removes list elements by value: `{"op":"Remove","path":"emails","value":[…]}`.
            let values: Vec<&Value> = listed.iter().filter_map(|l| l.get("value")).collect();
            if let Some(Value::Array(items)) = target.get_mut(&name) {
                items.retain(|item| !item.get("value").is_some_and(|v| values.contains(&v)));
                if items.is_empty() {
                    target.remove(&name);
                }
            }
        }
        (Op::Remove, _) | (Op::Replace | Op::Add, None) => {
            target.remove(&name);
        }
        (Op::Add, Some(value)) => match (target.get_mut(&name), value) {
            (Some(Value::Array(items)), Value::Array(added)) => {
                for item in added {
                    if !items.contains(&item) {
                        items.push(item);
                    }
                }
            }
            (Some(Value::Array(items)), one) => {
                if !items.contains(&one) {
                    items.push(one);
                }
            }
            (Some(existing @ Value::Object(_)), value @ Value::Object(_)) => merge(existing, value),
            (_, value) => {
                target.insert(name, value);
            }
        },
        (Op::Replace, Some(value)) => match (target.get_mut(&name), value) {
            // A complex attribute's replace sets the sub-attributes given (RFC 7644 §3.5.2.3).
            (Some(existing @ Value::Object(_)), value @ Value::Object(_)) if name != "manager" => {
                merge(existing, value)
            }
            (_, value) => {
                target.insert(name, value);
            }
        },
    }
    Ok(())
}

fn merge(target: &mut Value, value: Value) {
    if let (Value::Object(target), Value::Object(value)) = (target, value) {
        for (k, v) in value {
            target.insert(k, v);
        }
    }
}

/// `op` on the elements of multi-valued attribute `name` that `filter` selects (or their
/// `sub_attr`). An `add` or `replace` that selects nothing adds the element the filter describes
/// (as Entra ID sends `emails[type eq "work"].value` for a first work email).
fn apply_filtered(
    container: &mut Map<String, Value>,
    name: &str,
    filter: &ValFilter,
    sub_attr: Option<&str>,
    op: Op,
    value: Option<Value>,
    path: &str,
) -> ScimResult<()> {
    let key = container.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned().unwrap_or_else(|| name.to_string());
    // A single-valued complex attribute (Entra's `manager[value eq "…"]`) is a list of one.
    let single = container.get(&key).is_some_and(Value::is_object);
    let mut items = match container.remove(&key) {
        None => Vec::new(),
        Some(Value::Array(items)) => items,
        Some(object @ Value::Object(_)) => vec![object],
        Some(other) => {
            container.insert(key, other);
            return Err(invalid_path(path));
        }
    };
    let selected: Vec<usize> = (0..items.len()).filter(|&i| matches(filter, &items[i])).collect();
    match op {
        Op::Remove => match sub_attr {
            None => {
                let mut index = 0;
                items.retain(|_| {
                    let keep = !selected.contains(&index);
                    index += 1;
                    keep
                });
            }
            Some(sub) => {
                for &i in &selected {
                    if let Value::Object(item) = &mut items[i] {
                        item.retain(|k, _| !k.eq_ignore_ascii_case(sub));
                    }
                }
            }
        },
        Op::Add | Op::Replace => {
            let value = value.expect("checked by `operation`");
            if selected.is_empty() {
                let mut described = described_by(filter);
                match (sub_attr, &value) {
                    (Some(sub), _) => {
                        described.insert(sub.to_string(), value.clone());
                    }
                    (None, Value::Object(whole)) => described.extend(whole.clone()),
                    (None, _) => return Err(ScimError::InvalidValue(format!("'{path}' takes an object"))),
                }
                items.push(Value::Object(described));
            }
            for &i in &selected {
                match sub_attr {
                    Some(sub) => {
                        if let Value::Object(item) = &mut items[i] {
                            item.insert(sub.to_string(), value.clone());
                        }
                    }
                    None => match op {
                        Op::Replace => items[i] = value.clone(),
                        _ => merge(&mut items[i], value.clone()),
                    },
                }
            }
        }
    }
    if !items.is_empty() {
        container.insert(key, if single && items.len() == 1 { items.remove(0) } else { Value::Array(items) });
    }
    Ok(())
}

/// The element a filter's equalities describe: `type eq "work"` is `{ "type": "work" }`.
fn described_by(filter: &ValFilter) -> Map<String, Value> {
    let mut out = Map::new();
    fn walk(filter: &ValFilter, out: &mut Map<String, Value>) {
        match filter {
            ValFilter::Attr(AttrExp::Comparison(path, CompareOp::Eq, value)) => {
                out.insert(path.name.clone(), comp_json(value));
            }
            ValFilter::And(left, right) => {
                walk(left, out);
                walk(right, out);
            }
            _ => {}
        }
    }
    walk(filter, &mut out);
    out
}

fn comp_json(value: &CompValue) -> Value {
    match value {
        CompValue::False => Value::Bool(false),
        CompValue::True => Value::Bool(true),
        CompValue::Null => Value::Null,
        CompValue::Number(n) => Value::Number(n.clone()),
        CompValue::Str(s) => Value::String(s.clone()),
    }
}

/// Whether element `item` of a multi-valued attribute passes a value filter. Text compares
/// case-insensitively, as SCIM's default `caseExact: false` says.
pub fn matches(filter: &ValFilter, item: &Value) -> bool {
    match filter {
        ValFilter::Not(inner) => !matches(inner, item),
        ValFilter::And(l, r) => matches(l, item) && matches(r, item),
        ValFilter::Or(l, r) => matches(l, item) || matches(r, item),
        ValFilter::Attr(AttrExp::Present(path)) => sub_value(item, path).is_some_and(|v| !v.is_null()),
        ValFilter::Attr(AttrExp::Comparison(path, op, expected)) => {
            sub_value(item, path).is_some_and(|actual| compare(actual, op, expected))
        }
    }
}

fn sub_value<'v>(item: &'v Value, path: &AttrPath) -> Option<&'v Value> {
    item.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(&path.name)).map(|(_, v)| v)
}

fn compare(actual: &Value, op: &CompareOp, expected: &CompValue) -> bool {
    match (actual, expected) {
        (Value::String(a), CompValue::Str(e)) => {
            let (a, e) = (a.to_lowercase(), e.to_lowercase());
            match op {
                CompareOp::Eq => a == e,
                CompareOp::Ne => a != e,
                CompareOp::Co => a.contains(&e),
                CompareOp::Sw => a.starts_with(&e),
                CompareOp::Ew => a.ends_with(&e),
                CompareOp::Gt => a > e,
                CompareOp::Ge => a >= e,
                CompareOp::Lt => a < e,
                CompareOp::Le => a <= e,
            }
        }
        (actual, CompValue::True | CompValue::False) => {
            let expected = matches!(expected, CompValue::True);
            match (resource::boolean(actual), op) {
                (Some(a), CompareOp::Eq) => a == expected,
                (Some(a), CompareOp::Ne) => a != expected,
                _ => false,
            }
        }
        (Value::Number(a), CompValue::Number(e)) => {
            let (Some(a), Some(e)) = (a.as_f64(), e.as_f64()) else { return false };
            match op {
                CompareOp::Eq => a == e,
                CompareOp::Ne => a != e,
                CompareOp::Gt => a > e,
                CompareOp::Ge => a >= e,
                CompareOp::Lt => a < e,
                CompareOp::Le => a <= e,
                _ => false,
            }
        }
        (_, CompValue::Null) => matches!(op, CompareOp::Eq) == actual.is_null(),
        _ => matches!(op, CompareOp::Ne),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ops(body: Value) -> Vec<Operation> {
        operations(body).unwrap()
    }

    fn patched(doc: Value, body: Value) -> Value {
        apply(ResourceType::User, &doc, &ops(body)).unwrap()
    }

    fn user() -> Value {
        json!({
            "userName": "ada@acme.test",
            "active": true,
            "name": { "givenName": "Ada", "familyName": "Byron" },
            "emails": [{ "value": "ada@acme.test", "type": "work", "primary": true }],
        })
    }

    #[test]
    fn entra_replaces_with_capitals_strings_and_no_path() {
        let doc = patched(
            user(),
            json!({ "schemas": [PATCH_SCHEMA], "Operations": [
                { "op": "Replace", "path": "active", "value": "False" },
                { "op": "replace", "value": { "name.familyName": "Lovelace", "displayName": "Ada L",
                  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "E7" } },
                { "op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "m-1" },
            ]}),
        );
        assert_eq!(doc["active"], false);
        assert_eq!(doc["name"], json!({ "givenName": "Ada", "familyName": "Lovelace" }));
        assert_eq!(doc["displayName"], "Ada L");
        assert_eq!(doc[ENTERPRISE_SCHEMA]["employeeNumber"], "E7");
        assert_eq!(doc[ENTERPRISE_SCHEMA]["manager"], json!({ "value": "m-1" }), "a bare manager id");
    }

    #[test]
    fn okta_deactivates_with_a_value_object() {
        let doc = patched(user(), json!({ "Operations": [{ "op": "replace", "value": { "active": false } }] }));
        assert_eq!(doc["active"], false);
    }

    #[test]
    fn value_paths_select_change_and_add_elements() {
        let doc = patched(
            user(),
            json!({ "Operations": [
                { "op": "replace", "path": "emails[type eq \"work\"].value", "value": "ada@new.test" },
                { "op": "add", "path": "addresses[type eq \"work\"].locality", "value": "London" },
            ]}),
        );
        assert_eq!(doc["emails"], json!([{ "value": "ada@new.test", "type": "work", "primary": true }]));
        assert_eq!(
            doc["addresses"],
            json!([{ "type": "work", "locality": "London" }]),
            "the element the filter describes"
        );
        let removed = patched(doc, json!({ "Operations": [{ "op": "remove", "path": "emails[type eq \"WORK\"]" }] }));
        assert!(removed.get("emails").is_none(), "case-insensitive, and an emptied list goes");
    }

    #[test]
    fn adds_append_and_removes_delete() {
        let doc = patched(
            user(),
            json!({ "Operations": [
                { "op": "add", "path": "emails", "value": [{ "value": "a@home.test", "type": "home" }] },
                { "op": "remove", "path": "name.givenName" },
                { "op": "add", "path": "title", "value": "Countess" },
            ]}),
        );
        assert_eq!(doc["emails"].as_array().unwrap().len(), 2);
        assert_eq!(doc["name"], json!({ "familyName": "Byron" }));
        assert_eq!(doc["title"], "Countess");
        let manager = patched(
            json!({ "userName": "a", ENTERPRISE_SCHEMA: { "manager": { "value": "m-1" } } }),
            json!({ "Operations": [{ "op": "remove", "path": "manager[value eq \"m-1\"]" }] }),
        );
        assert!(manager[ENTERPRISE_SCHEMA].get("manager").is_none(), "Entra's removal of a manager: {manager}");
    }

    #[test]
    fn bad_patches_are_typed_errors() {
        let kind = |body: Value| match operations(body) {
            Ok(ops) => apply(ResourceType::User, &user(), &ops).unwrap_err().scim_type(),
            Err(err) => err.scim_type(),
        };
        assert_eq!(
            kind(json!({ "Operations": [{ "op": "move", "path": "title", "value": "x" }] })),
            Some("invalidSyntax")
        );
        assert_eq!(kind(json!({ "Operations": [{ "op": "remove" }] })), Some("noTarget"));
        assert_eq!(
            kind(json!({ "Operations": [{ "op": "add", "path": "emails[type eq", "value": "x" }] })),
            Some("invalidPath")
        );
        assert_eq!(
            kind(json!({ "Operations": [{ "op": "replace", "path": "id", "value": "x" }] })),
            Some("mutability")
        );
        assert_eq!(
            kind(json!({ "Operations": [{ "op": "replace", "path": "userName", "value": "" }] })),
            Some("invalidValue")
        );
        assert_eq!(kind(json!({ "Operations": [] })), Some("invalidSyntax"));
        assert_eq!(kind(json!({ "schemas": ["x"], "Operations": [] })), Some("invalidSyntax"));
    }

    #[test]
    fn member_operations_are_taken_out_as_changes() {
        let (changes, rest) = split_members(ops(json!({ "Operations": [
            { "op": "Add", "path": "members", "value": [{ "value": "u1", "display": "Ada" }, { "value": "u2" }] },
            { "op": "remove", "path": "members[value eq \"u3\" or value eq \"u4\"]" },
            { "op": "Remove", "path": "members", "value": [{ "value": "u5" }] },
            { "op": "replace", "value": { "id": "g", "displayName": "Eng", "members": [] } },
        ]})))
        .unwrap();
        assert_eq!(
            changes,
            vec![
                MemberChange::Add(vec![
                    Member { value: "u1".into(), display: Some("Ada".into()) },
                    Member { value: "u2".into(), display: None }
                ]),
                MemberChange::Remove(vec!["u3".into(), "u4".into()]),
                MemberChange::Remove(vec!["u5".into()]),
                MemberChange::Replace(vec![]),
            ]
        );
        assert_eq!(rest.len(), 1, "the rename stays");
        let doc = apply(ResourceType::Group, &json!({ "displayName": "Old" }), &rest).unwrap();
        assert_eq!(doc, json!({ "displayName": "Eng" }), "the id sent back is ignored");
        let bad =
            split_members(ops(json!({ "Operations": [{ "op": "remove", "path": "members[display eq \"x\"]" }] })));
        assert_eq!(bad.unwrap_err().scim_type(), Some("invalidFilter"));
    }
}
