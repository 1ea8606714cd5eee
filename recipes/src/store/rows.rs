//! Reading records from rows, shared by the SQLite and PostgreSQL stores: both keep the same columns, and
//! only the row type differs.

use sqlx::Row as _;

use super::{SessionRecord, SigningKeyRecord, StoreError, ThirdPartyAccount, UserRecord};
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

/// The columns [`user_from_row`] reads.
pub(super) const USER_COLUMNS: &str = "user_id, tenant_id, email, phone_number, time_joined, recipe_id, third_party_id, third_party_user_id, email_verified";

/// Third-party sign-up: inserts the account's user unless it exists (`$1` user id, `$2` tenant, `$3` email,
/// `$4` time joined, `$5` third-party id, `$6` third-party user id, `$7` verified). Written with PostgreSQL's
/// `$N` parameters; SQLite reads them as `?N` ([`sqlite_parameters`]).
pub(super) const THIRD_PARTY_INSERT: &str = "INSERT INTO users \
     (user_id, tenant_id, email, time_joined, recipe_id, third_party_id, third_party_user_id, email_verified) \
     VALUES ($1, $2, $3, $4, 'thirdparty', $5, $6, $7) ON CONFLICT DO NOTHING";

/// Third-party sign-in: takes the provider's current email (`$1`) and verified flag (`$2`) and returns the
/// user (`$3` tenant, `$4` third-party id, `$5` third-party user id). A verified email stays verified while it
/// does not change.
pub(super) fn third_party_update() -> String {
    format!(
        "UPDATE users SET email_verified = CASE WHEN email = $1 THEN (email_verified OR $2) ELSE $2 END, email = $1 \
         WHERE tenant_id = $3 AND recipe_id = 'thirdparty' AND third_party_id = $4 AND third_party_user_id = $5 \
         RETURNING {USER_COLUMNS}"
    )
}

/// PostgreSQL's `$N` parameters as SQLite's `?N`.
pub(super) fn sqlite_parameters(sql: &str) -> String {
    sql.replace('$', "?")
}

/// A user from the [`USER_COLUMNS`].
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
