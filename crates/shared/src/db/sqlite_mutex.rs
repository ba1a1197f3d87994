//! SQLite's mutexes spin a moment before they sleep.
//!
//! Every statement of a WAL database begins and ends a read transaction, and each of the two
//! takes the mutex of the file's shared-memory index (`unixShmLock`), holding it across an
//! `fcntl` lock of the index. The two HTTP workers read inline (`super::inline`), so under load
//! one worker often finds the mutex held by the other for the microsecond of that system call:
//! SQLite's default mutex, a plain `pthread_mutex_t`, then puts the thread to sleep in the
//! kernel (`futex`) and the holder wakes it when it leaves. On the ticket detail that was four
//! `futex` calls per request, 96 % of them on that one mutex, and the scheduling they cause
//! (bench/RESULTS.md item 38).
//!
//! Here SQLite keeps its own mutexes (`SQLITE_CONFIG_GETMUTEX`) and only entering one changes:
//! it tries (`xMutexTry`) again and again for up to 20 µs, pausing between tries, before the
//! default `xMutexEnter`, which sleeps. A holder that is not running (preempted)
//! costs the spin and then a sleep, as before.
//!
//! One of the places of the workspace that may use `unsafe` (see `Cargo.toml`'s lints): calls
//! across the C boundary, each with its reason.

#![allow(unsafe_code)]

use std::ffi::c_int;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use libsqlite3_sys as sqlite;

/// How long a thread tries before it sleeps: longer than the index's mutex is held for its
/// `fcntl` (a few microseconds in a virtual machine), far shorter than a time slice.
const SPIN: Duration = Duration::from_micros(20);

/// Spin hints between two tries.
const PAUSES: u32 = 32;

/// SQLite's own methods, which the spinning `enter` tries and then falls back to.
static DEFAULT: OnceLock<sqlite::sqlite3_mutex_methods> = OnceLock::new();

/// Set once SQLite took the methods below.
static SPINNING: AtomicBool = AtomicBool::new(false);

unsafe extern "C" fn enter(mutex: *mut sqlite::sqlite3_mutex) {
    let Some((Some(try_enter), Some(sleep_enter))) = DEFAULT
        .get()
        .map(|default| (default.xMutexTry, default.xMutexEnter))
    else {
        // Unreachable: SQLite is given this function only after `DEFAULT` holds both. A mutex
        // that cannot be taken must not be passed as taken.
        std::process::abort();
    };
    // SAFETY: `mutex` is a mutex SQLite's own `xMutexAlloc` made, as `xMutexTry` expects;
    // SQLite's unix `xMutexTry` is `pthread_mutex_trylock` (also for recursive mutexes).
    let take = || unsafe { try_enter(mutex) } == sqlite::SQLITE_OK;
    // An uncontended mutex (most of them, most of the time) is taken here, without reading
    // the clock.
    if take() {
        return;
    }
    let start = Instant::now();
    while start.elapsed() < SPIN {
        for _ in 0..PAUSES {
            std::hint::spin_loop();
        }
        if take() {
            return;
        }
    }
    // SAFETY: as above, SQLite's own `xMutexEnter` for its own mutex.
    unsafe { sleep_enter(mutex) }
}

