//! A company as an identity provider pushes it over SCIM, in the body Okta's SCIM reference
//! documents for a create: one user per employee with a work email (their login), the employee
//! id as `externalId`, the department and the manager (by the manager's employee id) in the
//! enterprise extension, and leavers already deactivated. The directory is the SCIM server here;
//! this is what its client sends, for the demo and the tests.

use serde_json::{json, Value};

use crate::{Company, Employee, Employment};

/// Every employee with a work email, as a SCIM user to create. A login is one person's: where
/// the HR data gives two people one email (as the sandbox's companies do, on purpose), the
/// identity provider has only the first.
pub fn users(company: &Company) -> Vec<Value> {
    let mut logins = std::collections::HashSet::new();
    company
        .employees
        .iter()
        .filter(|e| e.work_email.as_ref().is_some_and(|email| logins.insert(email.to_lowercase())))
        .filter_map(user)
        .collect()
}

/// `employee` as a SCIM user to create; `None` without a work email (an identity provider has no
/// login for them).
pub fn user(employee: &Employee) -> Option<Value> {
    let email = employee.work_email.as_ref()?;
    let mut user = json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        ],
        "userName": email,
        "externalId": employee.id.to_string(),
        "name": { "givenName": employee.first_name, "familyName": employee.last_name },
        "displayName": format!("{} {}", employee.first_name, employee.last_name),
        "title": employee.job_title,
        "emails": [{ "primary": true, "value": email, "type": "work" }],
        "addresses": [{ "type": "work", "locality": employee.location }],
        "active": employee.employment != Employment::Left,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { "department": employee.department },
    });
    if let Some(manager) = employee.manager_id {
        user["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["manager"] =
            json!({ "value": manager.to_string() });
    }
    Some(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_is_an_employee_with_a_login() {
        let company = Company::generate("acme.example", 40, 3);
        let users = users(&company);
        let logins: std::collections::HashSet<String> =
            company.employees.iter().filter_map(|e| e.work_email.as_ref().map(|m| m.to_lowercase())).collect();
        assert_eq!(users.len(), logins.len(), "one user per login");
        let managed = company.employees.iter().find(|e| e.work_email.is_some() && e.manager_id.is_some()).unwrap();
        let pushed = user(managed).unwrap();
        assert_eq!(pushed["userName"], json!(managed.work_email));
        assert_eq!(
            pushed["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["manager"]["value"],
            managed.manager_id.unwrap().to_string()
        );
    }
}
