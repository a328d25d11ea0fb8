//! A spreadsheet as the source, through the public API: a file uploaded over the GraphQL
//! multipart request spec, its headings suggesting the mapping, a sync of its rows, a newer file
//! updating people (those missing from it leaving through the guard), the file's content gone
//! once a sync has read it, and everything a real export gets wrong: its encoding, its
//! delimiter, a cell that looks like a formula, a row without an id, a file too big or too long,
//! a workbook that would unpack to far more than it weighs.

use std::collections::HashMap;
use std::io::Write;

use serde_json::{json, Value};

use api::{Plan, Role};
use directory_sync::admin_flow;
use directory_sync::client::{GraphqlClient, GraphqlResponse};
use directory_sync::operations as ops;
use sandbox::hiring::Expected;
use sandbox::spreadsheet::{cells, people_csv, HEADINGS};
use sandbox::{Company, Employee};

use crate::helpers::{Backend, TestApp, TestOptions};

const PEOPLE: u32 = 40;

const LATEST_UPLOAD: &str =
    "query($id: ID!) { connection(id: $id) { latestUpload { fileName rows readable findings } } }";

fn company() -> Company {
    Company::generate("acme.example", PEOPLE, 23)
}

/// The spreadsheet's service; its sandbox tenant is never called.
async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn(backend).await
}

async fn upload(admin: &GraphqlClient, connection_id: Option<&str>, name: &str, content: Vec<u8>) -> GraphqlResponse {
    let variables = json!({ "connectionId": connection_id, "adminConfirmed": true, "termsAccepted": true });
    admin.upload(ops::UPLOAD_SPREADSHEET, variables, name, content).await.unwrap()
}

/// Uploads a file the service takes; answers what it read.
async fn uploaded(admin: &GraphqlClient, connection_id: Option<&str>, name: &str, content: Vec<u8>) -> Value {
    let response = upload(admin, connection_id, name, content).await;
    assert!(response.errors.is_empty(), "{name}: {:?}", response.errors);
    response.ok().unwrap()["uploadSpreadsheet"].clone()
}

/// Uploads a file the service refuses; answers the refusal's message, having checked it is the
/// file's validation error.
async fn refused(admin: &GraphqlClient, name: &str, content: Vec<u8>) -> String {
    let response = upload(admin, None, name, content).await;
    assert_eq!(response.error_code(), Some("VALIDATION_FAILED"), "{name}: {:?}", response.errors);
    assert_eq!(response.error_extension("field"), Some(&json!("file")), "{name}");
    response.errors[0]["message"].as_str().unwrap().to_string()
}

/// Uploads `content` as a new connection, confirms the suggested mapping and syncs it.
async fn connected(app: &TestApp, admin: &GraphqlClient, content: Vec<u8>) -> (String, Value) {
    let upload = uploaded(admin, None, "people.csv", content).await;
    let connection_id = upload["connection"]["id"].as_str().unwrap().to_string();
    app.confirm_mapping(admin, &connection_id, None).await;
    let run = app.sync(admin, &connection_id).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    (connection_id, run)
}

fn with_email(company: &Company) -> Vec<&Employee> {
    company.employees.iter().filter(|e| e.work_email.is_some()).collect()
}

/// A CSV of `rows` under `headings`, as written by hand.
fn csv_of(headings: &[&str], rows: &[&[&str]]) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
    writer.write_record(headings).unwrap();
    for row in rows {
        writer.write_record(*row).unwrap();
    }
    writer.into_inner().unwrap()
}

