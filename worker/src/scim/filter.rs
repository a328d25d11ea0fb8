//! List filters (RFC 7644 §3.4.2.2), parsed by `scim_v2`'s grammar and answered by the
//! database: each comparison becomes a condition on an indexed column of `scim_resource`, never
//! a scan of stored documents in memory. A filter is bounded before it is read (its length, its
//! nesting, its number of comparisons), so no filter costs more than a few index lookups; an
//! attribute without a column is an `invalidFilter` naming it.
//!
//! Filterable: `id`, `userName` and a group's `displayName` (case-insensitive), `externalId`
//! (case-exact), `emails` / `emails.value` (any of the user's emails), a user's `displayName`,
//! `active`, `meta.created` and `meta.lastModified`.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use scim_v2::filter::{AttrExp, AttrPath, CompValue, CompareOp, Filter, ValFilter};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func, LikeExpr, SimpleExpr};
use sea_orm::ColumnTrait;

use entity::scim_resource::Column;

use super::resource::{ResourceType, ENTERPRISE_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};
use super::{ScimError, ScimResult};

/// Longest filter read, in bytes.
pub const MAX_FILTER_BYTES: usize = 1_024;
/// Most comparisons in one filter.
const MAX_COMPARISONS: usize = 16;
/// Deepest nesting of `and`, `or`, `not` and brackets.
const MAX_DEPTH: usize = 8;

/// The condition a filter on `kind` resources sets.
pub fn condition(kind: ResourceType, raw: &str) -> ScimResult<Condition> {
    if raw.len() > MAX_FILTER_BYTES {
        return Err(invalid(format!("the filter is longer than {MAX_FILTER_BYTES} bytes")));
    }
    let filter = Filter::from_str(raw).map_err(|_| invalid(format!("'{}' is not a SCIM filter", excerpt(raw))))?;
    let (comparisons, depth) = size(&filter);
    if comparisons > MAX_COMPARISONS || depth > MAX_DEPTH {
        return Err(invalid(format!(
            "the filter has {comparisons} comparisons nested {depth} deep; at most {MAX_COMPARISONS} nested \
             {MAX_DEPTH} deep are answered"
        )));
    }
    translate(kind, &filter)
}

fn excerpt(raw: &str) -> String {
    crate::text::excerpt(raw, 80)
}

fn invalid(message: String) -> ScimError {
    ScimError::InvalidFilter(message)
}

/// Comparisons and depth of a filter.
fn size(filter: &Filter) -> (usize, usize) {
    match filter {
        Filter::Attr(_) => (1, 1),
        Filter::ValuePath(v) => {
            let (n, d) = val_size(&v.filter);
            (n, d + 1)
        }
        Filter::Not(inner) => {
            let (n, d) = size(inner);
            (n, d + 1)
        }
        Filter::And(l, r) | Filter::Or(l, r) => {
            let ((ln, ld), (rn, rd)) = (size(l), size(r));
            (ln + rn, ld.max(rd) + 1)
        }
    }
}

fn val_size(filter: &ValFilter) -> (usize, usize) {
    match filter {
        ValFilter::Attr(_) => (1, 1),
        ValFilter::Not(inner) => {
            let (n, d) = val_size(inner);
            (n, d + 1)
        }
        ValFilter::And(l, r) | ValFilter::Or(l, r) => {
            let ((ln, ld), (rn, rd)) = (val_size(l), val_size(r));
            (ln + rn, ld.max(rd) + 1)
        }
    }
}

fn translate(kind: ResourceType, filter: &Filter) -> ScimResult<Condition> {
    Ok(match filter {
        Filter::Attr(exp) => Condition::all().add(comparison(kind, exp, None)?),
        Filter::ValuePath(v) => {
            // `emails[value co "@acme"]`: the sub-filter's comparisons, on the attribute's values.
            val_translate(kind, &v.attr, &v.filter)?
        }
        Filter::Not(inner) => translate(kind, inner)?.not(),
        Filter::And(l, r) => Condition::all().add(translate(kind, l)?).add(translate(kind, r)?),
        Filter::Or(l, r) => Condition::any().add(translate(kind, l)?).add(translate(kind, r)?),
    })
}

