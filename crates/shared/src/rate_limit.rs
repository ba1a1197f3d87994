//! Rate limiting (conventions §7): GCRA per key, in named buckets with their own quotas.
//!
//! - The key is the authenticated user when the authentication layer verified one (it inserts a
//!   [`Principal`] into the request extensions), otherwise the client IP resolved by the
//!   request-context middleware (trusted proxies only); IPv6 clients are keyed by their /64, the
//!   block one subscriber controls.
//! - The bucket is chosen from the decoded path (what the router matches), so percent-encoding
//!   a credential path cannot move it to the lenient bucket.
//! - `auth` bucket: the credential endpoints (login, 2FA, password reset), always per IP, with a
//!   strict quota. `default` bucket: everything else under `/api` and `/v1`. Probes, metrics and
//!   the API documentation are not limited.
//! - Store: in-process (`governor`, idle keys evicted so memory stays bounded) by default; Redis
//!   (one Lua script, the same GCRA, Redis' clock) when `REDIS_URL` is set, so every instance
//!   spends one shared budget. If Redis fails the process falls back to its local store rather
//!   than refusing traffic or letting it through unmetered.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use actix_web::HttpMessage;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{HeaderName, HeaderValue};
use futures_util::future::{LocalBoxFuture, Ready, ready};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;

use crate::config::Quota;
use crate::error::AppError;
use crate::request::{Principal, RequestContext, error_response};

/// Named buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    Default,
    Auth,
    /// Public links guarded by a secret (shared documents): per IP, their own quota, so
    /// opening shared files never uses up the login budget of an office behind one address.
    Public,
}

impl Bucket {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Auth => "auth",
            Self::Public => "public",
        }
    }
}

/// Result of spending one unit of a budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Burst capacity of the bucket (`X-RateLimit-Limit`).
    pub limit: u32,
    /// What is left right now (`X-RateLimit-Remaining`).
    pub remaining: u32,
    /// When refused: how long until one more request is admitted.
    pub retry_after: Duration,
}

type KeyedLimiter = governor::RateLimiter<
    String,
    DefaultKeyedStateStore<String>,
    DefaultClock,
    StateInformationMiddleware,
>;

/// In-process GCRA store.
pub struct MemoryStore {
    limiters: HashMap<Bucket, (Quota, KeyedLimiter)>,
    clock: DefaultClock,
}

