//! A real SMTP server on loopback for the tests: it speaks enough of RFC 5321 for a client
//! (EHLO, AUTH PLAIN, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT), keeps what it
//! accepts with the login it came under, and answers MAIL, RCPT or the end of DATA as a test's
//! policy says (a 451 once, a 550 always, or no answer at all).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// The server's answer to a step, `None` for 250: called with "MAIL", "RCPT" or "EOM" and the
/// command line (the recipients for EOM). [`STALL`] never answers, as a server that hangs.
pub type Policy = Arc<dyn Fn(&str, &str) -> Option<String> + Send + Sync>;

/// The answer that is no answer: the session hangs there.
pub const STALL: &str = "STALL";

/// A message the server accepted.
#[derive(Debug, Clone)]
pub struct Received {
    /// The user and password the client signed in with (`AUTH PLAIN`), if it did.
    pub login: Option<(String, String)>,
    /// The envelope: `MAIL FROM` and `RCPT TO` paths.
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
}

impl Received {
    /// The message as its recipient's mail program reads it (MIME decoded).
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default().parse(&self.data).expect("a well-formed message")
    }
}

#[derive(Clone)]
pub struct MailServer {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    /// Sessions hanging on a [`STALL`].
    stalled: Arc<AtomicUsize>,
}

impl MailServer {
    /// A server on a free port.
    pub async fn with_policy(policy: Policy) -> Self {
        Self::on_port(0, policy).await
    }

    pub async fn on_port(port: u16, policy: Policy) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("a loopback port");
        let url = format!("smtp://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let server = Self { url, received: Arc::default(), stalled: Arc::default() };
        let accepting = server.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(session(socket, policy.clone(), accepting.clone()));
            }
        });
        server
    }

    pub fn stalled(&self) -> usize {
        self.stalled.load(Ordering::SeqCst)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn session(socket: TcpStream, policy: Policy, server: MailServer) -> std::io::Result<()> {
    let (reader, mut writer) = socket.into_split();
    let mut reader = BufReader::new(reader);
    let (mut from, mut to) = (String::new(), Vec::<String>::new());
    let mut login = None;
    writer.write_all(b"220 localhost ESMTP test server\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        let verb = command.split(' ').next().unwrap_or_default().to_ascii_uppercase();
        let argument = |prefix: usize| command.get(prefix..).unwrap_or_default().trim().to_string();
        let answer = match verb.as_str() {
            "EHLO" => "250-localhost\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-AUTH PLAIN\r\n250 PIPELINING".to_string(),
            "AUTH" => match plain_login(&command) {
                Some(signed_in) => {
                    login = Some(signed_in);
                    "235 2.7.0 signed in".to_string()
                }
                None => "535 5.7.8 bad credentials".to_string(),
            },
            "HELO" | "NOOP" => "250 OK".to_string(),
            "RSET" => {
                (from, to) = (String::new(), Vec::new());
                "250 OK".to_string()
            }
            "QUIT" => {
                writer.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            "MAIL" => policy("MAIL", &command).unwrap_or_else(|| {
                from = argument("MAIL FROM:".len());
                "250 OK".to_string()
            }),
            "RCPT" => policy("RCPT", &command).unwrap_or_else(|| {
                to.push(argument("RCPT TO:".len()));
                "250 OK".to_string()
            }),
            "DATA" => {
                writer.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = Vec::new();
                loop {
                    let mut text = Vec::new();
                    if reader.read_until(b'\n', &mut text).await? == 0 {
                        return Ok(());
                    }
                    if text == b".\r\n" {
                        break;
                    }
                    data.extend_from_slice(
                        text.strip_prefix(b".").filter(|_| text.starts_with(b"..")).unwrap_or(&text),
                    );
                }
                let answer = policy("EOM", &to.join(",")).unwrap_or_else(|| "250 queued".to_string());
                if answer == STALL {
                    server.stalled.fetch_add(1, Ordering::SeqCst);
                    std::future::pending::<()>().await;
                }
                if answer.starts_with('2') {
                    let received = Received { login: login.clone(), from: from.clone(), to: to.clone(), data };
                    server.received.lock().unwrap().push(received);
                }
                (from, to) = (String::new(), Vec::new());
                answer
            }
            _ => "502 command not implemented".to_string(),
        };
        writer.write_all(format!("{answer}\r\n").as_bytes()).await?;
    }
}

/// The user and password of `AUTH PLAIN <base64 of "\0user\0password">`.
fn plain_login(command: &str) -> Option<(String, String)> {
    use base64::Engine as _;
    let encoded = command.strip_prefix("AUTH PLAIN ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let mut parts = std::str::from_utf8(&decoded).ok()?.split('\0').skip(1);
    Some((parts.next()?.to_string(), parts.next()?.to_string()))
}
