//! Sending codes and magic links. [`LogDelivery`] (the default) writes one line per message to stderr so a
//! developer can sign in without a mail server; [`SmtpDelivery`] sends email through an SMTP relay;
//! [`SplitDelivery`] routes emails and text messages to different deliveries.

use std::future::Future;
use std::io::Write as _;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Tokio1Executor};

use crate::contact::Contact;

/// A code and/or magic link to send to a contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeMessage {
    /// The normalised email or E.164 phone number.
    pub recipient: Contact,
    /// The 6-digit code, when the flow type includes one.
    pub user_input_code: Option<String>,
    /// The full magic link URL, when the flow type includes one.
    pub magic_link: Option<String>,
    /// How long the code and link stay valid.
    pub code_lifetime: Duration,
    /// The `preAuthSessionId` of the device.
    pub pre_auth_session_id: String,
}

/// A link that verifies an email, sent to the signed-in user who asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailVerificationMessage {
    /// The email to verify, which the message goes to.
    pub email: String,
    /// The user whose email it is.
    pub user_id: String,
    /// The full verification link URL.
    pub link: String,
    /// How long the link stays valid.
    pub lifetime: Duration,
}

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// This delivery cannot reach this kind of contact (e.g. SMTP and a phone number).
    #[error("this delivery cannot send to {0}")]
    Unsupported(&'static str),
    /// The message could not be built (e.g. an address the mail library rejects).
    #[error("the message could not be built: {0}")]
    Message(String),
    /// The transport failed.
    #[error("the message could not be sent: {0}")]
    Transport(String),
}

/// A boxed future, so that deliveries can be chosen at run time (`Arc<dyn Delivery>`).
pub type DeliveryFuture<'a> = Pin<Box<dyn Future<Output = Result<(), DeliveryError>> + Send + 'a>>;

/// Sends codes and magic links by email or text message.
pub trait Delivery: Send + Sync + 'static {
    /// Sends `message`; the request that created the code waits for it.
    fn deliver<'a>(&'a self, message: &'a CodeMessage) -> DeliveryFuture<'a>;

    /// Sends an email verification link; the request that asked for it waits for it. Deliveries that
    /// cannot send email keep this default, which refuses.
    fn deliver_email_verification<'a>(&'a self, message: &'a EmailVerificationMessage) -> DeliveryFuture<'a> {
        let _ = message;
        Box::pin(std::future::ready(Err(DeliveryError::Unsupported("email verification links"))))
    }
}

/// Writes one line per message to stderr: the recipient, the code and the magic link.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogDelivery;

impl LogDelivery {
    /// The line written for `message`.
    pub fn line(message: &CodeMessage) -> String {
        format!(
            "passwordless code for {}: code={} link={} (valid {} s)",
            crate::logsafe::escape(message.recipient.as_str()),
            message.user_input_code.as_deref().unwrap_or("-"),
            message.magic_link.as_deref().unwrap_or("-"),
            message.code_lifetime.as_secs()
        )
    }

    /// The line written for an email verification `message`.
    pub fn email_verification_line(message: &EmailVerificationMessage) -> String {
        format!(
            "email verification link for {}: link={} (valid {} s)",
            crate::logsafe::escape(&message.email),
            message.link,
            message.lifetime.as_secs()
        )
    }

    fn write(line: String) -> DeliveryFuture<'static> {
        Box::pin(async move {
            writeln!(std::io::stderr().lock(), "{line}").map_err(|e| DeliveryError::Transport(e.to_string()))
        })
    }
}

impl Delivery for LogDelivery {
    fn deliver<'a>(&'a self, message: &'a CodeMessage) -> DeliveryFuture<'a> {
        Self::write(Self::line(message))
    }

    fn deliver_email_verification<'a>(&'a self, message: &'a EmailVerificationMessage) -> DeliveryFuture<'a> {
        Self::write(Self::email_verification_line(message))
    }
}

