//! Generated companies, in no provider's terms: departments, a manager tree, people on leave or
//! about to start, leavers, and a few bad records. Each fake renders them in its own wire format.

use chrono::NaiveDate;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Where a person stands with the company.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Employment {
    /// Hired, not started yet.
    Onboarding,
    Employed,
    /// Employed, away for a while (parental leave, sabbatical).
    OnLeave,
    /// Left the company.
    Left,
}

/// One employee.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Employee {
    pub id: u32,
    pub first_name: String,
    pub last_name: String,
    pub work_email: Option<String>,
    pub personal_email: Option<String>,
    pub job_title: String,
    pub department: String,
    pub division: String,
    pub location: String,
    pub employment: Employment,
    pub hire_date: Option<NaiveDate>,
    pub termination_date: Option<NaiveDate>,
    pub manager_id: Option<u32>,
}

impl Employee {
    /// Still with the company (started or not): not a leaver.
    pub fn is_active(&self) -> bool {
        self.employment != Employment::Left
    }

    /// How the directory shows their employment: `ACTIVE`, `PRE_START` (hired, starting on
    /// their hire date) or `INACTIVE`.
    pub fn directory_status(&self) -> &'static str {
        match self.employment {
            Employment::Left => "INACTIVE",
            Employment::Onboarding => "PRE_START",
            Employment::Employed | Employment::OnLeave => "ACTIVE",
        }
    }

    /// Makes them a leaver as of today.
    pub fn leave(&mut self) {
        self.employment = Employment::Left;
        self.termination_date = Some(chrono::Utc::now().date_naive());
    }
}

/// What a fake can be told to withhold, as when the API user may not read it: every fake knows
/// which of its fields carry each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Attribute {
    FirstName,
    LastName,
    WorkEmail,
    JobTitle,
    Department,
    Location,
    Employment,
    HireDate,
    Manager,
}

impl Attribute {
    /// The directory field (as `internalFields` names it) that carries it.
    pub fn directory_field(self) -> &'static str {
        match self {
            Self::FirstName => "firstName",
            Self::LastName => "lastName",
            Self::WorkEmail => "email",
            Self::JobTitle => "jobTitle",
            Self::Department => "department",
            Self::Location => "location",
            Self::Employment => "employmentStatus",
            Self::HireDate => "startDate",
            Self::Manager => "managerId",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Company {
    pub domain: String,
    pub employees: Vec<Employee>,
}

const FIRST: &[&str] = &[
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Linus", "Radia", "Dennis",
    "Hedy", "Tim", "Karen", "John", "Sophie", "Niklaus", "Joan", "Leslie",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "Thompson",
    "Hamilton",
    "Torvalds",
    "Perlman",
    "Ritchie",
    "Lamarr",
    "Berners-Lee",
    "Jones",
    "McCarthy",
    "Wilson",
    "Wirth",
    "Clarke",
    "Lamport",
];
const DEPARTMENTS: &[(&str, &str, &[&str])] = &[
    (
        "Engineering",
        "Product & Engineering",
        &["Software Engineer", "Senior Software Engineer", "Staff Engineer", "QA Engineer"],
    ),
    ("Product", "Product & Engineering", &["Product Manager", "Product Designer", "UX Researcher"]),
    ("Sales", "Go To Market", &["Account Executive", "Sales Development Rep", "Solutions Engineer"]),
    ("Marketing", "Go To Market", &["Marketing Manager", "Content Writer", "Growth Analyst"]),
    ("Support", "Operations", &["Support Specialist", "Support Engineer"]),
    ("Finance", "Operations", &["Accountant", "Financial Analyst"]),
    ("People", "Operations", &["HR Business Partner", "Recruiter"]),
];
const LOCATIONS: &[&str] = &["Berlin", "London", "New York", "Lisbon", "Remote"];

impl Company {
    /// A deterministic company of `size` employees. Employee 1 is the CEO, the next few head
    /// departments, everyone else reports to someone earlier in their department. Every 20th
    /// employee has left, every 23rd is on leave and every 31st has not started yet; every 97th
    /// has no work email, every 151st reuses the previous employee's email in upper case, and
    /// every 50th (from the 7th, unless not started) has no hire date; those not started yet start
    /// within two months.
    pub fn generate(domain: &str, size: u32, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut employees: Vec<Employee> = Vec::with_capacity(size as usize);
        let mut members: Vec<Vec<u32>> = vec![Vec::new(); DEPARTMENTS.len()];
        for id in 1..=size {
            let first = FIRST[rng.random_range(0..FIRST.len())];
            let last = LAST[rng.random_range(0..LAST.len())];
            let (dept, manager, title) = if id == 1 {
                (0, None, "Chief Executive Officer".to_string())
            } else if (id as usize) <= DEPARTMENTS.len() + 1 {
                let dept = id as usize - 2;
                (dept, Some(1), format!("Head of {}", DEPARTMENTS[dept].0))
            } else {
                let dept = rng.random_range(0..DEPARTMENTS.len());
                let pool = &members[dept];
                let manager = pool[rng.random_range(0..pool.len().min(8))];
                let titles = DEPARTMENTS[dept].2;
                (dept, Some(manager), titles[rng.random_range(0..titles.len())].to_string())
            };
            if id > 1 {
                members[dept].push(id);
            }
            let email = if id % 97 == 0 {
                None
            } else if id % 151 == 0 {
                employees.last().and_then(|e| e.work_email.clone()).map(|e| e.to_uppercase())
            } else {
                Some(format!("{}.{}.{id}@{domain}", first.to_lowercase(), last.to_lowercase()))
            };
            let employment = match id {
                id if id % 20 == 0 => Employment::Left,
                id if id % 23 == 0 => Employment::OnLeave,
                id if id % 31 == 0 => Employment::Onboarding,
                _ => Employment::Employed,
            };
            let hired = (id % 50 != 7)
                .then(|| {
                    let year = rng.random_range(2010..2026);
                    NaiveDate::from_ymd_opt(year, rng.random_range(1..13), rng.random_range(1..29))
                })
                .flatten();
            // Those not started start within the next two months (drawn after the past date
            // above, so the rest of the company is the same as it always was).
            let hire_date = if employment == Employment::Onboarding {
                Some(chrono::Utc::now().date_naive() + chrono::Duration::days(i64::from(7 + id % 53)))
            } else {
                hired
            };
            employees.push(Employee {
                id,
                first_name: first.to_string(),
                last_name: last.to_string(),
                work_email: email,
                personal_email: Some(format!("{}{id}@home.example", first.to_lowercase())),
                job_title: title,
                department: DEPARTMENTS[dept].0.to_string(),
                division: DEPARTMENTS[dept].1.to_string(),
                location: LOCATIONS[rng.random_range(0..LOCATIONS.len())].to_string(),
                employment,
                termination_date: (employment == Employment::Left)
                    .then(|| hire_date.map(|d| d + chrono::Duration::days(400)))
                    .flatten(),
                hire_date,
                manager_id: manager,
            });
        }
        Self { domain: domain.to_string(), employees }
    }

    /// The next free employee id, for hiring.
    pub fn next_id(&self) -> u32 {
        self.employees.iter().map(|e| e.id).max().unwrap_or(0) + 1
    }

    pub fn employee_mut(&mut self, id: u32) -> &mut Employee {
        self.employees.iter_mut().find(|e| e.id == id).expect("no such employee")
    }
}
