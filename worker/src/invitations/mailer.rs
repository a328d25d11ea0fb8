//! Where invitations go: an SMTP server (lettre), or, in embedded mode without one, `.eml`
//! files in the data directory, so a demo shows what would have been sent.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::PathBuf;
use std::time::Duration;

use lettre::transport::smtp::AsyncSmtpTransportBuilder;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailerError {
    /// Worth another try later: a 4xx answer, a server that could not be reached.
    #[error("{0}")]
    Transient(String),
    /// The server refused it for good (5xx), or it cannot be sent at all.
    #[error("{0}")]
    Permanent(String),
}

#[derive(Clone)]
pub enum Mailer {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        server: String,
    },
    /// Each message to `<dir>/<id>.eml`.
    Files(PathBuf),
}

impl Mailer {
    /// Checks `SMTP_URL`: `smtp://[user:password@]host[:port]`, upgraded with STARTTLS when the
    /// server offers it (`?tls=required` insists), or `smtps://…` for TLS from the start.
    /// Answers lettre's builder for it and the server's name for logs. The error never repeats
    /// the URL, which may hold a password.
    pub fn check_smtp_url(raw: &str) -> Result<(AsyncSmtpTransportBuilder, String), String> {
        let mut url = url::Url::parse(raw).map_err(|e| format!("not a URL ({e})"))?;
        match url.scheme() {
            "smtp" if !url.query_pairs().any(|(key, _)| key == "tls") => {
                url.query_pairs_mut().append_pair("tls", "opportunistic");
            }
            "smtp" | "smtps" => {}
            other => return Err(format!("'{other}://' is neither smtp:// nor smtps://")),
        }
        let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
            return Err("names no mail server host".into());
        };
        let server = match url.port() {
            Some(port) => format!("{}://{host}:{port}", url.scheme()),
            None => format!("{}://{host}", url.scheme()),
        };
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.as_str())
            .map_err(|e| format!("not a mail server URL ({e})"))?;
        Ok((builder, server))
    }

    /// Sends through the server of `SMTP_URL` (see [`Self::check_smtp_url`]) over a pool of
    /// connections, each SMTP command given `timeout`; needs the Tokio runtime.
    pub fn smtp(raw: &str, timeout: Duration) -> Result<Self, String> {
        let (builder, server) = Self::check_smtp_url(raw)?;
        Ok(Self::Smtp { transport: builder.timeout(Some(timeout)).build(), server })
    }

    /// Where messages go, for logs (never with credentials).
    pub fn destination(&self) -> String {
        match self {
            Self::Smtp { server, .. } => format!("the SMTP server {server}"),
            Self::Files(dir) => format!("files in {}", dir.display()),
        }
    }

    /// Sends `message`; answers where it went.
    pub async fn send(&self, id: uuid::Uuid, message: Message) -> Result<String, MailerError> {
        match self {
            Self::Smtp { transport, server } => match transport.send(message).await {
                Ok(answer) => Ok(format!("{server} accepted it ({})", answer.code())),
                Err(err) if err.is_permanent() => Err(MailerError::Permanent(err.to_string())),
                Err(err) => Err(MailerError::Transient(err.to_string())),
            },
            Self::Files(dir) => {
                let path = dir.join(format!("{id}.eml"));
                let bytes = message.formatted();
                let (dir, written) = (dir.clone(), path.clone());
                tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir)?;
                    let mut file = std::fs::OpenOptions::new()
                        .write(true)
                        .create(true)
                        .truncate(true)
                        .mode(0o600)
                        .open(&written)?;
                    file.write_all(&bytes)
                })
                .await
                .map_err(|e| MailerError::Transient(e.to_string()))?
                .map_err(|e| MailerError::Transient(format!("could not write {}: {e}", path.display())))?;
                Ok(format!("written to {}", path.display()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_are_checked_without_repeating_them() {
        let (_, server) = Mailer::check_smtp_url("smtp://user:s3cret@mail.example:2525").unwrap();
        assert_eq!(server, "smtp://mail.example:2525");
        assert!(Mailer::check_smtp_url("smtp://mail.example?tls=required").is_ok());
        assert_eq!(Mailer::check_smtp_url("smtps://mail.example").unwrap().1, "smtps://mail.example");
        for bad in ["http://mail.example", "smtp://", "mail.example:25", "smtp://u:s3cret@/x"] {
            let err = Mailer::check_smtp_url(bad).err().unwrap_or_else(|| panic!("{bad} is refused"));
            assert!(!err.contains("s3cret"), "{err}");
        }
    }
}
