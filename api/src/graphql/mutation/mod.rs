//! Mutation roots, one per domain, merged into [`Mutation`].

mod connection;
mod joins;
mod mapping;
mod people;
mod sync;
mod webhooks;

use async_graphql::MergedObject;
use validator::ValidationErrors;

use crate::error::ApiError;

#[derive(MergedObject, Default)]
pub struct Mutation(
    connection::ConnectionMutation,
    mapping::MappingMutation,
    sync::SyncMutation,
    people::PeopleMutation,
    joins::JoinsMutation,
    webhooks::WebhooksMutation,
);

/// The first failed rule of a `validator` check, as VALIDATION_FAILED naming the input field.
fn validation_error(errors: ValidationErrors) -> ApiError {
    let (field, problems) = errors
        .field_errors()
        .into_iter()
        .min_by_key(|(field, _)| field.to_string())
        .expect("validate() failed, so some field has errors");
    let field = camel_case(&field);
    let message = problems
        .first()
        .and_then(|p| p.message.as_ref().map(|m| format!("{field}: {m}")))
        .unwrap_or_else(|| format!("'{field}' is not valid"));
    ApiError::validation(&field, message)
}

fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}