async fn a_spreadsheet_is_uploaded_mapped_synced_and_then_forgotten(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.admin();
    let company = company();
    let upload = uploaded(&admin, None, "people.csv", people_csv(&company)).await;
    assert_eq!((upload["format"].as_str(), upload["rows"].as_i64()), (Some("CSV"), Some(PEOPLE as i64)), "{upload}");
    assert_eq!(upload["columns"], json!(HEADINGS));
    assert_eq!(upload["keyColumn"], "Employee ID");
    assert_eq!(upload["readable"], true);
    let connection = &upload["connection"];
    assert_eq!(
        (connection["status"].as_str(), connection["authMethod"].as_str(), connection["provider"]["id"].as_str()),
        (Some("CONNECTED"), Some("UPLOAD"), Some("spreadsheet"))
    );
    let connection_id = connection["id"].as_str().unwrap();

    let suggested = admin_flow::current_mapping(&admin, connection_id).await.unwrap();
    let by_field: HashMap<&str, &str> = suggested
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| Some((e["internalField"].as_str()?, e["externalField"].as_str()?)))
        .collect();
    for (field, heading) in
        [("email", "Email"), ("firstName", "First name"), ("jobTitle", "Job title"), ("managerId", "Manager ID")]
    {
        assert_eq!(by_field.get(field), Some(&heading), "the heading suggests {field}: {suggested}");
    }
    app.confirm_mapping(&admin, connection_id, Some(suggested)).await;
    let run = app.sync(&admin, connection_id).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    let people = with_email(&company);
    assert_eq!(run["created"].as_u64(), Some(people.len() as u64), "{run}");

    let users = app.users_by_email(&admin).await;
    for employee in &people {
        let user = &users[&employee.work_email.as_ref().unwrap().to_lowercase()];
        let expected = Expected::of(employee);
        assert_eq!(
            (user["jobTitle"].as_str(), user["department"].as_str(), user["employmentStatus"].as_str()),
            (expected.job_title.as_deref(), expected.department.as_deref(), Some(expected.status)),
            "{}",
            employee.id
        );
    }
    let report = people.iter().find(|e| e.manager_id.is_some()).unwrap();
    let manager = company.employees.iter().find(|e| Some(e.id) == report.manager_id).unwrap();
    let profile =
        crate::helpers::person(&admin, &users[&report.work_email.as_ref().unwrap().to_lowercase()]["id"]).await;
    assert_eq!(
        profile["manager"]["email"].as_str().map(str::to_lowercase),
        manager.work_email.as_ref().map(|e| e.to_lowercase()),
        "the Manager ID column names the manager's row: {profile}"
    );

    // What was read is kept; the file's content is not.
    let latest = admin.execute(LATEST_UPLOAD, json!({ "id": connection_id })).await.unwrap().ok().unwrap();
    assert_eq!(latest["connection"]["latestUpload"]["readable"], false, "{latest}");
    assert_eq!(latest["connection"]["latestUpload"]["rows"], PEOPLE);
    let again = admin.execute(&ops::start_sync(), json!({ "id": connection_id })).await.unwrap();
    assert_eq!(again.error_code(), Some("VALIDATION_FAILED"), "{:?}", again.errors);
    assert_eq!(again.error_extension("field"), Some(&json!("connectionId")));
    assert!(again.errors[0]["message"].as_str().unwrap().contains("upload"), "{:?}", again.errors);
    app.stop().await;
}