/// Sends email through an SMTP server. Phone numbers are refused; combine it with another delivery
/// for text messages using [`SplitDelivery`].
#[derive(Clone)]
pub struct SmtpDelivery {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpDelivery").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl SmtpDelivery {
    /// Plain SMTP without TLS or authentication: for a relay on the same host or a trusted network.
    pub fn unencrypted(host: &str, port: u16, from: &str) -> Result<Self, DeliveryError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(port).build();
        Ok(Self { transport, from: parse_mailbox(from)? })
    }

    /// SMTP with STARTTLS and, when given, username/password authentication.
    #[cfg(feature = "smtp-tls")]
    pub fn starttls(
        host: &str,
        port: u16,
        from: &str,
        credentials: Option<(String, String)>,
    ) -> Result<Self, DeliveryError> {
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
            .map_err(|e| DeliveryError::Transport(e.to_string()))?
            .port(port);
        if let Some((user, password)) = credentials {
            builder = builder.credentials(lettre::transport::smtp::authentication::Credentials::new(user, password));
        }
        Ok(Self { transport: builder.build(), from: parse_mailbox(from)? })
    }

    fn email(&self, to: &str, message: &CodeMessage) -> Result<lettre::Message, DeliveryError> {
        let minutes = message.code_lifetime.as_secs().div_ceil(60);
        let mut body = String::new();
        if let Some(code) = &message.user_input_code {
            body.push_str(&format!("Your sign-in code is {code}.\n\n"));
        }
        if let Some(link) = &message.magic_link {
            body.push_str(&format!("Sign in with this link:\n{link}\n\n"));
        }
        body.push_str(&format!("It expires in {minutes} minutes. If you did not ask to sign in, ignore this email.\n"));
        self.message(to, "Your sign-in code", body)
    }

    fn verification_email(&self, message: &EmailVerificationMessage) -> Result<lettre::Message, DeliveryError> {
        let hours = message.lifetime.as_secs().div_ceil(3600);
        let body = format!(
            "Verify your email address with this link:\n{}\n\nIt expires in {hours} hours. If you did not ask for \
             this, ignore this email.\n",
            message.link
        );
        self.message(&message.email, "Verify your email address", body)
    }

    fn message(&self, to: &str, subject: &str, body: String) -> Result<lettre::Message, DeliveryError> {
        lettre::Message::builder()
            .from(self.from.clone())
            .to(parse_mailbox(to)?)
            .subject(subject)
            .body(body)
            .map_err(|e| DeliveryError::Message(e.to_string()))
    }

    fn send(&self, email: lettre::Message) -> DeliveryFuture<'_> {
        Box::pin(async move {
            self.transport.send(email).await.map_err(|e| DeliveryError::Transport(e.to_string()))?;
            Ok(())
        })
    }
}

fn parse_mailbox(address: &str) -> Result<Mailbox, DeliveryError> {
    address.parse::<Mailbox>().map_err(|e| DeliveryError::Message(format!("invalid address `{address}`: {e}")))
}

impl Delivery for SmtpDelivery {
    fn deliver<'a>(&'a self, message: &'a CodeMessage) -> DeliveryFuture<'a> {
        Box::pin(async move {
            let Contact::Email(to) = &message.recipient else {
                return Err(DeliveryError::Unsupported("phone numbers"));
            };
            let email = self.email(to, message)?;
            self.send(email).await
        })
    }

    fn deliver_email_verification<'a>(&'a self, message: &'a EmailVerificationMessage) -> DeliveryFuture<'a> {
        match self.verification_email(message) {
            Ok(email) => self.send(email),
            Err(error) => Box::pin(std::future::ready(Err(error))),
        }
    }
}

/// Routes emails to one delivery and text messages to another.
#[derive(Clone)]
pub struct SplitDelivery {
    /// Used for email contacts.
    pub email: Arc<dyn Delivery>,
    /// Used for phone contacts.
    pub sms: Arc<dyn Delivery>,
}

impl std::fmt::Debug for SplitDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SplitDelivery").finish_non_exhaustive()
    }
}

impl Delivery for SplitDelivery {
    fn deliver<'a>(&'a self, message: &'a CodeMessage) -> DeliveryFuture<'a> {
        match message.recipient {
            Contact::Email(_) => self.email.deliver(message),
            Contact::Phone(_) => self.sms.deliver(message),
        }
    }

    fn deliver_email_verification<'a>(&'a self, message: &'a EmailVerificationMessage) -> DeliveryFuture<'a> {
        self.email.deliver_email_verification(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_line_is_one_line_whatever_the_recipient_holds() {
        let message = CodeMessage {
            recipient: Contact::Email("\"a\r\nINFO forged\"@example.com".into()),
            user_input_code: Some("123456".into()),
            magic_link: None,
            code_lifetime: Duration::from_secs(900),
            pre_auth_session_id: "p".into(),
        };
        let line = LogDelivery::line(&message);
        assert!(!line.contains(['\r', '\n']), "{line:?}");
        assert!(line.starts_with(r#"passwordless code for "a\r\nINFO forged"@example.com: code=123456"#), "{line}");
    }
}