fn governor_quota(quota: Quota) -> governor::Quota {
    let burst = NonZeroU32::new(quota.burst.max(1)).unwrap_or(NonZeroU32::MIN);
    governor::Quota::with_period(quota.emission_interval())
        .unwrap_or_else(|| governor::Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
}

impl MemoryStore {
    #[must_use]
    pub fn new(quotas: &HashMap<Bucket, Quota>) -> Self {
        let limiters = quotas
            .iter()
            .map(|(bucket, quota)| {
                let limiter = governor::RateLimiter::keyed(governor_quota(*quota))
                    .with_middleware::<StateInformationMiddleware>();
                (*bucket, (*quota, limiter))
            })
            .collect();
        Self {
            limiters,
            clock: DefaultClock::default(),
        }
    }

    #[must_use]
    pub fn check(&self, bucket: Bucket, key: &str) -> Decision {
        let Some((quota, limiter)) = self.limiters.get(&bucket) else {
            return Decision {
                allowed: true,
                limit: 0,
                remaining: 0,
                retry_after: Duration::ZERO,
            };
        };
        match limiter.check_key(&key.to_owned()) {
            Ok(snapshot) => Decision {
                allowed: true,
                limit: quota.burst,
                remaining: snapshot.remaining_burst_capacity(),
                retry_after: Duration::ZERO,
            },
            Err(not_until) => Decision {
                allowed: false,
                limit: quota.burst,
                remaining: 0,
                retry_after: not_until.wait_time_from(self.clock.now()),
            },
        }
    }

    /// Forget keys whose budget is full again (indistinguishable from a new key).
    pub fn evict_idle(&self) {
        for (_, limiter) in self.limiters.values() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// Keys currently tracked, all buckets together.
    #[must_use]
    pub fn len(&self) -> usize {
        self.limiters.values().map(|(_, l)| l.len()).sum()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// GCRA in one atomic step on the Redis server's clock (microseconds). Returns
/// `{allowed, retry_after_us, remaining}`. The key expires when the bucket is full again.
const GCRA_LUA: &str = r"
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then tat = now end
local tolerance = interval * burst
local new_tat = tat + interval
local allow_at = new_tat - tolerance
if allow_at > now then
  return {0, allow_at - now, 0}
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
return {1, 0, math.floor((tolerance - (new_tat - now)) / interval)}
";

/// Shared store: one budget across every server instance using the same Redis.
pub struct RedisStore {
    connection: redis::aio::ConnectionManager,
    script: redis::Script,
    prefix: String,
}

impl RedisStore {
    /// Connect (and fail fast if Redis is unreachable at start-up).
    ///
    /// # Errors
    /// The URL is invalid or Redis does not answer.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_millis(500)))
            .set_number_of_retries(2);
        let connection = redis::aio::ConnectionManager::new_with_config(client, config).await?;
        Ok(Self {
            connection,
            script: redis::Script::new(GCRA_LUA),
            prefix: prefix.to_owned(),
        })
    }

    /// Spend one unit of `key`'s budget in `bucket`.
    ///
    /// # Errors
    /// Redis is unreachable or answered something unexpected.
    pub async fn check(
        &self,
        bucket: Bucket,
        quota: Quota,
        key: &str,
    ) -> Result<Decision, redis::RedisError> {
        let interval_us = u64::try_from(quota.emission_interval().as_micros()).unwrap_or(u64::MAX);
        let mut connection = self.connection.clone();
        let (allowed, retry_after_us, remaining): (i64, i64, i64) = self
            .script
            .key(format!("{}:rl:{}:{key}", self.prefix, bucket.name()))
            .arg(interval_us)
            .arg(quota.burst)
            .invoke_async(&mut connection)
            .await?;
        Ok(Decision {
            allowed: allowed == 1,
            limit: quota.burst,
            remaining: u32::try_from(remaining.max(0)).unwrap_or(u32::MAX),
            retry_after: Duration::from_micros(u64::try_from(retry_after_us.max(0)).unwrap_or(0)),
        })
    }
}

/// Which bucket a path spends from (`None`: not limited).
#[derive(Debug, Clone)]
pub struct RateLimitPolicy {
    pub default: Quota,
    pub auth: Quota,
    /// Exact paths of the credential endpoints.
    pub auth_paths: Vec<String>,
    /// Budget of the public links.
    pub public: Quota,
    /// Path prefixes of public links guarded by a secret: they spend the `public` bucket.
    pub public_prefixes: Vec<String>,
    /// Path prefixes that are never limited (probes, metrics, docs).
    pub exempt_prefixes: Vec<String>,
}

impl RateLimitPolicy {
    #[must_use]
    pub fn new(default: Quota, auth: Quota) -> Self {
        Self {
            default,
            auth,
            auth_paths: Vec::new(),
            public: auth,
            public_prefixes: Vec::new(),
            exempt_prefixes: ["/health", "/ready", "/metrics", "/docs", "/api-docs"]
                .map(str::to_owned)
                .to_vec(),
        }
    }

    /// The credential endpoints (exact paths) that spend the `auth` bucket.
    #[must_use]
    pub fn with_auth_paths(mut self, paths: &[&str]) -> Self {
        self.auth_paths = paths.iter().map(|p| (*p).to_owned()).collect();
        self
    }

    /// Path prefixes (`/api/public/shares`) whose routes spend the `public` bucket, with its
    /// quota.
    #[must_use]
    pub fn with_public_prefixes(mut self, quota: Quota, prefixes: &[&str]) -> Self {
        self.public = quota;
        self.public_prefixes = prefixes.iter().map(|p| (*p).to_owned()).collect();
        self
    }

    #[must_use]
    pub fn bucket_for(&self, path: &str) -> Option<Bucket> {
        let path = path.trim_end_matches('/');
        if self
            .exempt_prefixes
            .iter()
            .any(|prefix| path == prefix || path.starts_with(&format!("{prefix}/")))
        {
            return None;
        }
        if self.auth_paths.iter().any(|p| p == path) {
            return Some(Bucket::Auth);
        }
        if self
            .public_prefixes
            .iter()
            .any(|prefix| path.starts_with(&format!("{prefix}/")))
        {
            return Some(Bucket::Public);
        }
        Some(Bucket::Default)
    }

    fn quotas(&self) -> HashMap<Bucket, Quota> {
        HashMap::from([
            (Bucket::Default, self.default),
            (Bucket::Auth, self.auth),
            (Bucket::Public, self.public),
        ])
    }
}

/// The limiter: policy plus store(s). Build once per process and share it.
pub struct RateLimiter {
    policy: RateLimitPolicy,
    memory: MemoryStore,
    redis: Option<RedisStore>,
    last_redis_warning: AtomicU64,
    started: Instant,
}

impl RateLimiter {
    #[must_use]
    pub fn in_memory(policy: RateLimitPolicy) -> Self {
        Self {
            memory: MemoryStore::new(&policy.quotas()),
            policy,
            redis: None,
            last_redis_warning: AtomicU64::new(0),
            started: Instant::now(),
        }
    }

    #[must_use]
    pub fn with_redis(policy: RateLimitPolicy, redis: RedisStore) -> Self {
        let mut limiter = Self::in_memory(policy);
        limiter.redis = Some(redis);
        limiter
    }

    #[must_use]
    pub fn policy(&self) -> &RateLimitPolicy {
        &self.policy
    }

    #[must_use]
    pub fn memory(&self) -> &MemoryStore {
        &self.memory
    }

    #[must_use]
    pub fn is_shared(&self) -> bool {
        self.redis.is_some()
    }

    /// Spend one unit of `key`'s budget in `bucket`.
    pub async fn check(&self, bucket: Bucket, key: &str) -> Decision {
        if let Some(redis) = &self.redis {
            let quota = match bucket {
                Bucket::Default => self.policy.default,
                Bucket::Auth => self.policy.auth,
                Bucket::Public => self.policy.public,
            };
            match redis.check(bucket, quota, key).await {
                Ok(decision) => return decision,
                Err(err) => self.warn_redis_down(&err),
            }
        }
        self.memory.check(bucket, key)
    }

    /// At most one warning every 30 s while Redis is down.
    fn warn_redis_down(&self, err: &redis::RedisError) {
        let now = self.started.elapsed().as_secs();
        let last = self.last_redis_warning.load(Ordering::Relaxed);
        if (last == 0 || now >= last + 30)
            && self
                .last_redis_warning
                .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(error = %err, "redis rate-limit store failed; using the local store");
        }
    }

    /// Evict idle keys every `every` for as long as the limiter lives.
    pub fn spawn_eviction(self: &Arc<Self>, every: Duration) {
        let weak: Weak<Self> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                match weak.upgrade() {
                    Some(limiter) => limiter.memory.evict_idle(),
                    None => break,
                }
            }
        });
    }
}