async fn a_newer_file_updates_people_and_those_missing_from_it_leave(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.admin();
    let mut company = company();
    let (connection_id, _) = connected(&app, &admin, people_csv(&company)).await;

    // Someone is promoted; someone who manages nobody leaves and is left out of the next export.
    let promoted = with_email(&company).iter().find(|e| e.is_active()).unwrap().id;
    let leaver = with_email(&company)
        .iter()
        .find(|e| e.is_active() && e.id != promoted && company.employees.iter().all(|r| r.manager_id != Some(e.id)))
        .map(|e| (e.id, e.work_email.clone().unwrap().to_lowercase()))
        .unwrap();
    company.employees.iter_mut().find(|e| e.id == promoted).unwrap().job_title = "Chief of Staff".into();
    company.employees.retain(|e| e.id != leaver.0);
    let second = people_csv(&company);
    uploaded(&admin, Some(&connection_id), "people (2).csv", second.clone()).await;
    let run = app.sync(&admin, &connection_id).await;
    assert_eq!(
        (run["status"].as_str(), run["created"].as_i64(), run["updated"].as_i64(), run["deactivated"].as_i64()),
        (Some("SUCCEEDED"), Some(0), Some(1), Some(1)),
        "{run}"
    );
    let users = app.users_by_email(&admin).await;
    assert_eq!(users[&leaver.1]["employmentStatus"], "INACTIVE");
    let promoted = company.employees.iter().find(|e| e.id == promoted).unwrap();
    assert_eq!(users[&promoted.work_email.as_ref().unwrap().to_lowercase()]["jobTitle"], "Chief of Staff");

    // The same file again changes nothing.
    uploaded(&admin, Some(&connection_id), "people (2).csv", second).await;
    let run = app.sync(&admin, &connection_id).await;
    assert_eq!(
        (run["created"].as_i64(), run["updated"].as_i64(), run["deactivated"].as_i64()),
        (Some(0), Some(0), Some(0)),
        "{run}"
    );

    // A file that tells people apart by another column would make everyone someone new.
    let by_email: Vec<&str> = HEADINGS.iter().copied().filter(|h| *h != "Employee ID").collect();
    let rows: Vec<Vec<String>> = company.employees.iter().map(|e| cells(e)[1..].to_vec()).collect();
    let rows: Vec<Vec<&str>> = rows.iter().map(|r| r.iter().map(String::as_str).collect()).collect();
    let rows: Vec<&[&str]> = rows.iter().map(Vec::as_slice).collect();
    let response = upload(&admin, Some(&connection_id), "people.csv", csv_of(&by_email, &rows)).await;
    assert_eq!(response.error_code(), Some("VALIDATION_FAILED"), "{:?}", response.errors);
    let message = response.errors[0]["message"].as_str().unwrap();
    assert!(message.contains("keep the 'Employee ID' column"), "{message}");
    app.stop().await;
}

async fn a_file_missing_a_third_of_the_people_holds_their_deactivation_for_an_admin(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.admin();
    let mut company = company();
    let (connection_id, _) = connected(&app, &admin, people_csv(&company)).await;
    let active =
        |users: &HashMap<String, Value>| users.values().filter(|u| u["employmentStatus"] != "INACTIVE").count();
    let before = active(&app.users_by_email(&admin).await);
    // An export cut short: the last third of the rows are gone.
    company.employees.truncate(company.employees.len() * 2 / 3);
    uploaded(&admin, Some(&connection_id), "people (cut short).csv", people_csv(&company)).await;
    let run = app.sync(&admin, &connection_id).await;
    let held = run["deactivationsHeld"].as_i64().unwrap();
    assert_eq!((run["status"].as_str(), run["deactivated"].as_i64()), (Some("SUCCEEDED"), Some(0)), "{run}");
    assert!(held as usize > before / 5, "{run}");
    assert_eq!(active(&app.users_by_email(&admin).await), before, "nobody is deactivated unasked");
    let confirmed = admin.execute(ops::CONFIRM_DEACTIVATIONS, json!({ "id": run["id"] })).await.unwrap().ok().unwrap();
    assert_eq!(confirmed["confirmDeactivations"]["deactivated"], held);
    assert_eq!(active(&app.users_by_email(&admin).await), before - held as usize);
    app.stop().await;
}

crate::on_both_backends!(
    a_spreadsheet_is_uploaded_mapped_synced_and_then_forgotten,
    a_newer_file_updates_people_and_those_missing_from_it_leave,
    a_file_missing_a_third_of_the_people_holds_their_deactivation_for_an_admin,
);

/// A file as Excel's "Unicode Text" saves it: UTF-16 LE with a byte-order mark, tab-separated.
fn utf16_tab_separated(text: &str) -> Vec<u8> {
    let text = text.replace(',', "\t");
    [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect()
}

/// How European Excel saves "CSV": Windows-1252, semicolons.
fn windows_1252_semicolons(text: &str) -> Vec<u8> {
    let text = text.replace(',', ";");
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&text);
    assert!(!unmappable);
    bytes.into_owned()
}

