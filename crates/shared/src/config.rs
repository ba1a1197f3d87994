//! Typed configuration, read once from the environment (and `.env`).
//!
//! Defaults make a fresh machine work with no setup. In `APP_ENV=production` a missing or weak
//! secret is a start-up error; in development a missing secret is generated once and kept in the
//! data folder so tokens survive a restart.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretBox, SecretString};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Test,
    Production,
}

impl AppEnv {
    #[must_use]
    pub fn is_production(self) -> bool {
        self == Self::Production
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// A GCRA quota: `per_minute` sustained, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub per_minute: u32,
    pub burst: u32,
}

impl Quota {
    /// Time between two admitted requests at the sustained rate.
    #[must_use]
    pub fn emission_interval(&self) -> Duration {
        Duration::from_secs(60) / self.per_minute.max(1)
    }
}

impl FromStr for Quota {
    type Err = String;
    /// `"600/min"` or `"600/min,burst=100"`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split(',').map(str::trim);
        let rate = parts.next().unwrap_or_default();
        let per_minute: u32 = rate
            .strip_suffix("/min")
            .and_then(|n| n.trim().parse().ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("`{s}`: expected `<n>/min[,burst=<m>]` with n > 0"))?;
        let mut burst = per_minute;
        for part in parts {
            burst = part
                .strip_prefix("burst=")
                .and_then(|n| n.trim().parse().ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("`{s}`: expected `burst=<m>` with m > 0"))?;
        }
        Ok(Self { per_minute, burst })
    }
}

/// S3-compatible object store for files (instead of `DATA_DIR/files`).
#[derive(Clone)]
pub struct S3Config {
    pub bucket: String,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<SecretString>,
    pub allow_http: bool,
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "[redacted]"),
            )
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

#[derive(Clone)]
pub struct Config {
    pub app_env: AppEnv,
    pub host: String,
    pub port: u16,
    /// actix worker threads (defaults to [`default_http_workers`]).
    pub http_workers: usize,
    pub database_url: String,
    /// Connections of the requests' pool; on PostgreSQL shared among the HTTP workers, each
    /// opening its own share (`crate::db::worker_pool`).
    pub db_max_connections: u32,
    /// PostgreSQL cancels a request's statement after this long (`None`: never), so a request
    /// abandoned by its client cannot keep a connection and a core busy.
    pub db_statement_timeout: Option<Duration>,
    pub data_dir: PathBuf,
    pub redis_url: Option<String>,
    /// Prefix of every Redis key (lets several deployments share one Redis).
    pub redis_prefix: String,
    pub jwt_secret: SecretString,
    pub encryption_key: EncryptionKey,
    pub smtp_url: Option<SecretString>,
    pub s3: Option<S3Config>,
    pub admin_email: Option<String>,
    pub admin_password: Option<SecretString>,
    pub trusted_proxies: Vec<IpNet>,
    pub cors_origins: Vec<String>,
    pub log_format: LogFormat,
    pub rust_log: String,
    pub rate_limit_default: Quota,
    pub rate_limit_auth: Quota,
    /// Budget per IP of public links (shared documents).
    pub rate_limit_public: Quota,
    /// Background job workers in this process (0 = this instance runs no jobs).
    pub job_workers: usize,
    pub job_poll_interval: Duration,
    /// A running job whose worker stops renewing its lease for this long is taken over.
    pub job_lease: Duration,
    /// First retry delay; doubles on each attempt (capped at one hour).
    pub job_retry_base: Duration,
    /// Bearer token `/metrics` requires, when set.
    pub metrics_token: Option<SecretString>,
    /// Where people reach the product (links in e-mails point there).
    pub public_url: String,
    /// Sender of the platform's e-mails.
    pub mail_from: String,
    /// Support-ticket SLA targets per priority (`SLA_TARGETS`).
    pub sla_targets: Vec<SlaTarget>,
    /// Share of an SLA budget after which a ticket is `warning` (1..=99).
    pub sla_warning_percent: u8,
    /// How often breaches are looked for.
    pub sla_scan_interval: Duration,
    /// How long `POST …/export` waits for its file before answering 202.
    pub export_wait: Duration,
    /// How long an export's download link works.
    pub export_ttl: Duration,
    /// How long an attachment's download link works.
    pub download_link_ttl: Duration,
    /// ISO 4217 code of amounts entered without one.
    pub default_currency: String,
    /// IANA time zone of sites whose planning settings name none (`PLANNING_TIMEZONE`).
    pub planning_timezone: String,
    /// How often an open WebSocket checks that its credential still holds.
    pub ws_recheck_interval: Duration,
    /// Who issues the invoices (`SELLER_*`).
    pub seller: Seller,
}

