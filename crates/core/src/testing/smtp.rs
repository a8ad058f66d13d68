//! An SMTP sink for tests: a server on `127.0.0.1:0`, in-process, that speaks
//! enough SMTP (RFC 5321) for lettre and keeps every message it is given.
//! It answers EHLO/HELO, AUTH PLAIN and LOGIN (RFC 4954; any credentials
//! are accepted and recorded), MAIL, RCPT, DATA (with dot-unstuffing,
//! RFC 5321 §4.5.2), RSET, NOOP, VRFY and QUIT. No TLS.
//!
//! A captured message is decoded (MIME parts, quoted-printable, base64) so
//! that a test can read the text part and the links in it.

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine as _;
use mail_parser::{MessageParser, MimeHeaders as _, PartType};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Mutex};
use tokio::task::{JoinHandle, JoinSet};

/// Credentials a client authenticated with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpAuth {
    /// `PLAIN` or `LOGIN`.
    pub mechanism: String,
    pub username: String,
    pub password: String,
}

/// One message as the sink received it, and decoded.
#[derive(Debug, Clone)]
pub struct CapturedMail {
    /// The `MAIL FROM` address.
    pub envelope_from: String,
    /// The `RCPT TO` addresses.
    pub envelope_to: Vec<String>,
    /// The credentials of the session, if it authenticated.
    pub auth: Option<SmtpAuth>,
    /// The message as transmitted, after dot-unstuffing.
    pub raw: Vec<u8>,
    pub subject: Option<String>,
    /// `From`: the address, and the display name if any.
    pub from: Option<String>,
    pub from_name: Option<String>,
    /// `To` addresses.
    pub to: Vec<String>,
    /// Of the whole message, e.g. `multipart/alternative`.
    pub content_type: Option<String>,
    /// The decoded `text/plain` part, if there is one.
    pub text: Option<String>,
    /// The decoded `text/html` part, if there is one (never synthesised).
    pub html: Option<String>,
}

