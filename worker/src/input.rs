//! What admins type in, checked once for every use case: texts are trimmed (blank means none)
//! and limited in length, dates are ISO dates. Errors name the input field.

use chrono::NaiveDate;

use crate::error::{Error, Result};

/// `raw` trimmed, `None` when blank; longer than `max_chars` is refused.
pub fn text(field: &'static str, raw: &str, max_chars: usize) -> Result<Option<String>> {
    let value = raw.trim();
    if value.chars().count() > max_chars {
        return Err(Error::Validation { field, message: format!("'{field}' may be at most {max_chars} characters") });
    }
    Ok((!value.is_empty()).then(|| value.to_string()))
}

/// `raw` as an ISO date (`2026-3-1` becomes `2026-03-01`), `None` when blank.
pub fn iso_date(field: &'static str, raw: &str) -> Result<Option<String>> {
    let value = raw.trim();
    if value.is_empty() {
        return Ok(None);
    }
    match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Ok(date) => Ok(Some(date.format("%Y-%m-%d").to_string())),
        Err(_) => Err(Error::Validation {
            field,
            message: format!(
                "'{field}' must be an ISO date such as 2026-03-01, not '{}'",
                crate::text::excerpt(value, 64)
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_trimmed_and_dates_normalised() {
        assert_eq!(text("f", "  Ada ", 10).unwrap(), Some("Ada".into()));
        assert_eq!(text("f", "   ", 10).unwrap(), None);
        assert!(matches!(
            text("input.f", "x".repeat(11).as_str(), 10),
            Err(Error::Validation { field: "input.f", .. })
        ));
        assert_eq!(iso_date("d", "2026-3-01").unwrap(), Some("2026-03-01".into()));
        assert_eq!(iso_date("d", " ").unwrap(), None);
        assert!(matches!(iso_date("input.d", "01/03/2026"), Err(Error::Validation { field: "input.d", .. })));
    }
}
