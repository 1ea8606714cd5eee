-- Third-party sign-in: a user is either a passwordless contact or an account at a provider. Third-party users
-- keep the provider's email (or a fake one) in `email`, so the CHECK of 0001 still holds; the unique email
-- index now applies to passwordless users only, since one email may sign in through several providers too.
ALTER TABLE users ADD COLUMN recipe_id TEXT NOT NULL DEFAULT 'passwordless';
ALTER TABLE users ADD COLUMN third_party_id TEXT;
ALTER TABLE users ADD COLUMN third_party_user_id TEXT;
ALTER TABLE users ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT TRUE;

DROP INDEX users_tenant_email;
CREATE UNIQUE INDEX users_tenant_email ON users (tenant_id, email)
    WHERE email IS NOT NULL AND recipe_id = 'passwordless';
CREATE UNIQUE INDEX users_tenant_third_party ON users (tenant_id, third_party_id, third_party_user_id)
    WHERE recipe_id = 'thirdparty';
