//! Password hashing: Argon2id with OWASP's m = 7 MiB, t = 5, p = 1 (one of the five settings its
//! cheat sheet gives as equally strong: about the work per hash of m = 19 MiB, t = 2 (8 % less),
//! in a third of the memory), off the async runtime on threads of its own that yield the CPU to
//! the HTTP workers ([`HASHING_NICE`]), behind a semaphore sized to the cores, so a login storm
//! takes the CPU the other routes leave and cannot starve them. Hashes made with other
//! parameters (the m = 19 MiB, t = 2 of earlier versions) still verify, and
//! [`PasswordHasher::needs_rehash`] tells login to replace them.

use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use shared::AppError;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Memory (KiB), passes and lanes of new hashes.
const M_COST: u32 = 7_168;
const T_COST: u32 = 5;
const P_COST: u32 = 1;

/// How much lower than the process's the hashing threads' scheduling priority is (their nice
/// value; Linux keeps one per thread). A hash is about 20 ms of a core: at the same priority a
/// storm of logins on every core made each other request wait its turn behind them (the ticket
/// list's p99 3.5 → 11.5 ms during the benchmark's storm); below it, the scheduler runs a
/// worker as soon as it has work, and the hashes get the rest of the CPU, all of it when
/// nothing else runs (bench/RESULTS.md item 34).
pub const HASHING_NICE: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

/// The threads that hash, as many as the permits, at a lower priority; they stop with the
/// hasher (their queue closes).
struct Hashers {
    jobs: Sender<Job>,
}

impl Hashers {
    fn start(threads: usize) -> std::io::Result<Self> {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        let next = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
                        let Ok(job) = next else {
                            return;
                        };
                        // A job that panics loses its answer (its caller gets a 500), not the
                        // thread.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                })?;
        }
        Ok(Self { jobs })
    }

    /// Run `work` on a hashing thread and wait for its answer.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                // The caller may be gone (its request dropped): the hash is done anyway.
                let _ = answer.send(work());
            }))
            .map_err(|_| AppError::internal(std::io::Error::other("no hashing thread is left")))?;
        answered.await.map_err(AppError::internal)
    }
}

/// Lower the calling thread's scheduling priority by [`HASHING_NICE`] (Linux only: elsewhere a
/// nice value is the whole process's). Refused (a sandbox, say), the thread hashes at the
/// process's priority.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getpriority_process, setpriority_process};
        // `None`: the calling thread, for `setpriority(PRIO_PROCESS, 0)` on Linux.
        let lowered = getpriority_process(None)
            .and_then(|nice| setpriority_process(None, (nice + HASHING_NICE).min(19)));
        if let Err(e) = lowered {
            tracing::warn!(error = %e, "password hashing runs at the server's priority");
        }
    }
}

/// Hashes and verifies passwords.
pub struct PasswordHasher {
    /// The parameters of new hashes.
    params: Params,
    permits: Arc<Semaphore>,
    /// `None` where no thread could be started: hashes then run on tokio's blocking threads.
    hashers: Option<Hashers>,
    memory: Arc<MemoryPool>,
    /// Verified against when the account does not exist, so both failures cost the same.
    dummy_hash: String,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PasswordHasher(permits: {})",
            self.permits.available_permits()
        )
    }
}

/// Argon2's working memory (7 MiB), kept from one hash to the next: at most one per permit
/// (the permit travels with the hash into its thread, so a hash still running for a
/// request whose client went away keeps its permit). Allocated per hash instead, each of the
/// blocking threads that happened to run a hash kept its freed memory (the server held
/// 150 MiB after a login storm), and every hash paid for 7,000 fresh pages. Argon2 writes each
/// block before it reads it, so what a previous hash left in the memory does not change a
/// result.
struct MemoryPool {
    /// The block count of the current parameters: only memory of that size is kept.
    blocks: usize,
    /// At most this many memories are kept (the permits).
    keep: usize,
    free: Mutex<Vec<Vec<Block>>>,
}

/// `blocks` zeroed blocks, or `OutOfMemory` (a stored hash may ask for any size).
fn blocks_of(blocks: usize) -> Result<Vec<Block>, argon2::Error> {
    let mut memory = Vec::new();
    memory
        .try_reserve_exact(blocks)
        .map_err(|_| argon2::Error::OutOfMemory)?;
    memory.resize(blocks, Block::default());
    Ok(memory)
}

