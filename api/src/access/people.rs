//! Adding and editing the people of one workspace by hand, and assigning them activities
//! (which invites them): what an admin may do on any plan.

use entity::{activity_assignment, directory_user};
use worker::activities::{self, NewActivity};
use worker::history::Author;
use worker::invitations;
use worker::people::{self, PersonEdit};

use super::{DirectoryAccess, UserId};
use crate::error::ApiError;

#[derive(Clone)]
pub struct PeopleAccess {
    directory: DirectoryAccess,
    /// Who is acting, for `assignedBy`.
    subject: String,
}

impl PeopleAccess {
    pub(super) fn new(directory: DirectoryAccess, subject: String) -> Self {
        Self { directory, subject }
    }

    fn env(&self) -> &worker::Environment {
        &self.directory.api().0.env
    }

    fn db(&self) -> &sea_orm::DatabaseConnection {
        &self.env().db
    }

    fn author(&self) -> Author {
        Author::admin(&self.subject)
    }

    fn workspace(&self) -> &str {
        self.directory.workspace().as_str()
    }

    pub async fn create(&self, email: &str, edit: PersonEdit) -> Result<directory_user::Model, ApiError> {
        Ok(people::create(self.db(), self.workspace(), &self.author(), email, edit).await?)
    }

    pub async fn update(&self, id: UserId, edit: PersonEdit) -> Result<directory_user::Model, ApiError> {
        Ok(people::update(self.db(), self.workspace(), &self.author(), id.0, edit).await?)
    }

    pub async fn deactivate(&self, id: UserId) -> Result<directory_user::Model, ApiError> {
        Ok(people::deactivate(self.db(), self.workspace(), &self.author(), id.0).await?)
    }

    pub async fn reactivate(&self, id: UserId) -> Result<directory_user::Model, ApiError> {
        Ok(people::reactivate(self.db(), self.workspace(), &self.author(), id.0).await?)
    }

    pub async fn assign_activity(&self, activity: NewActivity) -> Result<Vec<activity_assignment::Model>, ApiError> {
        Ok(activities::assign(self.env(), self.workspace(), &self.author().by, activity).await?)
    }

    pub async fn resend_invitation(&self, id: UserId) -> Result<directory_user::Model, ApiError> {
        Ok(invitations::resend(self.env(), self.workspace(), id.0).await?)
    }
}
