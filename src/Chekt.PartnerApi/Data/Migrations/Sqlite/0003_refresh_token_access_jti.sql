-- Each refresh token remembers the access token issued with it, so that revoking its family (a reused refresh
-- token, a replayed authorization code, a revocation) revokes every access token the family issued too.
ALTER TABLE refresh_tokens ADD COLUMN issued_access_jti TEXT NULL;
ALTER TABLE refresh_tokens ADD COLUMN issued_access_expires_at BIGINT NULL;