impl MemoryPool {
    /// Run `work` with memory of `blocks` blocks: a kept one when `blocks` is the current size
    /// (given back afterwards), else one allocated for this hash alone (a hash of older
    /// parameters).
    fn with<T>(
        &self,
        blocks: usize,
        work: impl FnOnce(&mut [Block]) -> T,
    ) -> Result<T, argon2::Error> {
        if blocks != self.blocks {
            return Ok(work(&mut blocks_of(blocks)?));
        }
        let kept = self
            .free
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut memory = match kept {
            Some(memory) => memory,
            None => blocks_of(blocks)?,
        };
        let result = work(&mut memory);
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        if free.len() < self.keep {
            free.push(memory);
        }
        Ok(result)
    }
}

/// Hash `password` with `salt`, `algorithm`, `version` and `params` (its output length
/// included), in memory from `pool`.
fn compute(
    pool: &MemoryPool,
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: &[u8],
) -> Result<Output, argon2::Error> {
    let mut out = [0u8; Output::MAX_LENGTH];
    let out = out
        .get_mut(..params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN))
        .ok_or(argon2::Error::OutputTooLong)?;
    let blocks = params.block_count();
    let argon = Argon2::new(algorithm, version, params);
    pool.with(blocks, |memory| {
        argon.hash_password_into_with_memory(password, salt, out, memory)
    })??;
    Output::new(out).map_err(|_| argon2::Error::OutputTooLong)
}

/// A new PHC string for `password` with the current parameters and a random salt.
fn hash_new(pool: &MemoryPool, params: &Params, password: &[u8]) -> Result<String, String> {
    let salt = Salt::generate();
    let output = compute(
        pool,
        Algorithm::Argon2id,
        Version::V0x13,
        params.clone(),
        password,
        &salt,
    )
    .map_err(|e| e.to_string())?;
    let hash = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| e.to_string())?,
        salt: Some(salt),
        hash: Some(output),
    };
    Ok(hash.to_string())
}

/// Does `password` match the PHC string `hash` (any Argon2 variant, version and parameters)?
/// The outputs are compared in constant time. A malformed hash never matches.
fn matches(pool: &MemoryPool, password: &[u8], hash: &str) -> bool {
    let Ok(hash) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm.as_str()) else {
        return false;
    };
    let Ok(version) = hash.version.map_or(Ok(Version::V0x13), Version::try_from) else {
        return false;
    };
    let Ok(params) = Params::try_from(&hash) else {
        return false;
    };
    compute(pool, algorithm, version, params, password, salt)
        .is_ok_and(|computed| computed == *expected)
}

impl PasswordHasher {
    /// # Errors
    /// The parameters are rejected (never with the constants used here).
    pub fn new() -> Result<Self, argon2::Error> {
        let params = Params::new(M_COST, T_COST, P_COST, None)?;
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let memory = Arc::new(MemoryPool {
            blocks: params.block_count(),
            keep: cores,
            free: Mutex::new(Vec::with_capacity(cores)),
        });
        let dummy_hash = hash_new(
            &memory,
            &params,
            shared::crypto::random_token(24).as_bytes(),
        )
        .map_err(|_| argon2::Error::AlgorithmInvalid)?;
        let hashers = Hashers::start(cores)
            .inspect_err(|e| {
                tracing::warn!(error = %e, "no hashing threads: hashes run on tokio's blocking pool");
            })
            .ok();
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(cores)),
            hashers,
            memory,
            dummy_hash,
        })
    }

    /// Run `work` on a hashing thread (or, without one, on tokio's blocking pool).
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        match &self.hashers {
            Some(hashers) => hashers.run(work).await,
            None => tokio::task::spawn_blocking(work)
                .await
                .map_err(AppError::internal),
        }
    }

    /// A permit to hash, held until the hash is done (moved into the hash's job: a hash
    /// keeps its permit even when the request waiting for it is dropped).
    async fn turn(&self) -> Result<OwnedSemaphorePermit, AppError> {
        Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(AppError::internal)
    }

    /// Hash a password (PHC string).
    ///
    /// # Errors
    /// A 500 if no thread can run the hash or hashing fails.
    pub async fn hash(&self, password: &str) -> Result<String, AppError> {
        let permit = self.turn().await?;
        let memory = Arc::clone(&self.memory);
        let params = self.params.clone();
        let password = password.to_owned();
        self.run(move || {
            let _permit = permit;
            hash_new(&memory, &params, password.as_bytes())
        })
        .await?
        .map_err(|e| AppError::internal(std::io::Error::other(e)))
    }

    /// Does `password` match `hash`? With no hash (unknown account) a dummy hash is checked,
    /// so the answer takes the same time, and is always `false`.
    ///
    /// # Errors
    /// A 500 if no thread can run the hash.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, AppError> {
        let permit = self.turn().await?;
        let memory = Arc::clone(&self.memory);
        let password = password.to_owned();
        let known = hash.is_some();
        let hash = hash.unwrap_or(&self.dummy_hash).to_owned();
        let ok = self
            .run(move || {
                let _permit = permit;
                matches(&memory, password.as_bytes(), hash.as_str())
            })
            .await?;
        Ok(known && ok)
    }

    /// Was `hash` made otherwise than new hashes are (another variant, version or parameters)?
    /// Login replaces such a hash once the password has matched it.
    #[must_use]
    pub fn needs_rehash(&self, hash: &str) -> bool {
        let Ok(hash) = PasswordHash::new(hash) else {
            return true;
        };
        hash.algorithm != argon2::ARGON2ID_IDENT
            || hash.version != Some(Version::V0x13.into())
            || Params::try_from(&hash).map_or(true, |params| {
                params.m_cost() != self.params.m_cost()
                    || params.t_cost() != self.params.t_cost()
                    || params.p_cost() != self.params.p_cost()
                    || params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)
                        != Params::DEFAULT_OUTPUT_LEN
                    || !params.keyid().is_empty()
                    || !params.data().is_empty()
            })
    }
}