/// Give SQLite the spinning `enter`, before its initialization (`super::sqlite_memory`, which
/// runs this once per process before the first connection). Returns SQLite's answer:
/// `SQLITE_MISUSE` when SQLite was already initialized, which then keeps its default mutexes.
pub(super) fn configure() -> c_int {
    // SAFETY: allocating a static mutex (`SQLITE_MUTEX_STATIC_APP1`, which SQLite itself never
    // uses) runs SQLite's mutex initialization only (`sqlite3MutexInit`), not the library's:
    // it copies the default methods into SQLite's configuration, where `SQLITE_CONFIG_GETMUTEX`
    // reads them. A static mutex is never freed. The caller runs this before any other thread
    // may be inside SQLite (see `sqlite_memory::install`).
    let app1 = unsafe { sqlite::sqlite3_mutex_alloc(sqlite::SQLITE_MUTEX_STATIC_APP1) };
    if app1.is_null() {
        return sqlite::SQLITE_ERROR;
    }
    let mut default = sqlite::sqlite3_mutex_methods {
        xMutexInit: None,
        xMutexEnd: None,
        xMutexAlloc: None,
        xMutexFree: None,
        xMutexEnter: None,
        xMutexTry: None,
        xMutexLeave: None,
        xMutexHeld: None,
        xMutexNotheld: None,
    };
    // SAFETY: `SQLITE_CONFIG_GETMUTEX` takes one pointer to an `sqlite3_mutex_methods`, which
    // it fills; refused (`SQLITE_MISUSE`) once the library is initialized.
    let code = unsafe { sqlite::sqlite3_config(sqlite::SQLITE_CONFIG_GETMUTEX, &raw mut default) };
    if code != sqlite::SQLITE_OK {
        return code;
    }
    if default.xMutexTry.is_none() || default.xMutexEnter.is_none() {
        return sqlite::SQLITE_ERROR;
    }
    let default = *DEFAULT.get_or_init(|| default);
    let spinning = sqlite::sqlite3_mutex_methods {
        xMutexEnter: Some(enter),
        ..default
    };
    // SAFETY: `SQLITE_CONFIG_MUTEX` takes one pointer to an `sqlite3_mutex_methods`, which
    // SQLite copies before returning. They are SQLite's own but for `enter`, which keeps their
    // contract (it returns holding the mutex) and needs `DEFAULT`, set above.
    let code = unsafe { sqlite::sqlite3_config(sqlite::SQLITE_CONFIG_MUTEX, &raw const spinning) };
    if code == sqlite::SQLITE_OK {
        SPINNING.store(true, Ordering::Release);
    }
    code
}

/// Whether SQLite enters its mutexes through the spinning `enter`.
#[cfg(test)]
pub(super) fn spinning() -> bool {
    SPINNING.load(Ordering::Acquire)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicU64;

    use super::*;

    /// A mutex SQLite allocates, shared by the threads of the test.
    struct Shared(*mut sqlite::sqlite3_mutex);
    // SAFETY: an SQLite mutex is made to be used from any thread.
    unsafe impl Send for Shared {}
    // SAFETY: as above.
    unsafe impl Sync for Shared {}

    #[test]
    fn a_contended_mutex_still_lets_one_thread_in_at_a_time() {
        assert_eq!(super::super::sqlite_memory::install(), Ok(()));
        assert!(spinning(), "SQLite enters its mutexes without spinning");
        for kind in [sqlite::SQLITE_MUTEX_FAST, sqlite::SQLITE_MUTEX_RECURSIVE] {
            // SAFETY: a new dynamic mutex, freed below once the threads are done.
            let mutex = Arc::new(Shared(unsafe { sqlite::sqlite3_mutex_alloc(kind) }));
            assert!(!mutex.0.is_null());
            // Checked with a load and a store (not an atomic add): two threads inside at once
            // would lose increments.
            let counter = Arc::new(AtomicU64::new(0));
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    let (mutex, counter) = (Arc::clone(&mutex), Arc::clone(&counter));
                    std::thread::spawn(move || {
                        for _ in 0..20_000 {
                            // SAFETY: entered and left on this thread, around the update.
                            unsafe { sqlite::sqlite3_mutex_enter(mutex.0) };
                            let seen = counter.load(Ordering::Relaxed);
                            std::hint::spin_loop();
                            counter.store(seen + 1, Ordering::Relaxed);
                            // SAFETY: as above.
                            unsafe { sqlite::sqlite3_mutex_leave(mutex.0) };
                        }
                    })
                })
                .collect();
            for thread in threads {
                assert!(thread.join().is_ok());
            }
            assert_eq!(counter.load(Ordering::Relaxed), 80_000);
            // SAFETY: no thread uses it any more.
            unsafe { sqlite::sqlite3_mutex_free(mutex.0) };
        }
    }
}
