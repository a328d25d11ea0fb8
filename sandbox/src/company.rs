//! Generated companies: departments, a manager tree, leavers, and a few bad records.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// One employee as the sandbox stores them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Employee {
    pub id: u32,
    pub first_name: String,
    pub last_name: String,
    pub work_email: Option<String>,
    pub job_title: String,
    pub department: String,
    pub division: String,
    pub location: String,
    /// "Active" or "Inactive", as BambooHR says.
    pub status: String,
    /// `YYYY-MM-DD`, or BambooHR's `0000-00-00` for none.
    pub hire_date: String,
    pub supervisor_eid: Option<u32>,
}

impl Employee {
    pub fn is_active(&self) -> bool {
        self.status == "Active"
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
    /// employee has left (Inactive), every 97th has no work email, every 151st reuses the
    /// previous employee's email in upper case.
    pub fn generate(domain: &str, size: u32, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut employees: Vec<Employee> = Vec::with_capacity(size as usize);
        let mut members: Vec<Vec<u32>> = vec![Vec::new(); DEPARTMENTS.len()];
        for id in 1..=size {
            let first = FIRST[rng.random_range(0..FIRST.len())];
            let last = LAST[rng.random_range(0..LAST.len())];
            let (dept, supervisor, title) = if id == 1 {
                (0, None, "Chief Executive Officer".to_string())
            } else if (id as usize) <= DEPARTMENTS.len() + 1 {
                let dept = id as usize - 2;
                (dept, Some(1), format!("Head of {}", DEPARTMENTS[dept].0))
            } else {
                let dept = rng.random_range(0..DEPARTMENTS.len());
                let pool = &members[dept];
                let supervisor = pool[rng.random_range(0..pool.len().min(8))];
                let titles = DEPARTMENTS[dept].2;
                (dept, Some(supervisor), titles[rng.random_range(0..titles.len())].to_string())
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
            let hire_date = if id % 50 == 7 {
                "0000-00-00".to_string()
            } else {
                format!(
                    "20{:02}-{:02}-{:02}",
                    rng.random_range(10..26),
                    rng.random_range(1..13),
                    rng.random_range(1..29)
                )
            };
            employees.push(Employee {
                id,
                first_name: first.to_string(),
                last_name: last.to_string(),
                work_email: email,
                job_title: title,
                department: DEPARTMENTS[dept].0.to_string(),
                division: DEPARTMENTS[dept].1.to_string(),
                location: LOCATIONS[rng.random_range(0..LOCATIONS.len())].to_string(),
                status: if id % 20 == 0 { "Inactive" } else { "Active" }.to_string(),
                hire_date,
                supervisor_eid: supervisor,
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
