//! `schema.graphql` is the SDL exported from the code, and it keeps every promise of the client
//! contract, `tests/contract/api-contract.graphql` (a copy of the shared contract that `.ci/run`
//! keeps equal to it).

use std::collections::BTreeMap;

use async_graphql_parser::types::{TypeKind, TypeSystemDefinition};

const SCHEMA_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
const CONTRACT: &str = include_str!("../contract/api-contract.graphql");

#[test]
fn schema_graphql_is_up_to_date() {
    let generated = api::graphql::sdl();
    if std::env::var("UPDATE_SCHEMA").is_ok() {
        std::fs::write(SCHEMA_FILE, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(SCHEMA_FILE).unwrap_or_default();
    assert!(
        checked_in == generated,
        "schema.graphql is stale; regenerate it with `UPDATE_SCHEMA=1 cargo test --test e2e schema`"
    );
}

/// type name → member (field with arguments and type, or enum value) → its signature.
fn members(sdl: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let document = async_graphql_parser::parse_schema(sdl).expect("valid SDL");
    let mut types = BTreeMap::new();
    for definition in document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else { continue };
        let ty = ty.node;
        let mut entries = BTreeMap::new();
        match ty.kind {
            TypeKind::Object(object) => {
                for field in object.fields {
                    let field = field.node;
                    entries.insert(field.name.node.to_string(), field.ty.node.to_string());
                    for arg in field.arguments {
                        let arg = arg.node;
                        let default = arg.default_value.map(|d| format!(" = {}", d.node)).unwrap_or_default();
                        entries.insert(
                            format!("{}({})", field.name.node, arg.name.node),
                            format!("{}{default}", arg.ty.node),
                        );
                    }
                }
            }
            TypeKind::InputObject(input) => {
                for field in input.fields {
                    entries.insert(field.node.name.node.to_string(), field.node.ty.node.to_string());
                }
            }
            TypeKind::Enum(enumeration) => {
                for value in enumeration.values {
                    entries.insert(value.node.value.node.to_string(), String::new());
                }
            }
            TypeKind::Scalar | TypeKind::Interface(_) | TypeKind::Union(_) => {}
        }
        types.insert(ty.name.node.to_string(), entries);
    }
    types
}

#[test]
fn schema_contains_the_client_contract() {
    let ours = members(&api::graphql::sdl());
    let mut gaps = Vec::new();
    for (type_name, promised) in members(CONTRACT) {
        let Some(actual) = ours.get(&type_name) else {
            gaps.push(format!("type {type_name} is missing"));
            continue;
        };
        for (member, signature) in promised {
            match actual.get(&member) {
                None => gaps.push(format!("{type_name}.{member} is missing")),
                Some(ours) if *ours != signature => {
                    gaps.push(format!("{type_name}.{member}: promised `{signature}`, have `{ours}`"))
                }
                Some(_) => {}
            }
        }
    }
    assert!(gaps.is_empty(), "schema.graphql breaks the contract:\n{}", gaps.join("\n"));
}
