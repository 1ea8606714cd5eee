//! The email verification part of [`SqlStore`]: its tokens (by hash) and the verified (user, email) pairs,
//! the same SQL on SQLite and PostgreSQL. The [`Store`](super::Store) impl in `sql.rs` delegates here.
//!
//! Using a token is one transaction that starts by deleting the token's row: of concurrent deletes of one row
//! exactly one affects it (PostgreSQL: the others wait for its commit and find nothing; SQLite: writers take
//! turns), so a token verifies at most once.

use sqlx::{Encode, Executor, IntoArguments, Type};

use super::dialect::{Dialect, RowsAffected as _};
use super::rows::{RecordRow as _, user_from_row};
use super::{NewEmailVerificationToken, SqlStore, StoreError, UserRecord, VerifiedEmail};

// The methods are `pub(super)`, for `sql.rs` only, so the private `Dialect` bound leaks nowhere.
#[allow(private_bounds)]
impl<DB> SqlStore<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
{
    pub(super) async fn user_by_id(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError> {
        sqlx::query(concat!("SELECT ", user_columns!(), " FROM users WHERE user_id = $1"))
            .bind(user_id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    pub(super) async fn insert_email_verification_token(
        &self,
        token: &NewEmailVerificationToken,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO email_verification_tokens \
             (token_hash, tenant_id, user_id, email, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&token.token_hash)
        .bind(&token.tenant_id)
        .bind(&token.user_id)
        .bind(&token.email)
        .bind(token.created_at_ms)
        .bind(token.expires_at_ms)
        .execute(&mut *self.write().await?)
        .await?;
        Ok(())
    }

    pub(super) async fn consume_email_verification_token(
        &self,
        tenant_id: &str,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<VerifiedEmail>, StoreError> {
        let mut writer = self.write().await?;
        let mut tx = DB::begin_write(&mut writer).await?;
        let Some(row) = sqlx::query(
            "DELETE FROM email_verification_tokens WHERE token_hash = $1 AND tenant_id = $2 \
             RETURNING user_id, email, expires_at",
        )
        .bind(token_hash)
        .bind(tenant_id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        if row.integer("expires_at")? <= now_ms {
            // Expired: it goes, and verifies nothing.
            tx.commit().await?;
            return Ok(None);
        }
        let verified = VerifiedEmail { user_id: row.text("user_id")?, email: row.text("email")? };
        sqlx::query(
            "INSERT INTO verified_emails (user_id, email, verified_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, email) DO NOTHING",
        )
        .bind(&verified.user_id)
        .bind(&verified.email)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM email_verification_tokens WHERE user_id = $1 AND email = $2")
            .bind(&verified.user_id)
            .bind(&verified.email)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(verified))
    }

    pub(super) async fn verified_email(&self, user_id: &str, email: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM verified_emails WHERE user_id = $1 AND email = $2")
            .bind(user_id)
            .bind(email)
            .fetch_one(self.pool())
            .await?;
        Ok(row.integer("n")? > 0)
    }

    pub(super) async fn delete_expired_email_verification_tokens(&self, now_ms: i64) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM email_verification_tokens WHERE expires_at <= $1")
            .bind(now_ms)
            .execute(&mut *self.write().await?)
            .await?
            .rows_affected())
    }
}