/// The business's identity printed on its invoices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seller {
    pub name: String,
    /// Postal address; `\n` separates lines.
    pub address: String,
    /// Intra-community VAT number.
    pub vat_number: Option<String>,
    /// Company registration (SIRET).
    pub registration: Option<String>,
    /// Where transfers go.
    pub iban: Option<String>,
    pub email: Option<String>,
}

/// The SLA of one ticket priority: time to first response and to resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaTarget {
    pub priority: String,
    pub first_response: Duration,
    pub resolution: Duration,
}

/// `30m`, `4h`, `10d`.
fn parse_span(raw: &str) -> Option<Duration> {
    let raw = raw.trim();
    let (number, unit) = raw.split_at(raw.len().checked_sub(1)?);
    let n: u64 = number.trim().parse().ok().filter(|n| *n > 0)?;
    let seconds = match unit {
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    Some(Duration::from_secs(seconds))
}

/// `critique=4h/24h,haute=8h/48h,…`: priority = first response / resolution.
///
/// # Errors
/// A message naming the entry that does not parse.
pub fn parse_sla_targets(raw: &str) -> Result<Vec<SlaTarget>, String> {
    let mut targets: Vec<SlaTarget> = Vec::new();
    for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let parsed = entry.split_once('=').and_then(|(priority, spans)| {
            let (first, resolution) = spans.split_once('/')?;
            Some(SlaTarget {
                priority: priority.trim().to_owned(),
                first_response: parse_span(first)?,
                resolution: parse_span(resolution)?,
            })
        });
        let target = parsed.ok_or_else(|| {
            format!(
                "`{entry}`: expected <priority>=<first response>/<resolution>, e.g. haute=8h/48h"
            )
        })?;
        if target.first_response > target.resolution {
            return Err(format!(
                "`{entry}`: the first response cannot be due after the resolution"
            ));
        }
        if targets.iter().any(|t| t.priority == target.priority) {
            return Err(format!("`{}` is listed twice", target.priority));
        }
        targets.push(target);
    }
    Ok(targets)
}

/// The defaults of `SLA_TARGETS`.
pub const DEFAULT_SLA_TARGETS: &str =
    "critique=4h/24h,haute=8h/48h,normale=24h/120h,basse=72h/240h";

/// `postgres://user:secret@host/db` -> `postgres://user:***@host/db`.
#[must_use]
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("app_env", &self.app_env)
            .field("bind", &self.bind_address())
            .field("http_workers", &self.http_workers)
            .field("database_url", &redact_url(&self.database_url))
            .field("db_max_connections", &self.db_max_connections)
            .field("db_statement_timeout", &self.db_statement_timeout)
            .field("data_dir", &self.data_dir)
            .field("redis_url", &self.redis_url.as_deref().map(redact_url))
            .field("redis_prefix", &self.redis_prefix)
            .field(
                "smtp_url",
                &self
                    .smtp_url
                    .as_ref()
                    .map(|u| redact_url(u.expose_secret())),
            )
            .field("s3", &self.s3)
            .field("admin_email", &self.admin_email)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("cors_origins", &self.cors_origins)
            .field("log_format", &self.log_format)
            .field("rate_limit_default", &self.rate_limit_default)
            .field("rate_limit_auth", &self.rate_limit_auth)
            .field("rate_limit_public", &self.rate_limit_public)
            .field("job_workers", &self.job_workers)
            .finish_non_exhaustive()
    }
}