fn val_translate(kind: ResourceType, parent: &AttrPath, filter: &ValFilter) -> ScimResult<Condition> {
    Ok(match filter {
        ValFilter::Attr(exp) => Condition::all().add(comparison(kind, exp, Some(parent))?),
        ValFilter::Not(inner) => val_translate(kind, parent, inner)?.not(),
        ValFilter::And(l, r) => {
            Condition::all().add(val_translate(kind, parent, l)?).add(val_translate(kind, parent, r)?)
        }
        ValFilter::Or(l, r) => {
            Condition::any().add(val_translate(kind, parent, l)?).add(val_translate(kind, parent, r)?)
        }
    })
}

/// A column a filter may compare, and how.
enum Target {
    /// Stored lower-cased: compared with the value lower-cased.
    Folded(Column),
    /// Compared as given.
    Exact(Column),
    /// Compared lower-cased on both sides.
    Lowered(Column),
    Emails,
    Active,
    Time(Column),
    Id,
}

/// The target of attribute `path` (inside `parent`, for a value path's sub-filter).
fn target(kind: ResourceType, path: &AttrPath, parent: Option<&AttrPath>) -> ScimResult<Target> {
    let schema_ok = match path.uri.as_deref() {
        None => true,
        Some(uri) => {
            let own = if kind == ResourceType::User { USER_SCHEMA } else { GROUP_SCHEMA };
            uri.eq_ignore_ascii_case(own) && uri != ENTERPRISE_SCHEMA
        }
    };
    let (name, sub) = match parent {
        Some(parent) => (parent.name.as_str(), Some(path.name.as_str())),
        None => (path.name.as_str(), path.sub_attr.as_deref()),
    };
    let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let found = match (kind, name, sub) {
        _ if !schema_ok => None,
        (_, n, None) if is(n, "id") => Some(Target::Id),
        (_, n, None) if is(n, "externalId") => Some(Target::Exact(Column::ExternalId)),
        (ResourceType::User, n, None) if is(n, "userName") => Some(Target::Folded(Column::NameKey)),
        (ResourceType::Group, n, None) if is(n, "displayName") => Some(Target::Folded(Column::NameKey)),
        (ResourceType::User, n, None) if is(n, "displayName") => Some(Target::Lowered(Column::DisplayName)),
        (ResourceType::User, n, None) if is(n, "active") => Some(Target::Active),
        (ResourceType::User, n, s) if is(n, "emails") && s.is_none_or(|s| is(s, "value")) => Some(Target::Emails),
        (_, n, Some(s)) if is(n, "meta") && is(s, "lastModified") => Some(Target::Time(Column::UpdatedAt)),
        (_, n, Some(s)) if is(n, "meta") && is(s, "created") => Some(Target::Time(Column::CreatedAt)),
        _ => None,
    };
    found.ok_or_else(|| {
        let shown = match parent {
            Some(parent) => format!("{parent}.{path}"),
            None => path.to_string(),
        };
        invalid(format!("filtering {}s on '{shown}' is not supported", kind.as_str()))
    })
}