/// Passwords people pick first; refused whatever their length.
const COMMON: &[&str] = &[
    "password1234",
    "123456789012",
    "qwertyuiopas",
    "azertyuiopqs",
    "motdepasse12",
    "passwordpassword",
    "iloveyou1234",
    "administrator",
    "welcome12345",
    "changeme1234",
    "letmein12345",
    "000000000000",
    "111111111111",
    "abcdefghijkl",
    "presta123456",
];

/// The password rules (NIST 800-63B style: length, no known-common passwords, not the e-mail).
///
/// # Errors
/// A message for the password field.
pub fn check_policy(password: &str, email: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!(
            "must have at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(format!("must have at most {MAX_PASSWORD_CHARS} characters"));
    }
    let lowered = password.to_lowercase();
    if COMMON.contains(&lowered.as_str()) {
        return Err("is too common".to_owned());
    }
    let local = email.split('@').next().unwrap_or_default().to_lowercase();
    if local.len() >= 4 && lowered.contains(&local) {
        return Err("must not contain your e-mail address".to_owned());
    }
    let distinct: std::collections::HashSet<char> = password.chars().collect();
    if distinct.len() < 5 {
        return Err("is too repetitive".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_run_on_threads_of_their_own_below_the_callers_priority() {
        let hasher = PasswordHasher::new().unwrap();
        let thread = || {
            let name = std::thread::current().name().map(str::to_owned);
            #[cfg(target_os = "linux")]
            let nice = rustix::process::getpriority_process(None).ok();
            #[cfg(not(target_os = "linux"))]
            let nice: Option<i32> = None;
            (name, nice)
        };
        let (_, caller) = thread();
        let (name, nice) = hasher.run(thread).await.unwrap();
        assert!(name.is_some_and(|name| name.starts_with("argon2-")));
        // Where the system refuses a thread a lower priority (a sandbox), it hashes at the
        // server's: try on a thread of the test's own first.
        #[cfg(target_os = "linux")]
        let allowed = std::thread::spawn(move || {
            caller.is_some_and(|nice| {
                rustix::process::setpriority_process(None, (nice + 1).min(19)).is_ok()
            })
        })
        .join()
        .unwrap_or(false);
        #[cfg(not(target_os = "linux"))]
        let allowed = false;
        if allowed {
            assert_eq!(nice, caller.map(|nice| (nice + HASHING_NICE).min(19)));
        }
        // And a hash still verifies there.
        let hash = hasher.hash("Correct-horse-9").await.unwrap();
        assert!(hasher.verify("Correct-horse-9", Some(&hash)).await.unwrap());
    }

    #[tokio::test]
    async fn hashes_verify_and_unknown_accounts_never_match() {
        let hasher = PasswordHasher::new().unwrap();
        let hash = hasher.hash("Correct-Horse-Battery-9").await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{hash}");
        assert!(!hasher.needs_rehash(&hash));
        // Unknown accounts cost what a current hash costs.
        assert!(!hasher.needs_rehash(&hasher.dummy_hash));
        assert!(
            hasher
                .verify("Correct-Horse-Battery-9", Some(&hash))
                .await
                .unwrap()
        );
        assert!(!hasher.verify("wrong", Some(&hash)).await.unwrap());
        assert!(
            !hasher
                .verify("Correct-Horse-Battery-9", None)
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify("Correct-Horse-Battery-9", Some("$argon2id$v=19$m=7168"))
                .await
                .unwrap()
        );
    }

    /// No more memories are kept than permits, even when more hashes ran at once (a hash whose
    /// request went away still holds its permit, but the pool does not count on it).
    #[test]
    fn the_pool_keeps_no_more_memories_than_permits() {
        let pool = MemoryPool {
            blocks: 8,
            keep: 1,
            free: Mutex::new(Vec::new()),
        };
        pool.with(8, |_| pool.with(8, |_| ()).unwrap()).unwrap();
        assert_eq!(pool.free.lock().unwrap().len(), 1);
        // Memory of another size (a hash of older parameters) is never kept.
        pool.with(16, |memory| assert_eq!(memory.len(), 16))
            .unwrap();
        assert_eq!(pool.free.lock().unwrap().len(), 1);
        assert!(matches!(
            pool.with(usize::MAX / 2, |_| ()),
            Err(argon2::Error::OutOfMemory)
        ));
    }

    /// The hashes made in kept memory are the reference implementation's, both ways, and the
    /// m = 19 MiB, t = 2 hashes of earlier versions still verify (and are due a rehash).
    #[tokio::test]
    async fn hashes_are_argon2_s_own_and_older_parameters_still_verify() {
        use argon2::{PasswordHasher as _, PasswordVerifier as _};
        let hasher = PasswordHasher::new().unwrap();
        let ours = hasher.hash("Correct-Horse-Battery-9").await.unwrap();
        let reference = Argon2::new(Algorithm::Argon2id, Version::V0x13, hasher.params.clone());
        assert!(
            reference
                .verify_password(b"Correct-Horse-Battery-9", ours.as_str())
                .is_ok()
        );
        assert!(reference.verify_password(b"wrong", ours.as_str()).is_err());

        let older = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(19_456, 2, 1, None).unwrap(),
        )
        .hash_password(b"Correct-Horse-Battery-9")
        .unwrap()
        .to_string();
        assert!(hasher.needs_rehash(&older));
        assert!(
            hasher
                .verify("Correct-Horse-Battery-9", Some(&older))
                .await
                .unwrap()
        );
        assert!(!hasher.verify("Correct-Horse", Some(&older)).await.unwrap());
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, hasher.params.clone())
            .hash_password(b"Correct-Horse-Battery-9")
            .unwrap()
            .to_string();
        assert!(hasher.needs_rehash(&argon2i));
        assert!(
            hasher
                .verify("Correct-Horse-Battery-9", Some(&argon2i))
                .await
                .unwrap()
        );
    }

    /// Many hashes at once reuse at most one memory per permit, and reused memory gives the
    /// same results as fresh memory.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn memory_is_kept_one_per_permit_and_reuse_changes_nothing() {
        let hasher = Arc::new(PasswordHasher::new().unwrap());
        let permits = hasher.permits.available_permits();
        let mut tasks = Vec::new();
        for i in 0..(3 * permits + 1) {
            let hasher = Arc::clone(&hasher);
            tasks.push(tokio::spawn(async move {
                let password = format!("Correct-Horse-Battery-{i}");
                let hash = hasher.hash(&password).await.unwrap();
                (password, hash)
            }));
        }
        let mut hashes = Vec::new();
        for task in tasks {
            hashes.push(task.await.unwrap());
        }
        let kept = hasher.memory.free.lock().unwrap().len();
        assert!((1..=permits).contains(&kept), "{kept} memories kept");
        for (i, (password, hash)) in hashes.iter().enumerate() {
            assert!(hasher.verify(password, Some(hash)).await.unwrap());
            let (_, other) = &hashes[(i + 1) % hashes.len()];
            assert!(!hasher.verify(password, Some(other)).await.unwrap());
        }
    }

    #[test]
    fn the_policy_names_what_is_wrong() {
        assert!(check_policy("short", "a@b.fr").is_err());
        assert!(check_policy(&"x".repeat(129), "a@b.fr").is_err());
        assert!(check_policy("Password1234", "a@b.fr").is_err());
        assert!(check_policy("aaaaaaaaaaaaaa", "a@b.fr").is_err());
        assert!(check_policy("jean.dupont-2026!", "jean.dupont@b.fr").is_err());
        assert!(check_policy("Correct-Horse-Battery-9", "jean@b.fr").is_ok());
    }
}