/// An origin a browser sends: `https://app.example.com[:port]`, nothing after the host.
fn valid_origin(origin: &str) -> bool {
    let Some((scheme, host)) = origin.split_once("://") else {
        return false;
    };
    matches!(scheme, "http" | "https")
        && !host.is_empty()
        && !host.contains('/')
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

/// 32-byte key for secrets stored in the database (AES-GCM / XChaCha20-Poly1305).
#[derive(Clone)]
pub struct EncryptionKey(std::sync::Arc<SecretBox<[u8; 32]>>);

impl EncryptionKey {
    #[must_use]
    pub fn bytes(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }

    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(std::sync::Arc::new(SecretBox::new(Box::new(bytes))))
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncryptionKey([redacted])")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{variable}: {message}")]
    Invalid {
        variable: &'static str,
        message: String,
    },
    #[error("could not keep the generated development secret in {path}: {source}")]
    SecretFile {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn invalid(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        variable,
        message: message.into(),
    }
}

/// Minimum length (bytes) for `JWT_SECRET`: HS256 wants a key at least as long as its output.
pub const MIN_JWT_SECRET_LEN: usize = 32;

/// Is this secret strong enough to sign tokens in production?
fn weak_secret_reason(secret: &str) -> Option<String> {
    if secret.len() < MIN_JWT_SECRET_LEN {
        return Some(format!(
            "must be at least {MIN_JWT_SECRET_LEN} bytes (got {})",
            secret.len()
        ));
    }
    let mut distinct: Vec<char> = secret.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 12 {
        return Some("is not random enough (too few distinct characters)".to_owned());
    }
    let lowered = secret.to_ascii_lowercase();
    for word in [
        "changeme",
        "change-me",
        "secret",
        "password",
        "example",
        "default",
    ] {
        if lowered.contains(word) {
            return Some(format!("looks like a placeholder (contains `{word}`)"));
        }
    }
    None
}

fn decode_key(raw: &str) -> Option<[u8; 32]> {
    let raw = raw.trim();
    let bytes = if raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(raw).ok()?
    } else {
        BASE64.decode(raw).ok()?
    };
    bytes.try_into().ok()
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::fill(&mut bytes);
    bytes
}

