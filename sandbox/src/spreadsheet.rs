//! The spreadsheet "provider": there is no API to fake, only the file an admin exports from
//! wherever their people are kept. This renders a company as such a file, with the headings a
//! person would write, for the demo, the tests and the bench.

use crate::company::{Company, Employee, Employment};

/// The headings of [`people_csv`], in order.
pub const HEADINGS: &[&str] = &[
    "Employee ID",
    "First name",
    "Last name",
    "Email",
    "Job title",
    "Department",
    "Location",
    "Start date",
    "Status",
    "Manager ID",
];

/// A row's cells, in [`HEADINGS`]' order.
pub fn cells(employee: &Employee) -> Vec<String> {
    let status = match employee.employment {
        Employment::Left => "Terminated",
        Employment::Onboarding => "Pre-start",
        Employment::Employed => "Active",
        Employment::OnLeave => "On leave",
    };
    vec![
        employee.id.to_string(),
        employee.first_name.clone(),
        employee.last_name.clone(),
        employee.work_email.clone().unwrap_or_default(),
        employee.job_title.clone(),
        employee.department.clone(),
        employee.location.clone(),
        employee.hire_date.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
        status.to_string(),
        employee.manager_id.map(|id| id.to_string()).unwrap_or_default(),
    ]
}

/// Everyone in `company`, leavers included, as a comma-separated UTF-8 file.
pub fn people_csv(company: &Company) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(HEADINGS).expect("writes to memory");
    for employee in &company.employees {
        writer.write_record(cells(employee)).expect("writes to memory");
    }
    writer.into_inner().expect("writes to memory")
}
