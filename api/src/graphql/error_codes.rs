//! A schema extension that gives every error an `extensions.code`: errors raised by async-graphql
//! itself (syntax, unknown fields, wrong argument types, depth and complexity limits) describe a
//! request the client must change, so they are VALIDATION_FAILED.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextRequest, NextSubscribe};
use async_graphql::{Response, ServerError};
use futures::stream::{BoxStream, StreamExt};

use super::{MAX_COMPLEXITY, MAX_DEPTH};
use crate::error::ErrorCode;

pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodesExtension)
    }
}

struct ErrorCodesExtension;

fn with_codes(mut response: Response) -> Response {
    response.errors.iter_mut().for_each(ensure_code);
    response
}

fn ensure_code(error: &mut ServerError) {
    // async-graphql's own words do not say which limit was met.
    match error.message.as_str() {
        "Query is too complex." => {
            error.message = format!(
                "the query costs more than the limit of {MAX_COMPLEXITY}: each field counts 1, and each list \
                 counts its `first` (or its documented cap) times what is selected in it; ask for smaller \
                 pages or fewer nested lists"
            )
        }
        "Query is nested too deep." => {
            error.message = format!("the query is nested deeper than the depth limit of {MAX_DEPTH} levels")
        }
        _ => {}
    }
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", ErrorCode::ValidationFailed.as_str());
    }
}

#[async_trait::async_trait]
impl Extension for ErrorCodesExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        with_codes(next.run(ctx).await)
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream).map(with_codes).boxed()
    }
}
