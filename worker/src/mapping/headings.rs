//! Headings people give columns ("E-mail address", "Surname", "Hire Date", Workday's
//! "Email_-_Work"), and the directory field each usually means: the suggested mapping of a source
//! whose fields are named by an admin (a spreadsheet, a custom report), and the type a column
//! is offered as.

/// Usual headings of each directory field, compared as [`normalized`]; the first that matches
/// wins, so a manager's email is never taken for the person's own.
const USUAL_HEADINGS: &[(&str, &[&str])] = &[
    (
        "email",
        &[
            "email",
            "emailaddress",
            "workemail",
            "workemailaddress",
            "emailwork",
            "businessemail",
            "companyemail",
            "officeemail",
            "primaryworkemail",
            "primaryemail",
            "emailprimarywork",
            "mail",
            "useremail",
        ],
    ),
    (
        "firstName",
        &["firstname", "givenname", "forename", "first", "legalfirstname", "legalnamefirstname", "preferredfirstname"],
    ),
    ("lastName", &["lastname", "surname", "familyname", "last", "legallastname", "legalnamelastname"]),
    ("displayName", &["displayname", "fullname", "name", "preferredname", "employeename", "worker", "workername"]),
    (
        "jobTitle",
        &["jobtitle", "title", "position", "positiontitle", "businesstitle", "role", "jobrole", "designation"],
    ),
    (
        "department",
        &[
            "department",
            "departmentname",
            "dept",
            "team",
            "division",
            "supervisoryorganization",
            "orgunit",
            "organization",
        ],
    ),
    ("location", &["location", "worklocation", "office", "officelocation", "site", "locationname", "city"]),
    ("employmentStatus", &["employmentstatus", "status", "employeestatus", "activestatus", "workerstatus", "active"]),
    (
        "startDate",
        &[
            "startdate",
            "hiredate",
            "dateofhire",
            "originalhiredate",
            "joindate",
            "joiningdate",
            "datejoined",
            "employmentstartdate",
            "firstday",
        ],
    ),
    (
        "managerId",
        &[
            "manageremail",
            "managerworkemail",
            "linemanageremail",
            "supervisoremail",
            "managerid",
            "manageremployeeid",
            "manageremployeenumber",
            "linemanagerid",
            "supervisorid",
            "reportsto",
            "manager",
        ],
    ),
];

/// A heading reduced to lowercase letters and digits: "E-mail address" and "email_address" are
/// one heading.
pub fn normalized(heading: &str) -> String {
    heading.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

/// The directory field a column headed `heading` usually holds.
pub fn suggests(heading: &str) -> Option<&'static str> {
    let heading = normalized(heading);
    USUAL_HEADINGS.iter().find(|(_, usual)| usual.contains(&heading.as_str())).map(|(field, _)| *field)
}

/// The type a column headed `heading` is offered as (see `ExternalField::field_type`).
pub fn field_type(heading: &str) -> &'static str {
    let words = normalized(heading);
    match suggests(heading) {
        Some("email") => "email",
        Some("startDate") => "date",
        Some("managerId") => "reference",
        Some("employmentStatus") => "status",
        _ if words.contains("manager") || words.contains("supervisor") => "reference",
        _ if words.contains("email") => "email",
        _ if words.contains("date") => "date",
        _ => "string",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usual_headings_suggest_their_field() {
        assert_eq!(suggests("E-mail address"), Some("email"));
        assert_eq!(suggests("Email_-_Work"), Some("email"));
        assert_eq!(suggests(" Surname "), Some("lastName"));
        assert_eq!(suggests("Legal_Name_-_First_Name"), Some("firstName"));
        assert_eq!(suggests("Manager email"), Some("managerId"));
        assert_eq!(suggests("Hire Date"), Some("startDate"));
        assert_eq!(suggests("Favourite colour"), None);
    }

    #[test]
    fn a_columns_type_follows_its_heading() {
        assert_eq!(field_type("Work Email"), "email");
        assert_eq!(field_type("Personal email"), "email");
        assert_eq!(field_type("Manager's email"), "reference");
        assert_eq!(field_type("Supervisor_Employee_ID"), "reference");
        assert_eq!(field_type("Contract end date"), "date");
        assert_eq!(field_type("Status"), "status");
        assert_eq!(field_type("Nickname"), "string");
    }
}