/// Read a development secret from `dir/name`, or create it (mode 0600) with `generate`.
fn dev_secret(
    dir: &Path,
    name: &str,
    generate: impl FnOnce() -> String,
) -> Result<String, ConfigError> {
    let path = dir.join("secrets").join(name);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_owned();
        if !existing.is_empty() {
            return Ok(existing);
        }
    }
    let err = |source| ConfigError::SecretFile {
        path: path.clone(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    let value = generate();
    write_private(&path, &value).map_err(err)?;
    Ok(value)
}

#[cfg(unix)]
fn write_private(path: &Path, value: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(value.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, value: &str) -> std::io::Result<()> {
    std::fs::write(path, value)
}

fn parse<T: FromStr>(
    variable: &'static str,
    value: Option<String>,
    default: T,
) -> Result<T, ConfigError>
where
    T::Err: fmt::Display,
{
    match value {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|e| invalid(variable, format!("`{raw}`: {e}"))),
    }
}

fn list(value: Option<String>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Config {
    /// Read `.env` (if present) then the process environment.
    ///
    /// # Errors
    /// A variable that does not parse, or a missing/weak secret in production.
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is the normal case; a malformed one is worth a warning, not a refusal.
        if let Err(err) = dotenvy::dotenv()
            && !err.not_found()
        {
            eprintln!("warning: ignoring unreadable .env file: {err}");
        }
        Self::from_lookup(|key| std::env::var(key).ok().filter(|v| !v.is_empty()))
    }

    /// Build from any variable source (tests pass a map).
    ///
    /// # Errors
    /// A variable that does not parse, or a missing/weak secret in production.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let app_env = match get("APP_ENV").as_deref() {
            None | Some("development" | "dev") => AppEnv::Development,
            Some("test") => AppEnv::Test,
            Some("production" | "prod") => AppEnv::Production,
            Some(other) => {
                return Err(invalid(
                    "APP_ENV",
                    format!("`{other}`: expected development, test or production"),
                ));
            }
        };
        let data_dir = PathBuf::from(get("DATA_DIR").unwrap_or_else(|| "./data".to_owned()));
        let database_url = get("DATABASE_URL").unwrap_or_else(|| {
            format!("sqlite://{}?mode=rwc", data_dir.join("presta.db").display())
        });
        if !(database_url.starts_with("sqlite:") || database_url.starts_with("postgres")) {
            return Err(invalid(
                "DATABASE_URL",
                "expected sqlite://<file> or postgres://<user>@<host>/<db>",
            ));
        }

        let jwt_secret = match get("JWT_SECRET") {
            Some(secret) => {
                if app_env.is_production()
                    && let Some(reason) = weak_secret_reason(&secret)
                {
                    return Err(invalid("JWT_SECRET", reason));
                }
                if secret.len() < MIN_JWT_SECRET_LEN {
                    return Err(invalid(
                        "JWT_SECRET",
                        format!("must be at least {MIN_JWT_SECRET_LEN} bytes"),
                    ));
                }
                secret
            }
            None if app_env.is_production() => {
                return Err(invalid(
                    "JWT_SECRET",
                    "is required in production (32+ random bytes, e.g. `openssl rand -base64 48`)",
                ));
            }
            None => dev_secret(&data_dir, "jwt_secret", || {
                BASE64.encode(random_bytes::<48>())
            })?,
        };

        let encryption_key = match get("ENCRYPTION_KEY") {
            Some(raw) => decode_key(&raw).ok_or_else(|| {
                invalid(
                    "ENCRYPTION_KEY",
                    "must be 32 bytes, base64 or hex encoded (e.g. `openssl rand -base64 32`)",
                )
            })?,
            None if app_env.is_production() => {
                return Err(invalid(
                    "ENCRYPTION_KEY",
                    "is required in production (32 random bytes, base64: `openssl rand -base64 32`)",
                ));
            }
            None => {
                let raw = dev_secret(&data_dir, "encryption_key", || {
                    BASE64.encode(random_bytes::<32>())
                })?;
                decode_key(&raw).ok_or_else(|| {
                    invalid(
                        "ENCRYPTION_KEY",
                        "the generated key in the data folder is corrupt; delete it to regenerate",
                    )
                })?
            }
        };
        if app_env.is_production() && encryption_key.iter().all(|b| *b == encryption_key[0]) {
            return Err(invalid("ENCRYPTION_KEY", "is not random"));
        }

        let s3 = get("S3_BUCKET").map(|bucket| S3Config {
            bucket,
            region: get("S3_REGION"),
            endpoint: get("S3_ENDPOINT"),
            access_key_id: get("S3_ACCESS_KEY_ID"),
            secret_access_key: get("S3_SECRET_ACCESS_KEY").map(SecretString::from),
            allow_http: get("S3_ALLOW_HTTP").is_some_and(|v| v == "true" || v == "1"),
        });

        let trusted_proxies = list(get("TRUSTED_PROXIES"))
            .into_iter()
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        invalid(
                            "TRUSTED_PROXIES",
                            format!("`{entry}` is not an IP address or CIDR range"),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;

        let log_format = match get("LOG_FORMAT").as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(invalid(
                    "LOG_FORMAT",
                    format!("`{other}`: expected pretty or json"),
                ));
            }
        };

        let cors_origins = list(get("CORS_ORIGINS"));
        if let Some(bad) = cors_origins.iter().find(|o| !valid_origin(o)) {
            return Err(invalid(
                "CORS_ORIGINS",
                format!(
                    "`{bad}` is not an origin like https://app.example.com (and `*` is refused: \
                     any site could then call the API with a user's token)"
                ),
            ));
        }
        let job_poll_ms: u64 = parse("JOB_POLL_INTERVAL_MS", get("JOB_POLL_INTERVAL_MS"), 1000)?;
        let job_lease_s: u64 = parse("JOB_LEASE_SECONDS", get("JOB_LEASE_SECONDS"), 60)?;
        let job_retry_ms: u64 = parse("JOB_RETRY_BASE_MS", get("JOB_RETRY_BASE_MS"), 5000)?;
        if job_poll_ms < 5 {
            return Err(invalid("JOB_POLL_INTERVAL_MS", "must be at least 5"));
        }
        if job_lease_s == 0 {
            return Err(invalid("JOB_LEASE_SECONDS", "must be at least 1"));
        }
        if job_retry_ms == 0 {
            return Err(invalid("JOB_RETRY_BASE_MS", "must be at least 1"));
        }

        let host = get("HOST").unwrap_or_else(|| "127.0.0.1".to_owned());
        let port: u16 = parse("PORT", get("PORT"), 8080)?;
        let public_url = get("PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{host}:{port}"))
            .trim_end_matches('/')
            .to_owned();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(invalid("PUBLIC_URL", "must start with http:// or https://"));
        }

        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let job_workers: usize = parse("JOB_WORKERS", get("JOB_WORKERS"), 2)?;
        let http_workers: usize = parse(
            "HTTP_WORKERS",
            get("HTTP_WORKERS"),
            default_http_workers(cores),
        )?;
        if http_workers == 0 {
            return Err(invalid("HTTP_WORKERS", "must be at least 1"));
        }
        let sla_targets = parse_sla_targets(
            &get("SLA_TARGETS").unwrap_or_else(|| DEFAULT_SLA_TARGETS.to_owned()),
        )
        .map_err(|m| invalid("SLA_TARGETS", m))?;
        let sla_warning_percent: u8 = parse("SLA_WARNING_PERCENT", get("SLA_WARNING_PERCENT"), 75)?;
        if !(1..=99).contains(&sla_warning_percent) {
            return Err(invalid("SLA_WARNING_PERCENT", "must be between 1 and 99"));
        }
        let sla_scan_s: u64 = parse(
            "SLA_SCAN_INTERVAL_SECONDS",
            get("SLA_SCAN_INTERVAL_SECONDS"),
            60,
        )?;
        let export_wait_ms: u64 = parse("EXPORT_WAIT_MS", get("EXPORT_WAIT_MS"), 10_000)?;
        let export_ttl_h: u64 = parse("EXPORT_TTL_HOURS", get("EXPORT_TTL_HOURS"), 24)?;
        let download_link_min: u64 =
            parse("DOWNLOAD_LINK_MINUTES", get("DOWNLOAD_LINK_MINUTES"), 60)?;
        let ws_recheck_s: u64 = parse("WS_RECHECK_SECONDS", get("WS_RECHECK_SECONDS"), 60)?;
        for (variable, value) in [
            ("SLA_SCAN_INTERVAL_SECONDS", sla_scan_s),
            ("EXPORT_TTL_HOURS", export_ttl_h),
            ("DOWNLOAD_LINK_MINUTES", download_link_min),
            ("WS_RECHECK_SECONDS", ws_recheck_s),
        ] {
            if value == 0 {
                return Err(invalid(variable, "must be at least 1"));
            }
        }
        let default_currency = get("DEFAULT_CURRENCY").unwrap_or_else(|| "EUR".to_owned());
        let planning_timezone =
            get("PLANNING_TIMEZONE").unwrap_or_else(|| "Europe/Paris".to_owned());
        if !(default_currency.len() == 3
            && default_currency.bytes().all(|b| b.is_ascii_uppercase()))
        {
            return Err(invalid(
                "DEFAULT_CURRENCY",
                "must be an ISO 4217 code such as EUR or XOF",
            ));
        }
        let default_pool = if database_url.starts_with("sqlite:") {
            8
        } else {
            16
        };

        Ok(Self {
            app_env,
            host,
            port,
            http_workers,
            db_max_connections: parse(
                "DB_MAX_CONNECTIONS",
                get("DB_MAX_CONNECTIONS"),
                default_pool,
            )?,
            db_statement_timeout: match parse(
                "DB_STATEMENT_TIMEOUT_MS",
                get("DB_STATEMENT_TIMEOUT_MS"),
                30_000_u32,
            )? {
                0 => None,
                // PostgreSQL takes at most i32::MAX milliseconds.
                ms if i32::try_from(ms).is_err() => {
                    return Err(invalid(
                        "DB_STATEMENT_TIMEOUT_MS",
                        "must be at most 2147483647 (0: no limit)",
                    ));
                }
                ms => Some(Duration::from_millis(u64::from(ms))),
            },
            database_url,
            data_dir,
            redis_url: get("REDIS_URL"),
            redis_prefix: get("REDIS_PREFIX").unwrap_or_else(|| "presta".to_owned()),
            jwt_secret: SecretString::from(jwt_secret),
            encryption_key: EncryptionKey::from_bytes(encryption_key),
            smtp_url: get("SMTP_URL").map(SecretString::from),
            s3,
            admin_email: get("ADMIN_EMAIL"),
            admin_password: get("ADMIN_PASSWORD").map(SecretString::from),
            trusted_proxies,
            cors_origins,
            log_format,
            rust_log: get("RUST_LOG").unwrap_or_else(|| "info".to_owned()),
            rate_limit_default: parse(
                "RATE_LIMIT_DEFAULT",
                get("RATE_LIMIT_DEFAULT"),
                Quota {
                    per_minute: 1200,
                    burst: 200,
                },
            )?,
            rate_limit_auth: parse(
                "RATE_LIMIT_AUTH",
                get("RATE_LIMIT_AUTH"),
                Quota {
                    per_minute: 10,
                    burst: 10,
                },
            )?,
            rate_limit_public: parse(
                "RATE_LIMIT_PUBLIC",
                get("RATE_LIMIT_PUBLIC"),
                Quota {
                    per_minute: 60,
                    burst: 30,
                },
            )?,
            job_workers,
            job_poll_interval: Duration::from_millis(job_poll_ms),
            job_lease: Duration::from_secs(job_lease_s),
            job_retry_base: Duration::from_millis(job_retry_ms),
            metrics_token: get("METRICS_TOKEN").map(SecretString::from),
            public_url,
            mail_from: get("MAIL_FROM")
                .unwrap_or_else(|| "Presta <no-reply@presta.local>".to_owned()),
            sla_targets,
            sla_warning_percent,
            sla_scan_interval: Duration::from_secs(sla_scan_s),
            export_wait: Duration::from_millis(export_wait_ms),
            export_ttl: Duration::from_secs(export_ttl_h * 3600),
            download_link_ttl: Duration::from_secs(download_link_min * 60),
            default_currency,
            planning_timezone,
            ws_recheck_interval: Duration::from_secs(ws_recheck_s),
            seller: Seller {
                name: get("SELLER_NAME").unwrap_or_else(|| "Presta SAS".to_owned()),
                address: get("SELLER_ADDRESS")
                    .unwrap_or_else(|| "10 rue de la Paix\n75002 Paris\nFrance".to_owned())
                    .replace("\\n", "\n"),
                vat_number: get("SELLER_VAT_NUMBER"),
                registration: get("SELLER_REGISTRATION"),
                iban: get("SELLER_IBAN"),
                email: get("SELLER_EMAIL"),
            },
        })
    }

    /// `host:port` to bind.
    #[must_use]
    pub fn bind_address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    #[must_use]
    pub fn files_dir(&self) -> PathBuf {
        self.data_dir.join("files")
    }

    #[must_use]
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

