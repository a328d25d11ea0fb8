//! The company as an applicant tracking system knows it, in no ATS's terms: who was hired
//! through it (a candidate, an application, an offer and the job they were hired for), who
//! applied and was not hired, and who hires (the ATS's users). Each ATS fake renders this view
//! in its own wire format, so every fake tells the same story.
//!
//! The founders (the CEO and the first heads of department) joined before the ATS: they are its
//! users only. Everyone else was hired through it; a leaver's offer was rescinded, so their
//! application is no longer hired. Whoever manages someone, or recruits, is a user too.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use crate::company::{Company, Employee, Employment};

/// The first employee ids, who joined before the company had an ATS.
pub const FOUNDERS: u32 = 8;

/// One person hired through the ATS, or whose hire was undone.
#[derive(Debug, Clone)]
pub struct Hire<'c> {
    pub employee: &'c Employee,
    pub candidate_id: u64,
    pub application_id: u64,
    pub offer_id: u64,
    /// One requisition per hire, named by their job title.
    pub job_id: u64,
    /// The hiring manager: their manager, a user of the ATS.
    pub hiring_manager: Option<&'c Employee>,
    /// The hire stands: the application is hired and the offer accepted. Otherwise the offer
    /// was rescinded and the application rejected.
    pub hired: bool,
    /// The start date on the offer.
    pub starts_on: Option<NaiveDate>,
}

/// Where an applicant who was not hired stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Rejected,
    /// Still interviewing.
    InPipeline,
    /// Sourced, never applied.
    Prospect,
    /// Took their application back.
    Withdrawn,
}

/// Someone who applied (or was sourced) and was not hired: never a person of the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applicant {
    pub candidate_id: u64,
    pub application_id: u64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub stage: Stage,
    /// The job they applied for: the hire whose requisition it was.
    pub job_id: u64,
}

/// A user of the ATS: recruiters, hiring managers, interviewers.
#[derive(Debug, Clone)]
pub struct TeamMember<'c> {
    pub user_id: u64,
    pub employee: &'c Employee,
    /// A leaver's account is disabled, not deleted.
    pub disabled: bool,
}

pub fn candidate_id(employee: &Employee) -> u64 {
    candidate_id_of(employee.id)
}

/// The candidate the employee with id `employee_id` was, even once they are gone.
pub fn candidate_id_of(employee_id: u32) -> u64 {
    4_000_000 + u64::from(employee_id)
}

pub fn user_id(employee: &Employee) -> u64 {
    9_000_000 + u64::from(employee.id)
}

fn job_id(employee: &Employee) -> u64 {
    2_000_000 + u64::from(employee.id)
}

/// Everyone hired through the ATS (rescinded hires included), in employee order.
pub fn hires(company: &Company) -> Vec<Hire<'_>> {
    let by_id: HashMap<u32, &Employee> = company.employees.iter().map(|e| (e.id, e)).collect();
    company
        .employees
        .iter()
        .filter(|e| e.id > FOUNDERS)
        .map(|employee| Hire {
            employee,
            candidate_id: candidate_id(employee),
            application_id: 6_000_000 + u64::from(employee.id),
            offer_id: 7_000_000 + u64::from(employee.id),
            job_id: job_id(employee),
            hiring_manager: employee.manager_id.and_then(|id| by_id.get(&id).copied()),
            hired: employee.employment != Employment::Left,
            starts_on: employee.hire_date,
        })
        .collect()
}

/// Whether `employee` uses the ATS: they manage someone (their id is among `managers`),
/// recruit, or founded the company, and have a work email to sign in with.
fn uses_the_ats(managers: &HashSet<u32>, employee: &Employee) -> bool {
    let role = employee.id <= FOUNDERS || employee.job_title == "Recruiter" || managers.contains(&employee.id);
    role && employee.work_email.is_some()
}