/// `ip:<addr>` for IPv4, `ip6:<first 64 bits>` for IPv6.
#[must_use]
pub fn ip_key(ip: Option<std::net::IpAddr>) -> String {
    match ip.map(|ip| ip.to_canonical()) {
        Some(std::net::IpAddr::V4(v4)) => format!("ip:{v4}"),
        Some(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("ip6:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        None => "ip:unknown".to_owned(),
    }
}

/// The middleware factory.
#[derive(Clone)]
pub struct RateLimit {
    limiter: Arc<RateLimiter>,
}

impl RateLimit {
    #[must_use]
    pub fn new(limiter: Arc<RateLimiter>) -> Self {
        Self { limiter }
    }
}

impl<S, B> Transform<S, ServiceRequest> for RateLimit
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Transform = RateLimitService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RateLimitService {
            service: Rc::new(service),
            limiter: Arc::clone(&self.limiter),
        }))
    }
}

pub struct RateLimitService<S> {
    service: Rc<S>,
    limiter: Arc<RateLimiter>,
}

fn set_header(res: &mut ServiceResponse<BoxBody>, name: &'static str, value: u32) {
    if let Ok(value) = HeaderValue::from_str(&value.to_string()) {
        res.headers_mut()
            .insert(HeaderName::from_static(name), value);
    }
}