/// How many HTTP workers to run on `cores` cores by default: one per core, on either database.
/// On SQLite it was half the cores while every statement ran on its pool connection's own
/// thread in this process (a worker per core and those threads took the cores from each other:
/// the ticket detail 15 to 45 % slower). Since the account check and a ticket's detail read the
/// file on the worker's own thread (`shared::db::InlineReads`, bench/RESULTS.md item 32), the
/// worker does that work itself, and a worker per core measured faster on 2 cores (one worker
/// against two, alternated, load generator on the same machine): the ticket detail +44 to
/// +53 %, the ticket list +13 to +37 %, `/api/auth/me` +2 to +24 %, the client portal's lists
/// +4 to +24 %, the creates within the noise (−6 to +2 %), for 10 to 14 MiB more peak memory.
/// PostgreSQL runs its statements in its own processes, and a worker per core measured as fast
/// or faster there.
#[must_use]
pub fn default_http_workers(cores: usize) -> usize {
    cores.max(1)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    const STRONG: &str = "q8Zr2LmX4vT7nB1cK9wE5yH3jD6fG0aPsUoIiQ";
    const KEY: &str = "3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE=";

    #[test]
    fn http_workers_default_to_every_core() {
        let postgres = "postgres://presta@db/presta";
        assert_eq!(default_http_workers(0), 1);
        assert_eq!(default_http_workers(1), 1);
        assert_eq!(default_http_workers(2), 2);
        assert_eq!(default_http_workers(8), 8);
        let dir = tempfile_dir();
        let d = dir.to_str().unwrap();
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let defaults = config(&[("DATA_DIR", d)]).unwrap();
        assert_eq!(defaults.http_workers, cores);
        let on_postgres = config(&[("DATA_DIR", d), ("DATABASE_URL", postgres)]).unwrap();
        assert_eq!(on_postgres.http_workers, cores);
        let set = config(&[("DATA_DIR", d), ("HTTP_WORKERS", "3")]).unwrap();
        assert_eq!(set.http_workers, 3);
        assert!(config(&[("DATA_DIR", d), ("HTTP_WORKERS", "0")]).is_err());
    }

    #[test]
    fn sla_targets_parse_and_refuse_nonsense() {
        let targets = parse_sla_targets(DEFAULT_SLA_TARGETS).unwrap();
        assert_eq!(targets.len(), 4);
        assert_eq!(targets[0].priority, "critique");
        assert_eq!(targets[0].first_response, Duration::from_secs(4 * 3600));
        assert_eq!(targets[3].resolution, Duration::from_secs(240 * 3600));
        assert_eq!(
            parse_sla_targets("haute=30m/2d").unwrap()[0].first_response,
            Duration::from_secs(1800)
        );
        for bad in [
            "haute",
            "haute=4h",
            "haute=4x/8h",
            "haute=8h/4h",
            "a=1h/2h,a=1h/2h",
            "b=0h/1h",
        ] {
            assert!(parse_sla_targets(bad).is_err(), "{bad}");
        }
        assert!(config(&[("SLA_TARGETS", "haute=4x/8h")]).is_err());
        assert!(config(&[("SLA_WARNING_PERCENT", "100")]).is_err());
        assert!(config(&[("DEFAULT_CURRENCY", "euro")]).is_err());
    }

    #[test]
    fn a_fresh_machine_gets_working_defaults() {
        let dir = tempfile_dir();
        let cfg = config(&[("DATA_DIR", dir.to_str().unwrap())]).unwrap();
        assert_eq!(cfg.port, 8080);
        assert_eq!(cfg.host, "127.0.0.1");
        assert!(cfg.database_url.starts_with("sqlite://"));
        assert!(cfg.database_url.ends_with("presta.db?mode=rwc"));
        assert!(cfg.jwt_secret.expose_secret().len() >= MIN_JWT_SECRET_LEN);
        assert_eq!(cfg.db_statement_timeout, Some(Duration::from_secs(30)));
        // The generated secret is kept: a second start reads the same one.
        let again = config(&[("DATA_DIR", dir.to_str().unwrap())]).unwrap();
        assert_eq!(
            cfg.jwt_secret.expose_secret(),
            again.jwt_secret.expose_secret()
        );
        assert_eq!(cfg.encryption_key.bytes(), again.encryption_key.bytes());
        std::fs::remove_dir_all(dir).ok();
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("presta-config-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn production_refuses_missing_secrets() {
        let err = config(&[("APP_ENV", "production"), ("ENCRYPTION_KEY", KEY)]).unwrap_err();
        assert!(err.to_string().starts_with("JWT_SECRET"), "{err}");
        let err = config(&[("APP_ENV", "production"), ("JWT_SECRET", STRONG)]).unwrap_err();
        assert!(err.to_string().starts_with("ENCRYPTION_KEY"), "{err}");
        assert!(
            config(&[
                ("APP_ENV", "production"),
                ("JWT_SECRET", STRONG),
                ("ENCRYPTION_KEY", KEY)
            ])
            .is_ok()
        );
    }

    #[test]
    fn production_refuses_weak_secrets() {
        for weak in [
            "short",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "changeme-changeme-changeme-changeme-1234567890",
        ] {
            let err = config(&[
                ("APP_ENV", "production"),
                ("JWT_SECRET", weak),
                ("ENCRYPTION_KEY", KEY),
            ])
            .unwrap_err();
            assert!(err.to_string().starts_with("JWT_SECRET"), "{weak}: {err}");
        }
        let err = config(&[
            ("APP_ENV", "production"),
            ("JWT_SECRET", STRONG),
            ("ENCRYPTION_KEY", "too-short"),
        ])
        .unwrap_err();
        assert!(err.to_string().starts_with("ENCRYPTION_KEY"), "{err}");
    }

    #[test]
    fn debug_output_hides_credentials() {
        let dir = tempfile_dir();
        let cfg = config(&[
            ("DATA_DIR", dir.to_str().unwrap()),
            ("DATABASE_URL", "postgres://presta:pg-pass-1@db:5432/presta"),
            ("REDIS_URL", "redis://:redis-pass-2@cache:6379"),
            ("SMTP_URL", "smtp://mailer:smtp-pass-3@mail:587"),
            ("METRICS_TOKEN", "metrics-token-4"),
        ])
        .unwrap();
        let text = format!("{cfg:?}");
        for secret in [
            "pg-pass-1",
            "redis-pass-2",
            "smtp-pass-3",
            "metrics-token-4",
        ] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        assert!(!text.contains(cfg.jwt_secret.expose_secret()));
        assert!(
            text.contains("postgres://presta:***@db:5432/presta"),
            "{text}"
        );
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn cors_origins_and_job_timings_are_checked() {
        let dir = tempfile_dir();
        let d = dir.to_str().unwrap();
        assert!(
            config(&[
                ("DATA_DIR", d),
                (
                    "CORS_ORIGINS",
                    "https://app.example.com, http://localhost:5173"
                )
            ])
            .is_ok()
        );
        for bad in [
            "*",
            "app.example.com",
            "https://app.example.com/path",
            "ftp://x",
        ] {
            assert!(
                config(&[("DATA_DIR", d), ("CORS_ORIGINS", bad)]).is_err(),
                "{bad}"
            );
        }
        assert!(config(&[("DATA_DIR", d), ("JOB_LEASE_SECONDS", "0")]).is_err());
        assert!(config(&[("DATA_DIR", d), ("JOB_POLL_INTERVAL_MS", "0")]).is_err());
        let off = config(&[("DATA_DIR", d), ("DB_STATEMENT_TIMEOUT_MS", "0")]).unwrap();
        assert_eq!(off.db_statement_timeout, None);
        let err = config(&[("DATA_DIR", d), ("DB_STATEMENT_TIMEOUT_MS", "-1")]).unwrap_err();
        assert!(
            err.to_string().starts_with("DB_STATEMENT_TIMEOUT_MS"),
            "{err}"
        );
        let err =
            config(&[("DATA_DIR", d), ("DB_STATEMENT_TIMEOUT_MS", "2147483648")]).unwrap_err();
        assert!(
            err.to_string().starts_with("DB_STATEMENT_TIMEOUT_MS"),
            "{err}"
        );
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn quotas_and_proxies_parse() {
        assert_eq!(
            "600/min,burst=50".parse::<Quota>().unwrap(),
            Quota {
                per_minute: 600,
                burst: 50
            }
        );
        assert!("0/min".parse::<Quota>().is_err());
        assert!("10/sec".parse::<Quota>().is_err());
        let dir = tempfile_dir();
        let cfg = config(&[
            ("DATA_DIR", dir.to_str().unwrap()),
            ("TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1"),
        ])
        .unwrap();
        assert_eq!(cfg.trusted_proxies.len(), 2);
        assert!(
            config(&[
                ("DATA_DIR", dir.to_str().unwrap()),
                ("TRUSTED_PROXIES", "nope")
            ])
            .is_err()
        );
        assert!(config(&[("DATA_DIR", dir.to_str().unwrap()), ("PORT", "http")]).is_err());
        std::fs::remove_dir_all(dir).ok();
    }
}
