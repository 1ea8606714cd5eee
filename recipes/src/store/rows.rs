//! Reading records from rows, shared by the SQLite and PostgreSQL stores: both keep the same columns, and
//! only the row type differs.

use sqlx::Row as _;

use super::{SessionRecord, SigningKeyRecord, StoreError, UserRecord};
use crate::contact::Contact;

/// The typed column reads the record builders need, implemented for each database's row.
pub(super) trait RecordRow {
    /// A `TEXT` column.
    fn text(&self, column: &'static str) -> Result<String, sqlx::Error>;
    /// A nullable `TEXT` column.
    fn optional_text(&self, column: &'static str) -> Result<Option<String>, sqlx::Error>;
    /// An integer column (`BIGINT` / `INTEGER`).
    fn integer(&self, column: &'static str) -> Result<i64, sqlx::Error>;
    /// A binary column (`BYTEA` / `BLOB`).
    fn bytes(&self, column: &'static str) -> Result<Vec<u8>, sqlx::Error>;
}

macro_rules! record_row {
    ($row:ty) => {
        impl RecordRow for $row {
            fn text(&self, column: &'static str) -> Result<String, sqlx::Error> {
                self.try_get(column)
            }
            fn optional_text(&self, column: &'static str) -> Result<Option<String>, sqlx::Error> {
                self.try_get(column)
            }
            fn integer(&self, column: &'static str) -> Result<i64, sqlx::Error> {
                self.try_get(column)
            }
            fn bytes(&self, column: &'static str) -> Result<Vec<u8>, sqlx::Error> {
                self.try_get(column)
            }
        }
    };
}

record_row!(sqlx::sqlite::SqliteRow);
record_row!(sqlx::postgres::PgRow);

/// The `email` and `phone_number` columns of a contact.
pub(super) fn contact_columns(contact: &Contact) -> (Option<&str>, Option<&str>) {
    (contact.email(), contact.phone_number())
}

/// The contact of a row with `email` and `phone_number` columns, exactly one of which is set.
pub(super) fn contact_from_row(row: &impl RecordRow, table: &'static str) -> Result<Contact, StoreError> {
    match (row.optional_text("email")?, row.optional_text("phone_number")?) {
        (Some(email), None) => Ok(Contact::Email(email)),
        (None, Some(phone_number)) => Ok(Contact::Phone(phone_number)),
        _ => Err(StoreError::Corrupt { table, detail: "exactly one of email and phone_number must be set".into() }),
    }
}

/// A user from the `users` columns.
pub(super) fn user_from_row(row: &impl RecordRow) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        user_id: row.text("user_id")?,
        tenant_id: row.text("tenant_id")?,
        contact: contact_from_row(row, "users")?,
        time_joined_ms: row.integer("time_joined")?,
    })
}

/// A session from the `sessions` columns.
pub(super) fn session_from_row(row: &impl RecordRow) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        session_handle: row.text("session_handle")?,
        user_id: row.text("user_id")?,
        tenant_id: row.text("tenant_id")?,
        created_at_ms: row.integer("created_at")?,
        expires_at_ms: row.integer("expires_at")?,
    })
}

/// A signing key from the `signing_keys` columns.
pub(super) fn signing_key_from_row(row: &impl RecordRow) -> Result<SigningKeyRecord, StoreError> {
    Ok(SigningKeyRecord {
        key_id: row.text("key_id")?,
        algorithm: row.text("algorithm")?,
        private_key: row.bytes("private_key")?,
        created_at_ms: row.integer("created_at")?,
    })
}
