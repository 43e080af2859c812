//! Whether an instruction raises `SIGILL` here, found by running it once under a temporary
//! handler, as OpenSSL probes CPU features.
//!
//! Why: on aarch64 Linux the kernel decides whether programs may read the CPU's counter
//! (`mrs cntvct_el0`). Mainline kernels allow it, or trap and answer it, but a vendor kernel
//! may refuse it, and the first instrumented call would then kill the program. The clock asks
//! [`counter_read_traps`] once, before it chooses the counter.
//!
//! How: the probed instruction stores its own address in [`PROBED_PC`] just before it runs. A
//! `SIGILL` at that address sets [`TRAPPED`] and resumes at the next instruction; a `SIGILL`
//! anywhere else (another thread's genuine fault, during the microseconds the handler is
//! installed) puts the previous handler back and returns, so the fault repeats and reaches it.
//! The previous handler and this thread's signal mask are restored afterwards.
#![allow(unsafe_code)] // sigaction, a signal handler that moves the program counter, asm.

use std::mem::MaybeUninit;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering::SeqCst};
use std::sync::{Mutex, PoisonError};

/// The address of the instruction under probe; 0 when none is.
static PROBED_PC: AtomicUsize = AtomicUsize::new(0);
/// Set by the handler when the probed instruction trapped.
static TRAPPED: AtomicBool = AtomicBool::new(false);
/// The `SIGILL` action in force before the probe (on the probing thread's stack, valid while
/// the probe's handler is installed).
static PREVIOUS: AtomicPtr<libc::sigaction> = AtomicPtr::new(ptr::null_mut());

/// Whether reading the counter (`mrs cntvct_el0`) raises `SIGILL` on this system.
pub(crate) fn counter_read_traps() -> bool {
    traps(read_counter_probed)
}

/// Runs `probed` (one of the `*_probed` functions) with `SIGILL` caught; whether its probed
/// instruction trapped.
fn traps(probed: unsafe fn()) -> bool {
    // One probe at a time: the statics describe a single one.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _probing = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    // SAFETY: `sigaction` and `pthread_sigmask` get valid, initialised structures. The handler
    // only touches atomics, the context the kernel passes it and, for a foreign fault,
    // `sigaction` (async-signal-safe). `previous` outlives the handler's installation.
    unsafe {
        let mut previous = MaybeUninit::<libc::sigaction>::zeroed();
        if libc::sigaction(libc::SIGILL, ptr::null(), previous.as_mut_ptr()) != 0 {
            return true; // Cannot even look: do not risk the read.
        }
        let mut ours = MaybeUninit::<libc::sigaction>::zeroed().assume_init();
        ours.sa_sigaction = on_sigill as *const () as libc::sighandler_t;
        ours.sa_flags = libc::SA_SIGINFO;
        libc::sigemptyset(&raw mut ours.sa_mask);
        // A blocked SIGILL would kill the process instead of reaching the handler.
        let mut only_sigill = MaybeUninit::<libc::sigset_t>::zeroed().assume_init();
        libc::sigemptyset(&raw mut only_sigill);
        libc::sigaddset(&raw mut only_sigill, libc::SIGILL);
        let mut old_mask = MaybeUninit::<libc::sigset_t>::zeroed().assume_init();
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &raw const only_sigill, &raw mut old_mask);

        PREVIOUS.store(previous.as_mut_ptr(), SeqCst);
        TRAPPED.store(false, SeqCst);
        let trapped = if libc::sigaction(libc::SIGILL, &raw const ours, ptr::null_mut()) == 0 {
            probed();
            libc::sigaction(libc::SIGILL, previous.as_ptr(), ptr::null_mut());
            TRAPPED.load(SeqCst)
        } else {
            true
        };
        PROBED_PC.store(0, SeqCst);
        PREVIOUS.store(ptr::null_mut(), SeqCst);
        libc::pthread_sigmask(libc::SIG_SETMASK, &raw const old_mask, ptr::null_mut());
        trapped
    }
}

extern "C" fn on_sigill(_signal: libc::c_int, _info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    // SAFETY: with SA_SIGINFO the kernel passes this thread's saved context, which the handler
    // may change: the program resumes from `pc` when it returns.
    unsafe {
        let pc = &mut (*context.cast::<libc::ucontext_t>()).uc_mcontext.pc;
        let probed = PROBED_PC.load(SeqCst);
        if probed != 0 && *pc as usize == probed {
            TRAPPED.store(true, SeqCst);
            *pc += 4; // Every aarch64 instruction is 4 bytes.
        } else {
            let previous = PREVIOUS.load(SeqCst);
            if previous.is_null() {
                libc::signal(libc::SIGILL, libc::SIG_DFL);
            } else {
                libc::sigaction(libc::SIGILL, previous, ptr::null_mut());
            }
        }
    }
}

/// Defines `unsafe fn $name()`, which records its one `$instruction` as the probed one (its
/// address in [`PROBED_PC`]), then runs it. The instruction may write `x9`.
macro_rules! probed {
    ($(#[$attribute:meta])* $name:ident: $instruction:literal) => {
        $(#[$attribute])*
        unsafe fn $name() {
            // SAFETY: stores an address into the atomic's storage, then runs the instruction,
            // which touches no memory. If it traps, the probe's handler resumes after it.
            unsafe {
                core::arch::asm!(
                    "adr {pc}, 2f",
                    "str {pc}, [{slot}]",
                    "2:",
                    $instruction,
                    slot = in(reg) PROBED_PC.as_ptr(),
                    pc = out(reg) _,
                    out("x9") _,
                    options(nostack, preserves_flags),
                );
            }
        }
    };
}

probed!(
    /// Reads the counter, as the clock would.
    read_counter_probed: "mrs x9, cntvct_el0"
);

probed!(
    /// Runs an undefined instruction (`udf #0`, which always traps): the probe's check of itself.
    #[cfg(test)]
    undefined_probed: "udf #0"
);

#[cfg(test)]
mod tests {
    use super::*;

    /// The `SIGILL` handler in force.
    fn current_handler() -> libc::sighandler_t {
        // SAFETY: reads the current action into a zeroed structure.
        unsafe {
            let mut action = MaybeUninit::<libc::sigaction>::zeroed().assume_init();
            libc::sigaction(libc::SIGILL, ptr::null(), &raw mut action);
            action.sa_sigaction
        }
    }

    // One test, so that no other probe of this binary runs while it compares handlers: the
    // clock's own probe happens once per process, in `init`.
    #[test]
    fn the_probe_catches_a_trap_resumes_after_it_and_restores_the_handler() {
        crate::clock::init();
        let before = current_handler();
        assert!(traps(undefined_probed), "udf #0 always traps");
        assert!(traps(undefined_probed), "the first probe left nothing behind");
        assert_eq!(current_handler(), before);
        assert_ne!(current_handler(), on_sigill as *const () as libc::sighandler_t);
        // Linux from 4.12 (qemu emulates a recent one) answers the read.
        assert!(!counter_read_traps());
        assert_eq!(current_handler(), before);
    }
}