impl CapturedMail {
    fn decode(
        envelope_from: String,
        envelope_to: Vec<String>,
        auth: Option<SmtpAuth>,
        raw: Vec<u8>,
    ) -> Self {
        let mut mail = Self {
            envelope_from,
            envelope_to,
            auth,
            raw: Vec::new(),
            subject: None,
            from: None,
            from_name: None,
            to: Vec::new(),
            content_type: None,
            text: None,
            html: None,
        };
        if let Some(m) = MessageParser::default().parse(&raw) {
            mail.subject = m.subject().map(str::to_owned);
            if let Some(from) = m.from().and_then(|a| a.first()) {
                mail.from = from.address().map(str::to_owned);
                mail.from_name = from.name().map(str::to_owned);
            }
            mail.to = m
                .to()
                .map(|a| {
                    a.iter()
                        .filter_map(|a| a.address().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            mail.content_type = m.root_part().content_type().map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
                None => ct.ctype().to_ascii_lowercase(),
            });
            for part in &m.parts {
                match &part.body {
                    PartType::Text(t) if mail.text.is_none() => mail.text = Some(t.to_string()),
                    PartType::Html(h) if mail.html.is_none() => mail.html = Some(h.to_string()),
                    _ => {}
                }
            }
        }
        mail.raw = raw;
        mail
    }

    /// Every `http://` or `https://` URL in the text part, in order.
    pub fn links(&self) -> Vec<String> {
        let text = self.text.as_deref().unwrap_or_default();
        let mut links = Vec::new();
        let mut rest = text;
        while let Some(start) = ["https://", "http://"]
            .iter()
            .filter_map(|p| rest.find(p))
            .min()
        {
            let tail = &rest[start..];
            let end = tail
                .find(|c: char| c.is_whitespace() || "<>\"'()[]".contains(c))
                .unwrap_or(tail.len());
            let link = tail[..end].trim_end_matches(['.', ',', ';', ':', '!', '?']);
            links.push(link.to_owned());
            rest = &tail[end..];
        }
        links
    }

    /// The first link of the text part that starts with `prefix`.
    pub fn link_starting_with(&self, prefix: &str) -> Option<String> {
        self.links().into_iter().find(|l| l.starts_with(prefix))
    }
}

/// The sink. Dropping it stops the server and closes its sessions.
pub struct SmtpSink {
    addr: SocketAddr,
    mails: Mutex<mpsc::UnboundedReceiver<CapturedMail>>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for SmtpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSink")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl SmtpSink {
    /// Starts a sink on a free port of 127.0.0.1.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the SMTP sink");
        let addr = listener.local_addr().expect("SMTP sink address");
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            // Owned here, so aborting this task also ends every session.
            let mut sessions = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => {
                            sessions.spawn(session(stream, tx.clone()));
                        }
                        Err(_) => break,
                    },
                    Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
                }
            }
        });
        Self {
            addr,
            mails: Mutex::new(rx),
            task,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The sink as a platform `smtp_url`: `smtp+plain://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("smtp+plain://{}", self.addr)
    }

    /// The next message, waiting at most `timeout`; panics without one.
    pub async fn next_mail(&self, timeout: Duration) -> CapturedMail {
        self.try_next_mail(timeout).await.unwrap_or_else(|| {
            panic!(
                "no mail reached the SMTP sink on {} within {timeout:?}",
                self.addr
            )
        })
    }

    /// The next message, or None if none arrives within `timeout`.
    pub async fn try_next_mail(&self, timeout: Duration) -> Option<CapturedMail> {
        let mut mails = self.mails.lock().await;
        tokio::time::timeout(timeout, mails.recv())
            .await
            .ok()
            .flatten()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Longest command line or data line accepted.
const MAX_LINE: usize = 1 << 20;

type Reader = BufReader<tokio::net::tcp::OwnedReadHalf>;

/// One line, without its line ending; None at end of input.
async fn read_line(r: &mut Reader) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let n = (&mut *r)
        .take(MAX_LINE as u64)
        .read_until(b'\n', &mut line)
        .await?;
    if n == 0 {
        return Ok(None);
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    Ok(Some(line))
}

/// One reply in one write: two small writes would meet Nagle's algorithm
/// and the client's delayed ACK, and cost tens of milliseconds each.
async fn reply(w: &mut OwnedWriteHalf, text: &str) -> std::io::Result<()> {
    w.write_all(format!("{text}\r\n").as_bytes()).await
}

/// The address inside `FROM:<…>` or `TO:<…>`, without parameters.
fn path_of(arg: &str) -> String {
    match (arg.find('<'), arg.find('>')) {
        (Some(a), Some(b)) if a < b => arg[a + 1..b].to_owned(),
        _ => arg
            .split_once(':')
            .map(|(_, p)| p.trim())
            .unwrap_or_default()
            .to_owned(),
    }
}

fn b64(s: &str) -> Option<String> {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
}

/// Reads the next client line of an AUTH exchange, as base64-decoded text.
async fn challenge(
    r: &mut Reader,
    w: &mut OwnedWriteHalf,
    prompt: &str,
) -> std::io::Result<Option<String>> {
    reply(w, &format!("334 {prompt}")).await?;
    Ok(read_line(r)
        .await?
        .and_then(|l| b64(&String::from_utf8_lossy(&l))))
}

async fn authenticate(
    arg: &str,
    r: &mut Reader,
    w: &mut OwnedWriteHalf,
) -> std::io::Result<Option<SmtpAuth>> {
    let mut words = arg.split_whitespace();
    let mechanism = words.next().unwrap_or_default().to_ascii_uppercase();
    let initial = words.next().map(str::to_owned);
    match mechanism.as_str() {
        "PLAIN" => {
            let decoded = match initial {
                Some(i) => b64(&i),
                None => challenge(r, w, "").await?,
            };
            // authzid NUL authcid NUL password
            Ok(decoded.and_then(|d| {
                let mut parts = d.splitn(3, '\0');
                let (_, user, pass) = (parts.next()?, parts.next()?, parts.next()?);
                Some(SmtpAuth {
                    mechanism,
                    username: user.to_owned(),
                    password: pass.to_owned(),
                })
            }))
        }
        "LOGIN" => {
            let user = match initial {
                Some(i) => b64(&i),
                None => challenge(r, w, "VXNlcm5hbWU6").await?,
            };
            let Some(username) = user else {
                return Ok(None);
            };
            let Some(password) = challenge(r, w, "UGFzc3dvcmQ6").await? else {
                return Ok(None);
            };
            Ok(Some(SmtpAuth {
                mechanism,
                username,
                password,
            }))
        }
        _ => Ok(None),
    }
}

/// Reads DATA up to the lone dot, undoing dot-stuffing.
async fn read_data(r: &mut Reader) -> std::io::Result<Option<Vec<u8>>> {
    let mut data = Vec::new();
    loop {
        let Some(line) = read_line(r).await? else {
            return Ok(None);
        };
        if line == b"." {
            return Ok(Some(data));
        }
        let line = line.strip_prefix(b".").unwrap_or(&line);
        data.extend_from_slice(line);
        data.extend_from_slice(b"\r\n");
    }
}

async fn session(
    stream: TcpStream,
    mails: mpsc::UnboundedSender<CapturedMail>,
) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    reply(&mut w, "220 sink.test ESMTP test sink").await?;
    let mut auth = None;
    let mut from: Option<String> = None;
    let mut to = Vec::new();
    while let Some(line) = read_line(&mut r).await? {
        let line = String::from_utf8_lossy(&line).into_owned();
        let (verb, arg) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" => {
                reply(&mut w, "250-sink.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-AUTH PLAIN LOGIN\r\n250 SIZE 10485760").await?;
            }
            "HELO" => reply(&mut w, "250 sink.test").await?,
            "AUTH" => match authenticate(arg, &mut r, &mut w).await? {
                Some(a) => {
                    auth = Some(a);
                    reply(&mut w, "235 2.7.0 Authentication successful").await?;
                }
                None => reply(&mut w, "501 5.5.4 malformed authentication").await?,
            },
            "MAIL" => {
                from = Some(path_of(arg));
                to.clear();
                reply(&mut w, "250 2.1.0 OK").await?;
            }
            "RCPT" if from.is_none() => reply(&mut w, "503 5.5.1 MAIL first").await?,
            "RCPT" => {
                to.push(path_of(arg));
                reply(&mut w, "250 2.1.5 OK").await?;
            }
            "DATA" if to.is_empty() => reply(&mut w, "503 5.5.1 RCPT first").await?,
            "DATA" => {
                reply(&mut w, "354 end data with <CR><LF>.<CR><LF>").await?;
                let Some(raw) = read_data(&mut r).await? else {
                    return Ok(());
                };
                let envelope_from = from.take().unwrap_or_default();
                let mail =
                    CapturedMail::decode(envelope_from, std::mem::take(&mut to), auth.clone(), raw);
                let _ = mails.send(mail);
                reply(&mut w, "250 2.0.0 OK queued").await?;
            }
            "RSET" => {
                from = None;
                to.clear();
                reply(&mut w, "250 2.0.0 OK").await?;
            }
            "NOOP" => reply(&mut w, "250 2.0.0 OK").await?,
            "VRFY" => reply(&mut w, "252 2.1.5 cannot verify").await?,
            "QUIT" => {
                reply(&mut w, "221 2.0.0 bye").await?;
                return Ok(());
            }
            _ => reply(&mut w, "502 5.5.2 command not recognized").await?,
        }
    }
    Ok(())
}