#[tokio::test]
async fn the_encodings_and_separators_people_export_are_all_read() {
    let app = spawn(Backend::Embedded).await;
    let admin = app.admin();
    let text =
        "Employee ID,First name,Last name,Email\n1,Zoë,Müller,zoe@acme.example\n2,Łukasz,Þórsson,lukasz@acme.example\n";
    let text_1252 =
        "Employee ID,First name,Last name,Email\n1,Zoë,Müller,zoe@acme.example\n2,Noël,Façade,noel@acme.example\n";
    let files: Vec<(&str, Vec<u8>, &str)> = vec![
        ("plain.csv", text.as_bytes().to_vec(), "Zoë"),
        ("bom.csv", [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat(), "Zoë"),
        ("unicode.txt", utf16_tab_separated(text), "Łukasz"),
        ("european.csv", windows_1252_semicolons(text_1252), "Noël"),
        ("excel-hint.csv", format!("sep=;\n{}", text.replace(',', ";")).into_bytes(), "Zoë"),
    ];
    for (name, content, someone) in files {
        let upload = uploaded(&admin, None, name, content).await;
        assert_eq!(upload["columns"], json!(["Employee ID", "First name", "Last name", "Email"]), "{name}");
        assert_eq!(upload["rows"], 2, "{name}: {upload}");
        let connection_id = upload["connection"]["id"].as_str().unwrap();
        let preview = admin
            .execute(
                "query($id: ID!) { previewFieldMapping(connectionId: $id, limit: 5) { values } }",
                json!({ "id": connection_id }),
            )
            .await
            .unwrap();
        let shown = preview.data.to_string();
        assert!(shown.contains(someone), "{name}: {shown}");
    }
    for (name, content, says) in [
        ("utf16-without-bom.txt", utf16_tab_separated(text)[2..].to_vec(), "UTF-16"),
        ("chart.png", b"\x89PNG\r\n\x1a\nIHDR pixels follow".to_vec(), "not text in UTF-8, UTF-16 or Windows-1252"),
    ] {
        let message = refused(&admin, name, content).await;
        assert!(message.contains(says), "{name}: {message}");
    }
    app.stop().await;
}

#[tokio::test]
async fn rows_a_person_would_get_wrong_are_issues_naming_row_and_column() {
    let app = spawn(Backend::Embedded).await;
    let admin = app.admin();
    let headings = ["Employee ID", "First name", "Last name", "Email", "Job title", "Start date", "Status"];
    let file = csv_of(
        &headings,
        &[
            &["1", "Ada", "Lovelace", "ada@acme.example", "Engineer", "2024-03-01", "Active"],
            &[
                "2",
                "Grace",
                "Hopper",
                "grace@acme.example",
                "=HYPERLINK(\"http://x.example\",\"Admiral\")",
                "",
                "Active",
            ],
            &["", "No", "Id", "noid@acme.example", "Engineer", "", "Active"],
            &["4", "Alan", "Turing", "alan@acme.example", "Engineer\nwith a line break", "03/04/2024", "Sabbatical"],
            &["", "", "", "", "", "", ""],
            &["5", "Edsger", "Dijkstra", "edsger@acme.example", "Engineer", "", "Active", "an extra value"],
        ],
    );
    let upload = uploaded(&admin, None, "people.csv", file).await;
    assert_eq!(upload["rows"], 5, "a blank row is not a person: {upload}");
    let findings = upload["findings"].to_string();
    assert!(findings.contains("row 3") && findings.contains("Job title"), "the formula-like cell: {findings}");
    assert!(findings.contains("row 7"), "the value past the last column: {findings}");
    let connection_id = upload["connection"]["id"].as_str().unwrap();
    // The preview flags each row's problems, by row and column, before anything is synced.
    let preview = admin.execute(ops::PREVIEW_MAPPING, json!({ "id": connection_id, "limit": 10 })).await.unwrap();
    let previewed = preview.ok().unwrap()["previewFieldMapping"].clone();
    let problems = |remote_id: &str| -> String {
        let row = previewed.as_array().unwrap().iter().find(|r| r["remoteId"] == remote_id);
        row.map(|r| r["problems"].to_string()).unwrap_or_default()
    };
    assert!(problems("2").contains("row 3, column 'Job title' starts like a formula"), "{previewed}");
    assert!(problems("4").contains("row 5, column 'Status'"), "{previewed}");
    assert_eq!(problems("1"), "[]", "{previewed}");
    let mapping = admin_flow::current_mapping(&admin, connection_id).await.unwrap();
    app.confirm_mapping(&admin, connection_id, Some(mapping)).await;
    let run = app.sync(&admin, connection_id).await;
    assert_eq!((run["status"].as_str(), run["created"].as_i64()), (Some("SUCCEEDED"), Some(4)), "{run}");
    let issues: Vec<(String, String)> = run["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["kind"].as_str().unwrap().to_string(), i["message"].as_str().unwrap().to_string()))
        .collect();
    let issue = |kind: &str, says: &[&str]| {
        assert!(
            issues.iter().any(|(k, m)| k == kind && says.iter().all(|s| m.contains(s))),
            "{kind} saying {says:?}: {issues:?}"
        )
    };
    issue("FORMULA_AS_TEXT", &["row 3", "Job title"]);
    issue("MISSING_ID", &["row 4", "Employee ID"]);
    issue("VALUE_NOT_READ", &["row 5", "Start date"]);
    issue("VALUE_NOT_READ", &["row 5", "Status"]);
    let users = app.users_by_email(&admin).await;
    assert!(!users.contains_key("noid@acme.example"), "a row without an id is not synced");
    assert_eq!(
        users["grace@acme.example"]["jobTitle"], "=HYPERLINK(\"http://x.example\",\"Admiral\")",
        "kept as text, never evaluated"
    );
    assert_eq!(users["alan@acme.example"]["jobTitle"], "Engineer\nwith a line break");
    app.stop().await;
}

#[tokio::test]
async fn a_manager_named_by_email_is_the_person_with_that_email() {
    let app = spawn(Backend::Embedded).await;
    let admin = app.admin();
    let file = csv_of(
        &["Email", "First name", "Last name", "Manager email"],
        &[&["ada@acme.example", "Ada", "Lovelace", ""], &["grace@acme.example", "Grace", "Hopper", "ADA@acme.example"]],
    );
    let upload = uploaded(&admin, None, "people.csv", file).await;
    assert_eq!(upload["keyColumn"], "Email", "no employee-id column: people are told apart by email");
    let connection_id = upload["connection"]["id"].as_str().unwrap();
    let suggested = admin_flow::current_mapping(&admin, connection_id).await.unwrap();
    assert!(
        suggested
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["internalField"] == "managerId" && e["externalField"] == "Manager email"),
        "{suggested}"
    );
    app.confirm_mapping(&admin, connection_id, Some(suggested)).await;
    let run = app.sync(&admin, connection_id).await;
    assert_eq!((run["status"].as_str(), run["created"].as_i64()), (Some("SUCCEEDED"), Some(2)), "{run}");
    let users = app.users_by_email(&admin).await;
    let grace = crate::helpers::person(&admin, &users["grace@acme.example"]["id"]).await;
    assert_eq!(grace["manager"]["email"], "ada@acme.example", "{grace}");
    app.stop().await;
}

/// A workbook as Excel saves it: shared strings, numbers for ids, dates as styled serial numbers,
/// and a second sheet nobody meant to upload.
fn workbook(company: &Company) -> Vec<u8> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut workbook = Workbook::new();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let sheet = workbook.add_worksheet().set_name("People").unwrap();
    for (column, heading) in HEADINGS.iter().enumerate() {
        sheet.write_string(0, column as u16, *heading).unwrap();
    }
    for (row, employee) in company.employees.iter().enumerate() {
        let row = row as u32 + 1;
        for (column, cell) in cells(employee).iter().enumerate() {
            let column = column as u16;
            match HEADINGS[column as usize] {
                "Employee ID" | "Manager ID" if !cell.is_empty() => {
                    sheet.write_number(row, column, cell.parse::<f64>().unwrap()).unwrap();
                }
                "Start date" if !cell.is_empty() => {
                    let day = ExcelDateTime::parse_from_str(cell).unwrap();
                    sheet.write_datetime_with_format(row, column, &day, &date).unwrap();
                }
                _ => {
                    sheet.write_string(row, column, cell).unwrap();
                }
            }
        }
    }
    workbook.add_worksheet().set_name("Notes").unwrap().write_string(0, 0, "draft").unwrap();
    workbook.save_to_buffer().unwrap()
}