impl<S, B> Service<ServiceRequest> for RateLimitService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        // The decoded path, as the router sees it (`/api/auth/logi%6E` is the login route).
        let Some(bucket) = self.limiter.policy.bucket_for(req.match_info().as_str()) else {
            return Box::pin(async move { Ok(service.call(req).await?.map_into_boxed_body()) });
        };
        let ip = req
            .extensions()
            .get::<RequestContext>()
            .and_then(|ctx| ctx.client_ip)
            .or_else(|| req.peer_addr().map(|a| a.ip()));
        let principal = req.extensions().get::<Principal>().cloned();
        let key = match (bucket, principal) {
            (Bucket::Default, Some(Principal(principal))) => principal,
            _ => ip_key(ip),
        };
        let limiter = Arc::clone(&self.limiter);
        Box::pin(async move {
            let decision = limiter.check(bucket, &key).await;
            if !decision.allowed {
                tracing::info!(bucket = bucket.name(), key = %key, "rate limited");
                let err = AppError::RateLimited {
                    retry_after: decision.retry_after,
                    limit: decision.limit,
                };
                return Ok(error_response(req, &err));
            }
            let mut res = service.call(req).await?.map_into_boxed_body();
            set_header(&mut res, "x-ratelimit-limit", decision.limit);
            set_header(&mut res, "x-ratelimit-remaining", decision.remaining);
            Ok(res)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(burst: u32) -> RateLimitPolicy {
        RateLimitPolicy::new(
            Quota {
                per_minute: 60,
                burst,
            },
            Quota {
                per_minute: 6,
                burst: 2,
            },
        )
        .with_auth_paths(&["/api/auth/login"])
    }

    #[test]
    fn the_burst_is_admitted_then_refused_with_a_wait() {
        let limiter = RateLimiter::in_memory(policy(3));
        let decisions: Vec<Decision> = (0..4)
            .map(|_| limiter.memory.check(Bucket::Default, "ip:1"))
            .collect();
        assert_eq!(
            decisions.iter().map(|d| d.remaining).collect::<Vec<_>>(),
            [2, 1, 0, 0]
        );
        assert!(decisions[..3].iter().all(|d| d.allowed));
        assert!(!decisions[3].allowed);
        // 60/min: one more request is admitted within a second.
        assert!(decisions[3].retry_after <= Duration::from_secs(1));
        assert!(decisions[3].retry_after > Duration::ZERO);
    }

    #[test]
    fn keys_and_buckets_are_isolated() {
        let limiter = RateLimiter::in_memory(policy(1));
        assert!(limiter.memory.check(Bucket::Default, "ip:1").allowed);
        assert!(!limiter.memory.check(Bucket::Default, "ip:1").allowed);
        assert!(limiter.memory.check(Bucket::Default, "ip:2").allowed);
        assert!(limiter.memory.check(Bucket::Auth, "ip:1").allowed);
    }

    #[test]
    fn idle_keys_are_evicted() {
        let limiter = RateLimiter::in_memory(RateLimitPolicy::new(
            Quota {
                per_minute: 600_000,
                burst: 1,
            },
            Quota {
                per_minute: 600_000,
                burst: 1,
            },
        ));
        for i in 0..100 {
            let _ = limiter.memory.check(Bucket::Default, &format!("ip:{i}"));
        }
        assert_eq!(limiter.memory.len(), 100);
        std::thread::sleep(Duration::from_millis(20));
        limiter.memory.evict_idle();
        assert_eq!(limiter.memory.len(), 0);
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_slash_64() {
        let a = ip_key(Some("2001:db8:1:2:aaaa::1".parse().unwrap()));
        let b = ip_key(Some("2001:db8:1:2:bbbb::9".parse().unwrap()));
        let c = ip_key(Some("2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            ip_key(Some("::ffff:192.0.2.1".parse().unwrap())),
            "ip:192.0.2.1"
        );
    }

    #[test]
    fn credential_paths_use_the_auth_bucket_and_probes_are_free() {
        let p = policy(1);
        assert_eq!(p.bucket_for("/api/auth/login"), Some(Bucket::Auth));
        assert_eq!(p.bucket_for("/api/auth/login/"), Some(Bucket::Auth));
        assert_eq!(p.bucket_for("/api/auth/me"), Some(Bucket::Default));
        assert_eq!(p.bucket_for("/api/client/projects"), Some(Bucket::Default));
        assert_eq!(p.bucket_for("/health"), None);
        assert_eq!(p.bucket_for("/docs/index.html"), None);
        assert_eq!(p.bucket_for("/healthcheck"), Some(Bucket::Default));
    }
}