/// The ids of everyone who manages someone.
fn managers(company: &Company) -> HashSet<u32> {
    company.employees.iter().filter_map(|e| e.manager_id).collect()
}

/// The ATS's users, in employee order.
pub fn team(company: &Company) -> Vec<TeamMember<'_>> {
    let managers = managers(company);
    company
        .employees
        .iter()
        .filter(|e| uses_the_ats(&managers, e))
        .map(|employee| TeamMember {
            user_id: user_id(employee),
            employee,
            disabled: employee.employment == Employment::Left,
        })
        .collect()
}

/// Applicants who were not hired: two for every hire's requisition, in stages that vary.
pub fn applicants(company: &Company) -> Vec<Applicant> {
    let stages = [Stage::Rejected, Stage::InPipeline, Stage::Prospect, Stage::Withdrawn];
    hires(company)
        .iter()
        .flat_map(|hire| {
            let id = u64::from(hire.employee.id);
            (0..2u64).map(move |n| Applicant {
                candidate_id: 5_000_000 + id * 2 + n,
                application_id: 8_000_000 + id * 2 + n,
                first_name: ["Alex", "Sam"][n as usize].to_string(),
                last_name: format!("Applicant{id}"),
                email: format!("applicant.{id}.{n}@mail.example"),
                stage: stages[((id + n) % 4) as usize],
                job_id: hire.job_id,
            })
        })
        .collect()
}

/// How the directory should show `employee` once an ATS's connection has synced, with the
/// hiring team included: `None` when the ATS lists them as no one (a rescinded hire who uses no
/// ATS account). The job title and department come only with a hire.
pub fn expected(company: &Company, employee: &Employee) -> Option<Expected> {
    let hire = hires(company).into_iter().find(|h| h.employee.id == employee.id);
    match hire {
        Some(hire) if hire.hired => Some(Expected {
            job_title: Some(employee.job_title.clone()),
            department: Some(employee.department.clone()),
            status: employee.directory_status(),
        }),
        _ if uses_the_ats(&managers(company), employee) => Some(Expected {
            job_title: None,
            department: None,
            status: if employee.employment == Employment::Left { "INACTIVE" } else { "ACTIVE" },
        }),
        _ => None,
    }
}

/// What the directory shows of one employee after a sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub job_title: Option<String>,
    pub department: Option<String>,
    /// `ACTIVE`, `PRE_START` or `INACTIVE`.
    pub status: &'static str,
}

impl Expected {
    /// As an HR system shows everyone: their title, department and status.
    pub fn of(employee: &Employee) -> Self {
        Self {
            job_title: Some(employee.job_title.clone()),
            department: Some(employee.department.clone()),
            status: employee.directory_status(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn founders_hire_everyone_else_and_applicants_are_never_hired() {
        let company = Company::generate("acme.example", 130, 7);
        let hires = hires(&company);
        assert_eq!(hires.len(), 130 - FOUNDERS as usize);
        assert!(hires.iter().filter(|h| !h.hired).all(|h| h.employee.employment == Employment::Left));
        let team = team(&company);
        assert!(team.iter().any(|m| m.employee.id == 1) && team.iter().any(|m| m.employee.id > FOUNDERS));
        assert!(hires.iter().filter_map(|h| h.hiring_manager).all(|m| team.iter().any(|t| t.employee.id == m.id)));
        let applicants = applicants(&company);
        assert_eq!(applicants.len(), hires.len() * 2);
        for stage in [Stage::Rejected, Stage::InPipeline, Stage::Prospect, Stage::Withdrawn] {
            assert!(applicants.iter().any(|a| a.stage == stage), "{stage:?}");
        }
        let left_outsider = company
            .employees
            .iter()
            .find(|e| e.employment == Employment::Left && !uses_the_ats(&managers(&company), e))
            .unwrap();
        assert_eq!(expected(&company, left_outsider), None);
        assert_eq!(expected(&company, &company.employees[0]).unwrap().job_title, None, "a founder");
    }
}
