//! SQLite's own allocations through mimalloc.
//!
//! The bundled SQLite allocates with glibc's `malloc` unless told otherwise: its page cache, its
//! parsed schemas and prepared statements, and a copy of every text or blob value sqlx reads out
//! of a row (`sqlite3_value_dup`). Under load that was a sixth of the server's samples in glibc
//! (`_int_malloc`, `malloc_consolidate`, `_int_free`) for the ticket list, on threads that hand
//! their blocks to each other. mimalloc is already the server's Rust allocator (`presta`'s
//! `#[global_allocator]`); SQLite gets the same through `SQLITE_CONFIG_MALLOC`
//! (bench/RESULTS.md item 23).
//!
//! One of the places of the workspace that may use `unsafe` (the workspace denies it elsewhere;
//! the others are `super::sqlite_mutex` and one mimalloc option set in `presta`'s `main`): two
//! calls across the C boundary, each with its reason.

#![allow(unsafe_code)]

use std::ffi::{c_int, c_void};
use std::sync::LazyLock;

use libmimalloc_sys as mi;
use libsqlite3_sys as sqlite;

unsafe extern "C" fn malloc(size: c_int) -> *mut c_void {
    match usize::try_from(size) {
        // SAFETY: `mi_malloc` takes any size and returns null when it cannot allocate, which
        // SQLite expects of `xMalloc`.
        Ok(size) => unsafe { mi::mi_malloc(size) },
        Err(_) => std::ptr::null_mut(),
    }
}

unsafe extern "C" fn free(block: *mut c_void) {
    // SAFETY: SQLite frees only the blocks `malloc` or `realloc` above gave it.
    unsafe { mi::mi_free(block) }
}

unsafe extern "C" fn realloc(block: *mut c_void, size: c_int) -> *mut c_void {
    match usize::try_from(size) {
        // SAFETY: `block` came from `malloc` or `realloc` above (SQLite never passes null or a
        // size of 0 to `xRealloc`); on failure `mi_realloc` returns null and leaves it as it
        // was, as SQLite expects.
        Ok(size) => unsafe { mi::mi_realloc(block, size) },
        Err(_) => std::ptr::null_mut(),
    }
}

unsafe extern "C" fn size(block: *mut c_void) -> c_int {
    // SAFETY: `block` came from `malloc` or `realloc` above. SQLite may use the whole usable
    // size it is told, which mimalloc allows.
    let usable = unsafe { mi::mi_usable_size(block) };
    c_int::try_from(usable).unwrap_or(c_int::MAX)
}

unsafe extern "C" fn roundup(size: c_int) -> c_int {
    usize::try_from(size)
        // SAFETY: a pure function of its argument.
        .map(|size| unsafe { mi::mi_good_size(size) })
        .ok()
        .and_then(|rounded| c_int::try_from(rounded).ok())
        .unwrap_or(size)
}

unsafe extern "C" fn init(_: *mut c_void) -> c_int {
    sqlite::SQLITE_OK
}

unsafe extern "C" fn shutdown(_: *mut c_void) {}

/// SQLite's answer to the configuration: `SQLITE_OK`, or `SQLITE_MISUSE` when SQLite was already
/// initialized in this process (by a connection opened some other way), in which case it keeps
/// glibc's allocator.
static INSTALLED: LazyLock<c_int> = LazyLock::new(|| {
    // Its mutexes first, configured the same way, before the library's initialization.
    let mutex = super::sqlite_mutex::configure();
    if mutex != sqlite::SQLITE_OK {
        tracing::warn!(
            code = mutex,
            "SQLite keeps mutexes that sleep at once when contended"
        );
    }
    let methods = sqlite::sqlite3_mem_methods {
        xMalloc: Some(malloc),
        xFree: Some(free),
        xRealloc: Some(realloc),
        xSize: Some(size),
        xRoundup: Some(roundup),
        xInit: Some(init),
        xShutdown: Some(shutdown),
        pAppData: std::ptr::null_mut(),
    };
    // SAFETY: `SQLITE_CONFIG_MALLOC` takes one pointer to an `sqlite3_mem_methods`, which SQLite
    // copies before returning. `sqlite3_config` must not run while another thread is inside
    // SQLite: it runs once, inside this `LazyLock`, which `install` forces before the process
    // opens its first SQLite connection (`super::open`, `super::inline`); until it returns every
    // other opener waits on the lock.
    unsafe { sqlite::sqlite3_config(sqlite::SQLITE_CONFIG_MALLOC, &raw const methods) }
});

/// Route SQLite's allocations to mimalloc and make its mutexes spin before they sleep
/// (`super::sqlite_mutex`), once per process, before its first connection. Returns SQLite's
/// error code if it was initialized before (it then keeps glibc's malloc).
pub(super) fn install() -> Result<(), c_int> {
    match *INSTALLED {
        sqlite::SQLITE_OK => Ok(()),
        code => Err(code),
    }
}

/// Whether a block SQLite allocates now comes from mimalloc's heap.
#[cfg(test)]
pub(super) fn sqlite_allocates_with_mimalloc() -> bool {
    // SAFETY: a block of 64 bytes from SQLite's allocator, checked and given back to it.
    unsafe {
        let block = sqlite::sqlite3_malloc(64);
        let ours = !block.is_null() && mi::mi_is_in_heap_region(block);
        sqlite::sqlite3_free(block);
        ours
    }
}