fn comparison(kind: ResourceType, exp: &AttrExp, parent: Option<&AttrPath>) -> ScimResult<SimpleExpr> {
    let (path, op, value) = match exp {
        AttrExp::Present(path) => (path, None, None),
        AttrExp::Comparison(path, op, value) => (path, Some(op), Some(value)),
    };
    // A value path's `type` (emails[type eq "work"]) does not narrow which emails match: every
    // email of the user is one of theirs. Only `emails` has a value path here.
    if let Some(parent) = parent {
        if !(kind == ResourceType::User && parent.name.eq_ignore_ascii_case("emails") && parent.uri.is_none()) {
            return Err(invalid(format!("filtering {}s on '{parent}[…]' is not supported", kind.as_str())));
        }
        if !path.name.eq_ignore_ascii_case("value") {
            return Ok(Expr::value(true));
        }
    }
    let target = target(kind, path, parent)?;
    let Some(op) = op else { return Ok(present(&target)) };
    let value = value.expect("a comparison has a value");
    let text = |v: &CompValue| match v {
        CompValue::Str(s) => Ok(s.clone()),
        other => Err(invalid(format!("'{path}' is compared with a string, not {other}"))),
    };
    Ok(match target {
        Target::Folded(column) => text_condition(Expr::col(column).into(), op, &text(value)?.to_lowercase())?,
        Target::Lowered(column) => null_safe(
            column,
            op,
            text_condition(Func::lower(Expr::col(column)).into(), op, &text(value)?.to_lowercase())?,
        ),
        Target::Exact(column) => null_safe(column, op, text_condition(Expr::col(column).into(), op, &text(value)?)?),
        Target::Emails => emails_condition(op, &text(value)?.to_lowercase())?,
        Target::Id => {
            let id = uuid::Uuid::parse_str(&text(value)?).ok();
            match (op, id) {
                (CompareOp::Eq, Some(id)) => Column::Id.eq(id),
                (CompareOp::Eq, None) => Expr::value(false),
                (CompareOp::Ne, Some(id)) => Column::Id.ne(id),
                (CompareOp::Ne, None) => Expr::value(true),
                _ => return Err(invalid("'id' is compared with eq or ne".into())),
            }
        }
        Target::Active => {
            let wanted = match value {
                CompValue::True => true,
                CompValue::False => false,
                other => return Err(invalid(format!("'active' is compared with true or false, not {other}"))),
            };
            match op {
                CompareOp::Eq => Column::Active.eq(wanted),
                CompareOp::Ne => Column::Active.ne(wanted),
                _ => return Err(invalid("'active' is compared with eq or ne".into())),
            }
        }
        Target::Time(column) => {
            let at: DateTime<Utc> = DateTime::parse_from_rfc3339(&text(value)?)
                .map_err(|_| invalid(format!("'{path}' is compared with an RFC 3339 date-time")))?
                .with_timezone(&Utc);
            match op {
                CompareOp::Eq => column.eq(at),
                CompareOp::Ne => column.ne(at),
                CompareOp::Gt => column.gt(at),
                CompareOp::Ge => column.gte(at),
                CompareOp::Lt => column.lt(at),
                CompareOp::Le => column.lte(at),
                _ => return Err(invalid(format!("'{path}' is compared with eq, ne, gt, ge, lt or le"))),
            }
        }
    })
}

/// A comparison on a column that may hold no value, true or false but never unknown, so that
/// `not (externalId eq "x")` keeps the users without one (SQL's NULL would drop them); the
/// comparison itself stays as written, for the column's index.
fn null_safe(column: Column, op: &CompareOp, comparison: SimpleExpr) -> SimpleExpr {
    match op {
        CompareOp::Ne => Expr::col(column).is_null().or(comparison),
        _ => Expr::col(column).is_not_null().and(comparison),
    }
}

fn present(target: &Target) -> SimpleExpr {
    match target {
        Target::Folded(c) | Target::Exact(c) | Target::Lowered(c) => Expr::col(*c).is_not_null(),
        Target::Emails => Column::EmailsKey.ne(""),
        Target::Active | Target::Time(_) | Target::Id => Expr::value(true),
    }
}

