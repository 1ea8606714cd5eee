//! Reading records from rows, shared by the SQLite and PostgreSQL stores: both keep the same columns, and
//! only the row type differs ([`RecordRow`] is implemented for each).

use sqlx::Row as _;

use super::{CodeRecord, DeviceRecord, SessionRecord, SigningKeyRecord, StoreError, ThirdPartyAccount, UserRecord};
use crate::contact::Contact;

/// The typed column reads the record builders need, implemented for each database's row.
pub(super) trait RecordRow {
    /// A `TEXT` column.
    fn text(&self, column: &'static str) -> Result<String, sqlx::Error>;
    /// A nullable `TEXT` column.
    fn optional_text(&self, column: &'static str) -> Result<Option<String>, sqlx::Error>;
    /// A 64-bit integer column (`BIGINT` on PostgreSQL, `INTEGER` on SQLite).
    fn integer(&self, column: &'static str) -> Result<i64, sqlx::Error>;
    /// A nullable 64-bit integer column.
    fn optional_integer(&self, column: &'static str) -> Result<Option<i64>, sqlx::Error>;
    /// A 32-bit integer column (`INTEGER` on PostgreSQL; SQLite's integers read as well).
    fn small_integer(&self, column: &'static str) -> Result<i32, sqlx::Error>;
    /// A binary column (`BYTEA` / `BLOB`).
    fn bytes(&self, column: &'static str) -> Result<Vec<u8>, sqlx::Error>;
    /// A `BOOLEAN` column.
    fn boolean(&self, column: &'static str) -> Result<bool, sqlx::Error>;
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
            fn optional_integer(&self, column: &'static str) -> Result<Option<i64>, sqlx::Error> {
                self.try_get(column)
            }
            fn small_integer(&self, column: &'static str) -> Result<i32, sqlx::Error> {
                self.try_get(column)
            }
            fn bytes(&self, column: &'static str) -> Result<Vec<u8>, sqlx::Error> {
                self.try_get(column)
            }
            fn boolean(&self, column: &'static str) -> Result<bool, sqlx::Error> {
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

/// The wrong attempts of a device, from its `failed_attempts` column.
pub(super) fn failed_attempts(count: i32) -> Result<u32, StoreError> {
    u32::try_from(count).map_err(|_| StoreError::Corrupt {
        table: "passwordless_devices",
        detail: format!("failed_attempts is {count}"),
    })
}

/// A device from the rows of the device joined with its codes (`LEFT JOIN`, so a device without codes is one
/// row with null code columns): the device columns, and `code_id`, `link_code_hash` and `code_created_at`.
/// `None` when there are no rows.
pub(super) fn device_from_rows(rows: &[impl RecordRow]) -> Result<Option<DeviceRecord>, StoreError> {
    let Some(first) = rows.first() else { return Ok(None) };
    let mut codes = Vec::with_capacity(rows.len());
    for row in rows {
        let code = (
            row.optional_text("code_id")?,
            row.optional_text("link_code_hash")?,
            row.optional_integer("code_created_at")?,
        );
        if let (Some(code_id), Some(link_code_hash), Some(created_at_ms)) = code {
            codes.push(CodeRecord { code_id, link_code_hash, created_at_ms });
        }
    }
    Ok(Some(DeviceRecord {
        tenant_id: first.text("tenant_id")?,
        device_id_hash: first.text("device_id_hash")?,
        contact: contact_from_row(first, "passwordless_devices")?,
        link_code_salt: first.text("link_code_salt")?,
        failed_attempts: failed_attempts(first.small_integer("failed_attempts")?)?,
        codes,
    }))
}

/// A user from the `users` columns (see `user_columns!` in `sql.rs`).
pub(super) fn user_from_row(row: &impl RecordRow) -> Result<UserRecord, StoreError> {
    let third_party = match (
        row.text("recipe_id")?.as_str(),
        row.optional_text("third_party_id")?,
        row.optional_text("third_party_user_id")?,
    ) {
        ("passwordless", None, None) => None,
        ("thirdparty", Some(third_party_id), Some(third_party_user_id)) => {
            Some(ThirdPartyAccount { third_party_id, third_party_user_id })
        }
        (recipe, _, _) => {
            return Err(StoreError::Corrupt {
                table: "users",
                detail: format!("recipe `{recipe}` with third-party columns that do not fit it"),
            });
        }
    };
    Ok(UserRecord {
        user_id: row.text("user_id")?,
        tenant_id: row.text("tenant_id")?,
        contact: contact_from_row(row, "users")?,
        third_party,
        email_verified: row.boolean("email_verified")?,
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
