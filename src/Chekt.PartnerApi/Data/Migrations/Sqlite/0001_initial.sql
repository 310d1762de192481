-- Initial schema (SQLite twin of the PostgreSQL migration). Timestamps are UTC milliseconds since the Unix epoch (BIGINT) so that both
-- providers store and compare them identically; flags are SMALLINT 0/1 for the same reason.

CREATE TABLE partners (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE oauth_clients (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id     TEXT     NOT NULL UNIQUE,
    partner_id    BIGINT   NOT NULL REFERENCES partners (id) ON DELETE CASCADE,
    name          TEXT     NOT NULL,
    is_public     SMALLINT NOT NULL DEFAULT 0 CHECK (is_public IN (0, 1)),
    require_pkce  SMALLINT NOT NULL DEFAULT 0 CHECK (require_pkce IN (0, 1)),
    created_at    BIGINT   NOT NULL
);
CREATE INDEX ix_oauth_clients_partner ON oauth_clients (partner_id);

CREATE TABLE oauth_client_secrets (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    client_pk    BIGINT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    secret_hash  TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT NULL
);
CREATE INDEX ix_oauth_client_secrets_client ON oauth_client_secrets (client_pk);

CREATE TABLE oauth_client_keys (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    client_pk       BIGINT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    kid             TEXT   NOT NULL,
    public_key_jwk  TEXT   NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (client_pk, kid)
);

CREATE TABLE oauth_client_redirect_uris (
    client_pk  BIGINT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    uri        TEXT   NOT NULL,
    PRIMARY KEY (client_pk, uri)
);

CREATE TABLE oauth_client_logout_urls (
    client_pk  BIGINT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    url        TEXT   NOT NULL,
    PRIMARY KEY (client_pk, url)
);

CREATE TABLE oauth_client_scopes (
    client_pk  BIGINT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    scope      TEXT   NOT NULL,
    PRIMARY KEY (client_pk, scope)
);

-- private_key_jwt assertions already accepted; a jti is refused while its assertion could still be valid.
CREATE TABLE client_assertion_jtis (
    client_pk   BIGINT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    jti         TEXT   NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (client_pk, jti)
);
CREATE INDEX ix_client_assertion_jtis_expires ON client_assertion_jtis (expires_at);

CREATE TABLE dealers (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    company_name          TEXT   NOT NULL,
    company_address1      TEXT   NULL,
    company_address2      TEXT   NULL,
    company_email         TEXT   NULL,
    company_phone_number  TEXT   NULL,
    version               BIGINT NOT NULL DEFAULT 1,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);

CREATE TABLE dealer_users (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    dealer_id           BIGINT  NOT NULL REFERENCES dealers (id) ON DELETE CASCADE,
    email               TEXT    NOT NULL,
    email_normalized    TEXT    NOT NULL UNIQUE,
    password_hash       TEXT    NOT NULL,
    role                TEXT    NOT NULL CHECK (role IN ('admin', 'member')),
    failed_login_count  INTEGER NOT NULL DEFAULT 0,
    locked_until        BIGINT  NULL,
    created_at          BIGINT  NOT NULL
);
CREATE INDEX ix_dealer_users_dealer ON dealer_users (dealer_id);

-- One row per (partner, dealer); kept on disconnect so the history survives a reconnect.
CREATE TABLE dealer_connections (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id          BIGINT NOT NULL REFERENCES partners (id) ON DELETE CASCADE,
    dealer_id           BIGINT NOT NULL REFERENCES dealers (id) ON DELETE CASCADE,
    external_dealer_id  TEXT   NOT NULL,
    company_name        TEXT   NOT NULL,
    connected_at        BIGINT NOT NULL,
    disconnected_at     BIGINT NULL,
    UNIQUE (partner_id, dealer_id)
);
CREATE UNIQUE INDEX ux_dealer_connections_external_id
    ON dealer_connections (partner_id, external_dealer_id) WHERE disconnected_at IS NULL;
CREATE INDEX ix_dealer_connections_dealer ON dealer_connections (dealer_id);

CREATE TABLE monitoring_stations (
    id                              INTEGER PRIMARY KEY AUTOINCREMENT,
    dealer_id                       BIGINT NOT NULL REFERENCES dealers (id) ON DELETE CASCADE,
    external_monitoring_station_id  TEXT   NOT NULL,
    name                            TEXT   NOT NULL,
    prefix                          TEXT   NULL,
    linecard                        TEXT   NULL,
    version                         BIGINT NOT NULL DEFAULT 1,
    created_at                      BIGINT NOT NULL,
    updated_at                      BIGINT NOT NULL,
    UNIQUE (dealer_id, external_monitoring_station_id),
    UNIQUE (dealer_id, id)
);

CREATE TABLE sites (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    dealer_id              BIGINT   NOT NULL REFERENCES dealers (id) ON DELETE CASCADE,
    external_site_id       TEXT     NOT NULL,
    name                   TEXT     NOT NULL,
    monitoring_station_id  BIGINT   NULL,
    account_number         TEXT     NULL,
    address1               TEXT     NULL,
    address2               TEXT     NULL,
    timezone               TEXT     NOT NULL,
    is_activated           SMALLINT NOT NULL DEFAULT 0 CHECK (is_activated IN (0, 1)),
    security_type          SMALLINT NOT NULL DEFAULT 1 CHECK (security_type BETWEEN 1 AND 4),
    version                BIGINT   NOT NULL DEFAULT 1,
    created_at             BIGINT   NOT NULL,
    updated_at             BIGINT   NOT NULL,
    UNIQUE (dealer_id, external_site_id),
    -- The station must belong to the site's own dealer; a referenced station cannot be deleted.
    FOREIGN KEY (dealer_id, monitoring_station_id) REFERENCES monitoring_stations (dealer_id, id)
);
CREATE INDEX ix_sites_station ON sites (monitoring_station_id);

CREATE TABLE contacts (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id              BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    external_contact_id  TEXT   NOT NULL,
    first_name           TEXT   NOT NULL,
    last_name            TEXT   NOT NULL,
    phone_number         TEXT   NULL,
    email                TEXT   NULL,
    version              BIGINT NOT NULL DEFAULT 1,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    UNIQUE (site_id, external_contact_id)
);

CREATE TABLE devices (
    id                       INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id                  BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    external_device_id       TEXT   NOT NULL,
    device_type              TEXT   NOT NULL CHECK (device_type IN ('camera', 'bridge')),
    zone_number              TEXT   NOT NULL,
    additional_zone_numbers  TEXT   NULL,
    name                     TEXT   NULL,
    mac                      TEXT   NULL,
    manufacturer             TEXT   NULL,
    model                    TEXT   NULL,
    serial_number            TEXT   NULL,
    version                  BIGINT NOT NULL DEFAULT 1,
    created_at               BIGINT NOT NULL,
    updated_at               BIGINT NOT NULL,
    UNIQUE (site_id, external_device_id)
);

-- Token signing keys shared by every instance. The newest key that is not retired signs;
-- every key whose expires_at is null or in the future is published in the JWKS and accepted.
CREATE TABLE signing_keys (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    kid              TEXT   NOT NULL UNIQUE,
    algorithm        TEXT   NOT NULL,
    private_key_pem  TEXT   NOT NULL,
    public_jwk       TEXT   NOT NULL,
    created_at       BIGINT NOT NULL,
    retired_at       BIGINT NULL,
    expires_at       BIGINT NULL
);

CREATE TABLE authorization_codes (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    code_hash              TEXT   NOT NULL UNIQUE,
    client_pk              BIGINT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id                BIGINT NOT NULL REFERENCES dealer_users (id) ON DELETE CASCADE,
    redirect_uri           TEXT   NOT NULL,
    scope                  TEXT   NOT NULL,
    audience               TEXT   NOT NULL,
    partner_claim          TEXT   NULL,
    code_challenge         TEXT   NULL,
    code_challenge_method  TEXT   NULL,
    nonce                  TEXT   NULL,
    created_at             BIGINT NOT NULL,
    expires_at             BIGINT NOT NULL,
    consumed_at            BIGINT NULL,
    -- What the code issued, so that a replayed code can revoke it.
    issued_token_family    TEXT   NULL,
    issued_access_jti      TEXT   NULL
);

CREATE TABLE refresh_tokens (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash     TEXT   NOT NULL UNIQUE,
    family_id      TEXT   NOT NULL,
    client_pk      BIGINT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id        BIGINT NOT NULL REFERENCES dealer_users (id) ON DELETE CASCADE,
    scope          TEXT   NOT NULL,
    audience       TEXT   NOT NULL,
    partner_claim  TEXT   NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT NULL,
    revoked_at     BIGINT NULL
);
CREATE INDEX ix_refresh_tokens_family ON refresh_tokens (family_id);

-- Access tokens revoked before their expiry (a replayed authorization code revokes what it issued).
CREATE TABLE revoked_access_tokens (
    jti         TEXT   NOT NULL PRIMARY KEY,
    expires_at  BIGINT NOT NULL
);

-- ASP.NET Core Data Protection keys (login session cookies, antiforgery), shared by instances.
CREATE TABLE data_protection_keys (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    friendly_name  TEXT   NULL,
    xml            TEXT   NOT NULL,
    created_at     BIGINT NOT NULL
);

CREATE TABLE idempotency_records (
    client_id         TEXT     NOT NULL,
    idempotency_key   TEXT     NOT NULL,
    request_method    TEXT     NOT NULL,
    request_path      TEXT     NOT NULL,
    request_hash      TEXT     NOT NULL,
    state             TEXT     NOT NULL CHECK (state IN ('in_progress', 'completed')),
    response_status   INTEGER  NULL,
    response_headers  TEXT     NULL,
    response_body     BLOB     NULL,
    created_at        BIGINT   NOT NULL,
    expires_at        BIGINT   NOT NULL,
    PRIMARY KEY (client_id, idempotency_key)
);
CREATE INDEX ix_idempotency_records_expires ON idempotency_records (expires_at);
