//! A person in a workspace's User Directory, synced or added by hand. Never deleted by a sync.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "directory_user")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: String,
    pub email: String,
    /// Lower-cased email; unique per workspace so case variants never duplicate a person.
    pub email_normalized: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: String,
    pub job_title: Option<String>,
    pub department: Option<String>,
    pub location: Option<String>,
    pub employment_status: EmploymentStatus,
    pub start_date: Option<String>,
    pub manager_id: Option<Uuid>,
    pub invitation_status: InvitationStatus,
    /// When the mail server accepted their invitation.
    pub invited_at: Option<DateTimeUtc>,
    /// Why their last invitation could not be delivered.
    pub invitation_error: Option<String>,
    /// An admin deactivated this synced person: syncs keep them inactive until the provider
    /// itself reports them as a leaver.
    pub deactivated_by_hand_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum EmploymentStatus {
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    /// Hired, not started yet: an applicant tracking system's hire, or an HR system's
    /// onboarding. Becomes ACTIVE on the start date.
    #[sea_orm(string_value = "PRE_START")]
    PreStart,
    #[sea_orm(string_value = "INACTIVE")]
    Inactive,
}

impl EmploymentStatus {
    /// The statuses of people with the company, started or not.
    pub const WITH_COMPANY: [Self; 2] = [Self::Active, Self::PreStart];

    /// With the company, started or not: not a leaver.
    pub fn is_with_company(self) -> bool {
        self != Self::Inactive
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum InvitationStatus {
    #[sea_orm(string_value = "NOT_INVITED")]
    NotInvited,
    /// An invitation waits in the outbox.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    #[sea_orm(string_value = "INVITED")]
    Invited,
    /// The mail server refused it for good; see `invitation_error`.
    #[sea_orm(string_value = "FAILED")]
    Failed,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl ActiveModel {
    /// What every person new to the directory starts with, at `now`: not invited, no hand
    /// deactivation. The rest is who they are.
    pub fn newcomer(now: DateTimeUtc) -> Self {
        Self {
            invitation_status: sea_orm::Set(InvitationStatus::NotInvited),
            invited_at: sea_orm::Set(None),
            invitation_error: sea_orm::Set(None),
            deactivated_by_hand_at: sea_orm::Set(None),
            created_at: sea_orm::Set(now),
            updated_at: sea_orm::Set(now),
            ..Default::default()
        }
    }
}
