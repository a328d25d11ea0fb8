//! What a spreadsheet's headings and cells mean: which column identifies a person, what a
//! status or a date cell says in the directory's terms, and which cells look like formulas.
//! Pure functions, shared by the read on arrival and the sync's read.

use chrono::NaiveDate;

use crate::mapping::headings;
use crate::providers::{EMPLOYMENT_ACTIVE, EMPLOYMENT_INACTIVE, EMPLOYMENT_PRE_START};

/// Headings of a column of employee ids, compared as [`headings::normalized`].
const ID_HEADINGS: &[&str] = &[
    "employeeid",
    "employeenumber",
    "employeeno",
    "employeecode",
    "empid",
    "empno",
    "staffid",
    "staffnumber",
    "personnelnumber",
    "workerid",
    "personid",
    "id",
];

/// The column that identifies a person from one upload to the next: an employee-id column
/// where the file has one (so a changed email is the same person), else the email column.
pub fn key_column(columns: &[String]) -> Option<String> {
    let id = columns.iter().find(|c| ID_HEADINGS.contains(&headings::normalized(c).as_str()));
    id.or_else(|| columns.iter().find(|c| headings::suggests(c) == Some("email"))).cloned()
}

/// A cell a spreadsheet program would run as a formula when the text is opened again (CSV
/// injection): it starts with `=`, `+`, `-` or `@` (or a tab or carriage return before one), and
/// is not simply a signed number.
pub fn looks_like_formula(value: &str) -> bool {
    let Some(first) = value.chars().next() else { return false };
    if !matches!(first, '=' | '+' | '-' | '@' | '\t' | '\r') {
        return false;
    }
    let number = value.strip_prefix(['+', '-']).is_some_and(|rest| {
        !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || c == '.') && rest.parse::<f64>().is_ok()
    });
    !number
}

/// The admin's note about a formula-like cell: where it is, and that it stays text. Not what it
/// holds: the note outlives the file, and the column may be one no mapping reads.
pub fn formula_finding(row: usize, column: &str) -> String {
    format!("row {row}, column '{column}' starts like a formula; it is kept as text and never evaluated")
}

/// A status cell in the directory's terms; `None` for words it does not know.
pub fn employment_status(value: &str) -> Option<&'static str> {
    let word = value.trim().to_lowercase();
    let word = word.replace(['-', '_'], " ");
    match word.as_str() {
        "active" | "employed" | "current" | "yes" | "y" | "true" | "1" | "on leave" | "leave" | "working" => {
            Some(EMPLOYMENT_ACTIVE)
        }
        "inactive" | "terminated" | "left" | "leaver" | "former" | "no" | "n" | "false" | "0" | "deactivated"
        | "offboarded" | "ended" | "resigned" | "retired" => Some(EMPLOYMENT_INACTIVE),
        "pre start" | "prestart" | "onboarding" | "hired" | "not started" | "starting" | "new hire" => {
            Some(EMPLOYMENT_PRE_START)
        }
        _ => None,
    }
}

/// A date cell as ISO 8601 (`YYYY-MM-DD`), from the forms that cannot be misread: ISO itself,
/// with slashes or dots, or with a time after it. `03/04/2024` could be either month.
pub fn iso_date(value: &str) -> Option<String> {
    let day = value.trim().split(['T', ' ']).next()?;
    ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d"]
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(day, format).ok())
        .map(|date| date.format("%Y-%m-%d").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn an_employee_id_column_identifies_people_before_the_email() {
        assert_eq!(key_column(&columns(&["E-mail address", "Employee ID"])).as_deref(), Some("Employee ID"));
        assert_eq!(key_column(&columns(&["Name", "Work Email"])).as_deref(), Some("Work Email"));
        assert_eq!(key_column(&columns(&["Name", "Manager email"])), None, "a manager's email is not theirs");
    }

    #[test]
    fn formula_like_cells_are_told_from_signed_numbers() {
        for formula in ["=1+2", "+SUM(A1:A3)", "-2+3", "@SUM(A1)", "\t=1", "-", "=HYPERLINK(\"http://x\")"] {
            assert!(looks_like_formula(formula), "{formula:?}");
        }
        for text in ["Ada", "-5", "+44", "3.5", "", "a=b", "-1.5"] {
            assert!(!looks_like_formula(text), "{text:?}");
        }
        let finding = formula_finding(7, "Salary");
        assert!(finding.starts_with("row 7, column 'Salary' starts like a formula"), "{finding}");
    }

    #[test]
    fn status_words_and_unambiguous_dates_read_in_the_directorys_terms() {
        assert_eq!(employment_status(" Terminated "), Some(EMPLOYMENT_INACTIVE));
        assert_eq!(employment_status("On-Leave"), Some(EMPLOYMENT_ACTIVE));
        assert_eq!(employment_status("pre_start"), Some(EMPLOYMENT_PRE_START));
        assert_eq!(employment_status("maybe"), None);
        assert_eq!(iso_date("2024-03-05").as_deref(), Some("2024-03-05"));
        assert_eq!(iso_date("2024/3/5").as_deref(), Some("2024-03-05"));
        assert_eq!(iso_date("2024-03-05 00:00:00").as_deref(), Some("2024-03-05"));
        assert_eq!(iso_date("03/04/2024"), None, "day or month first cannot be told");
        assert_eq!(iso_date("2024-02-30"), None);
    }
}