/// `%` and `_` in a LIKE pattern, escaped.
fn escaped(value: &str) -> String {
    value.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

fn like(expr: SimpleExpr, pattern: String) -> SimpleExpr {
    expr.like(LikeExpr::new(pattern).escape('\\'))
}

fn text_condition(expr: SimpleExpr, op: &CompareOp, value: &str) -> ScimResult<SimpleExpr> {
    let pattern = escaped(value);
    Ok(match op {
        CompareOp::Eq => expr.eq(value),
        CompareOp::Ne => expr.ne(value),
        CompareOp::Co => like(expr, format!("%{pattern}%")),
        CompareOp::Sw => like(expr, format!("{pattern}%")),
        CompareOp::Ew => like(expr, format!("%{pattern}")),
        CompareOp::Gt => expr.gt(value),
        CompareOp::Ge => expr.gte(value),
        CompareOp::Lt => expr.lt(value),
        CompareOp::Le => expr.lte(value),
    })
}

/// Any of the user's emails (each stored between newlines, which no email holds).
fn emails_condition(op: &CompareOp, value: &str) -> ScimResult<SimpleExpr> {
    if value.contains('\n') {
        return Ok(Expr::value(false));
    }
    let pattern = escaped(value);
    let emails = || SimpleExpr::from(Expr::col(Column::EmailsKey));
    Ok(match op {
        CompareOp::Eq => like(emails(), format!("%\n{pattern}\n%")),
        CompareOp::Ne => like(emails(), format!("%\n{pattern}\n%")).not(),
        CompareOp::Co => like(emails(), format!("%{pattern}%")),
        CompareOp::Sw => like(emails(), format!("%\n{pattern}%")),
        CompareOp::Ew => like(emails(), format!("%{pattern}\n%")),
        _ => return Err(invalid("emails are compared with eq, ne, co, sw or ew".into())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::sea_query::{Query, SqliteQueryBuilder};

    fn sql(raw: &str) -> String {
        let condition = condition(ResourceType::User, raw).unwrap();
        Query::select()
            .column(Column::Id)
            .from(entity::scim_resource::Entity)
            .cond_where(condition)
            .to_string(SqliteQueryBuilder)
    }

    fn refused(raw: &str) -> String {
        let err = condition(ResourceType::User, raw).unwrap_err();
        assert_eq!(err.scim_type(), Some("invalidFilter"), "{raw}");
        err.to_string()
    }

    #[test]
    fn comparisons_are_conditions_on_columns() {
        assert!(sql(r#"userName eq "Ada@Acme.test""#).contains(r#""name_key" = 'ada@acme.test'"#));
        assert!(sql(r#"externalId eq "00u1""#).contains(r#""external_id" = '00u1'"#));
        assert!(sql(r#"userName sw "ad" and active eq true"#).contains("LIKE 'ad%' ESCAPE"));
        assert!(sql(r#"emails co "100%_x""#).contains(r"LIKE '%100\%\_x%'"), "{}", sql(r#"emails co "100%_x""#));
        assert!(sql(r#"emails[type eq "work" and value eq "a@b.c"]"#).contains("LIKE '%\na@b.c\n%'"));
        assert!(sql(r#"meta.lastModified gt "2026-12-01T00:00:00Z""#).contains(r#""updated_at" >"#));
        assert!(sql(r#"externalId pr or not (userName eq "x")"#).contains("NOT"));
        let negated = sql(r#"not (externalId eq "x")"#);
        assert!(negated.contains(r#"NOT ("external_id" IS NOT NULL AND "external_id" = 'x')"#), "{negated}");
    }

    #[test]
    fn injections_and_oversized_filters_are_refused() {
        refused(r#"userName eq "x" or 1 eq 1"#);
        refused(r#"userName eq "x"; DROP TABLE scim_resource"#);
        refused(&format!(r#"userName eq "{}""#, "x".repeat(MAX_FILTER_BYTES)));
        let deep = format!("{}userName eq \"x\"{}", "not (".repeat(20), ")".repeat(20));
        assert!(refused(&deep).contains("deep"));
        let wide = vec![r#"userName eq "x""#; 17].join(" or ");
        assert!(refused(&wide).contains("17 comparisons"));
        assert!(refused(r#"title eq "x""#).contains("'title'"));
        refused(r#"active eq "yes""#);
        refused(r#"meta.lastModified gt "yesterday""#);
        refused(r#"addresses[type eq "work"]"#);
    }

    #[test]
    fn a_value_that_is_no_uuid_matches_no_id() {
        assert!(sql(r#"id eq "not-a-uuid""#).contains("FALSE") || sql(r#"id eq "not-a-uuid""#).contains("0"));
    }
}