/// An archive that weighs little and unpacks to `unpacked` bytes.
fn zip_bomb(unpacked: usize) -> Vec<u8> {
    let mut archive = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    archive.start_file("[Content_Types].xml", options).unwrap();
    archive.write_all(b"<?xml version=\"1.0\"?><Types/>").unwrap();
    archive.start_file("xl/worksheets/sheet1.xml", options).unwrap();
    archive.write_all(&vec![b' '; unpacked]).unwrap();
    archive.finish().unwrap().into_inner()
}

#[tokio::test]
async fn an_excel_workbook_is_read_and_files_past_the_limits_are_refused() {
    let app = TestApp::spawn_with(TestOptions {
        settings: &[("UPLOAD_MAX_BYTES", "1048576"), ("CSV_MAX_ROWS", "60"), ("UPLOAD_MAX_UNPACKED_BYTES", "4194304")],
        ..TestOptions::on(Backend::Embedded)
    })
    .await;
    let admin = app.admin();
    let company = company();
    let read = uploaded(&admin, None, "people.xlsx", workbook(&company)).await;
    assert_eq!((read["format"].as_str(), read["rows"].as_i64()), (Some("XLSX"), Some(PEOPLE as i64)), "{read}");
    assert_eq!(read["columns"], json!(HEADINGS));
    assert!(read["findings"][0].as_str().unwrap().contains("only the first, 'People'"), "{read}");
    let connection_id = read["connection"]["id"].as_str().unwrap();
    app.confirm_mapping(&admin, connection_id, None).await;
    let run = app.sync(&admin, connection_id).await;
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(run["created"].as_u64(), Some(with_email(&company).len() as u64), "{run}");
    assert!(run["issues"].as_array().unwrap().iter().all(|i| i["kind"] != "VALUE_NOT_READ"), "dates read: {run}");

    let longer = Company::generate("acme.example", 61, 23);
    let message = refused(&admin, "people.csv", people_csv(&longer)).await;
    assert!(message.contains("more than 60 rows"), "{message}");
    let message = refused(&admin, "bomb.xlsx", zip_bomb(8 * 1024 * 1024)).await;
    assert!(message.contains("refused unopened"), "{message}");
    let message =
        refused(&admin, "old.xls", [&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1][..], &[0; 512]].concat()).await;
    assert!(message.contains(".xls"), "{message}");
    for (name, content, says) in [
        ("empty.csv", Vec::new(), "empty"),
        ("header.csv", b"Employee ID,Email\n".to_vec(), "no rows of people"),
        ("twice.csv", b"Email,Name,Email\na@acme.example,A,b@acme.example\n".to_vec(), "both headed 'Email'"),
        ("no-key.csv", b"First name,Last name\nAda,Lovelace\n".to_vec(), "no column of each person's email"),
    ] {
        let message = refused(&admin, name, content).await;
        assert!(message.contains(says), "{name}: {message}");
    }

    let huge = vec![b'a'; 1024 * 1024 + 1];
    let response = upload(&admin, None, "huge.csv", huge).await;
    assert_eq!(response.error_code(), Some("VALIDATION_FAILED"), "{:?}", response.errors);
    assert_eq!(response.error_extension("field"), Some(&json!("file")));
    assert!(response.errors[0]["message"].as_str().unwrap().contains("UPLOAD_MAX_BYTES"));
    let response = upload(&app.member(), None, "people.csv", people_csv(&company)).await;
    assert_eq!(response.error_code(), Some("FORBIDDEN"), "{:?}", response.errors);
    let free = app.client_for(&app.workspace, Role::Admin, Plan::Free);
    let response = upload(&free, None, "people.csv", people_csv(&company)).await;
    assert_eq!(response.error_code(), Some("PAID_PLAN_REQUIRED"), "{:?}", response.errors);
    let anonymous = GraphqlClient::new(&app.url, None);
    let response = upload(&anonymous, None, "people.csv", people_csv(&company)).await;
    assert_eq!(response.error_code(), Some("UNAUTHENTICATED"), "{:?}", response.errors);

    // Nothing refused was kept: only the workbook's connection exists.
    let connections = admin.execute("{ connections { id } }", json!({})).await.unwrap().ok().unwrap();
    assert_eq!(connections["connections"].as_array().unwrap().len(), 1, "{connections}");
    app.stop().await;
}
