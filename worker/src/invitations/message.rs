//! The invitation email: who it is from, the workspace, the activity and a sign-in link, in
//! text and HTML. Nothing about the person beyond their name and address.

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::Message;

use super::MailerError;

/// What every invitation shares: the sender and the sign-in link's template.
#[derive(Clone, Debug)]
pub struct InvitationTemplate {
    pub from: Mailbox,
    /// The sign-in link; `{email}` becomes the person's address, URL-encoded.
    pub invite_url: String,
}

/// One invitation's facts.
pub struct Invitation<'a> {
    /// Becomes the `Message-ID`.
    pub id: uuid::Uuid,
    pub workspace: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub activity: &'a str,
    pub due_date: Option<&'a str>,
}

impl InvitationTemplate {
    /// `INVITE_URL` must be an http(s) URL once `{email}` is filled in.
    pub fn checked_invite_url(template: &str) -> Result<(), String> {
        match url::Url::parse(&template.replace("{email}", "someone%40example.com")) {
            Ok(url) if ["http", "https"].contains(&url.scheme()) => Ok(()),
            _ => Err("expected an http(s) URL, with {email} where the address goes".into()),
        }
    }

    pub fn sign_in_link(&self, email: &str) -> String {
        let encoded: String = url::form_urlencoded::byte_serialize(email.as_bytes()).collect();
        self.invite_url.replace("{email}", &encoded)
    }

    /// The message for `invitation`; an address no mail server takes is a permanent failure.
    pub fn compose(&self, invitation: &Invitation<'_>) -> Result<Message, MailerError> {
        let address = invitation.email.parse().map_err(|_| {
            MailerError::Permanent(format!("'{}' is not an address a mail server accepts", invitation.email))
        })?;
        let to = Mailbox::new(Some(invitation.name.to_string()), address);
        let (text, html) = self.bodies(invitation);
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(format!("{}: you have a new activity, {}", invitation.workspace, invitation.activity))
            .message_id(Some(format!("<invitation-{}@directory-sync>", invitation.id)))
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(text))
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html)),
            )
            .map_err(|e| MailerError::Permanent(format!("the invitation could not be composed: {e}")))
    }

    /// The text and HTML parts.
    fn bodies(&self, invitation: &Invitation<'_>) -> (String, String) {
        let link = self.sign_in_link(invitation.email);
        let due = invitation.due_date.map(|d| format!(" (due {d})")).unwrap_or_default();
        let Invitation { workspace, name, activity, .. } = invitation;
        let text = format!(
            "Hello {name},\n\n{workspace} has assigned you an activity: {activity}{due}.\n\n\
             Sign in to get started:\n{link}\n\nYou receive this because {workspace} added you to its directory.\n"
        );
        let html = format!(
            "<!doctype html><html><body><p>Hello {name},</p><p>{workspace} has assigned you an activity: \
             <strong>{activity}</strong>{due}.</p><p><a href=\"{href}\">Sign in to get started</a></p>\
             <p>You receive this because {workspace} added you to its directory.</p></body></html>",
            name = escape(name),
            workspace = escape(workspace),
            activity = escape(activity),
            due = escape(&due),
            href = escape(&link),
        );
        (text, html)
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> InvitationTemplate {
        InvitationTemplate {
            from: "Acme Directory <no-reply@acme.example>".parse().unwrap(),
            invite_url: "https://app.example/sign-in?email={email}".into(),
        }
    }

    #[test]
    fn the_invitation_names_the_workspace_activity_and_link() {
        let invitation = Invitation {
            id: uuid::Uuid::from_u128(7),
            workspace: "Acme <Ltd>",
            name: "Ada Lovelace",
            email: "ada+x@acme.example",
            activity: "Security training",
            due_date: Some("2026-12-24"),
        };
        let raw = String::from_utf8(template().compose(&invitation).unwrap().formatted()).unwrap();
        assert!(raw.contains("To: \"Ada Lovelace\" <ada+x@acme.example>"), "{raw}");
        assert!(raw.contains("Message-ID: <invitation-00000000-0000-0000-0000-000000000007@directory-sync>"));
        assert!(raw.contains("text/plain") && raw.contains("text/html"), "both parts");
        let (text, html) = template().bodies(&invitation);
        let link = "https://app.example/sign-in?email=ada%2Bx%40acme.example";
        assert!(text.contains(link) && html.contains(link), "{text}");
        assert!(text.contains("Security training (due 2026-12-24)"), "{text}");
        assert!(html.contains("Acme &lt;Ltd&gt;") && text.contains("Acme <Ltd>"), "escaped in HTML alone: {html}");
    }

    #[test]
    fn an_address_no_server_takes_is_a_permanent_failure() {
        let invitation = Invitation {
            id: uuid::Uuid::nil(),
            workspace: "w",
            name: "n",
            email: "not an address",
            activity: "a",
            due_date: None,
        };
        assert!(matches!(template().compose(&invitation), Err(MailerError::Permanent(_))));
    }
}
