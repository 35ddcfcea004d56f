//! The `karpsim` command's allocator: the system allocator (glibc's malloc) with its heap grown in
//! large steps and backed by transparent huge pages where the kernel grants them on request
//! (`/sys/kernel/mm/transparent_hugepage/enabled` = `madvise` or `always`).
//!
//! Why: a run on the embedded AWS catalog touches ~10 MB of heap at start-up (1,345 instance types,
//! their labels, offerings and requirements). Faulted in 4 KiB at a time that was ~2,500 page
//! faults, about half of a 1-pod run's time on the VMs measured (`docs/benchmarks-notes.md`, branch
//! `bootmem`); with 2 MiB pages it is a few dozen. Only where the bytes live changes, never what is
//! computed.
//!
//! All through documented glibc and Linux interfaces (mallopt(3), sbrk(2), madvise(2)):
//! - `M_TOP_PAD` 16 MiB: when the heap grows it grows by at least that much (address space only:
//!   a page is faulted in when first touched), so that whole 2 MiB blocks lie inside it;
//! - `M_MMAP_THRESHOLD` 32 MiB: setting `M_TOP_PAD` freezes glibc's dynamic mmap threshold at its
//!   initial 128 KiB, which would map (and fault in afresh) every buffer of 128 KiB or more each
//!   time it is allocated; 32 MiB is the ceiling glibc's dynamic threshold grows to by itself;
//! - after an allocation that grew the heap, `madvise(MADV_HUGEPAGE)` on the new part (what glibc's
//!   own `glibc.malloc.hugetlb=1` tunable does, which a program cannot set for itself).
//!
//! Off until [`switch_on`]: until then [`HugeHeap`] is the system allocator plus one compare. Only
//! a process that *is* the karpsim command throws the switch, because the settings are the whole
//! process's (its other code's allocations too):
//! - the `karpsim` binary (also the command pip installs, from the `karpsim-cli` wheel), when it is
//!   loaded (before `main`, while the heap is still empty, so all of it can be advised: from `main`
//!   its first 2 MiB block would already hold small pages);
//! - the Python package's `python -m karpsim`, when the command starts:
//!   the process is the command then, and ends with it. The heap CPython grew while starting keeps
//!   its small pages; the command's growth beyond it gets the large steps and the advice.
//!
//! Never the core library, nor the Python module imported as a library (notebooks, `karpsim.cli`):
//! a library does not choose its host process's allocator settings.
//!
//! Elsewhere (not Linux with glibc) it is the system allocator unchanged and the switch does nothing.

use std::alloc::{GlobalAlloc, Layout, System};

/// The system allocator, telling the kernel that the heap may use huge pages (see the module).
pub struct HugeHeap;

// SAFETY: every call is forwarded to `System` with the same arguments; `grown` only reads the
// returned pointer's address.
unsafe impl GlobalAlloc for HugeHeap {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        grown(p, layout.size());
        p
    }
    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        grown(p, layout.size());
        p
    }
    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        grown(p, new_size);
        p
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod imp {
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The heap's end as of the last `madvise` (0: not enabled). Blocks ending below it lie in
    /// memory already advised, which is nearly every allocation: one compare.
    static ADVISED_END: AtomicUsize = AtomicUsize::new(0);

    #[cfg(test)]
    pub(super) fn advised_end() -> usize {
        ADVISED_END.load(Ordering::Relaxed)
    }

    const TOP_PAD: i32 = 16 << 20;
    const MMAP_THRESHOLD: i32 = 32 << 20;

    pub fn switch_on() {
        if ADVISED_END.load(Ordering::Relaxed) != 0 {
            return;
        }
        // SAFETY: mallopt and sbrk(0) only set and read allocator parameters; no memory is touched.
        let brk = unsafe {
            libc::mallopt(libc::M_TOP_PAD, TOP_PAD);
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            libc::sbrk(0) as usize
        };
        if brk != usize::MAX {
            ADVISED_END.store(brk, Ordering::Relaxed);
        }
    }

    /// How far past the advised end a block of a grown heap can start: the heap grows by at most
    /// the largest block it serves (below `MMAP_THRESHOLD`) plus `TOP_PAD` at a time. Blocks mapped
    /// on their own and other threads' arenas lie far away (mmap's region), so they never take the
    /// slow path.
    const GROWTH_WINDOW: usize = 1 << 30;

    #[inline]
    pub fn grown(p: *mut u8, size: usize) {
        let end = ADVISED_END.load(Ordering::Relaxed);
        if reaches_past(end, p as usize, size) {
            advise_new_heap(end);
        }
    }

    /// Whether the block `[p, p + size)` reaches past the advised end `end` of the heap (0: not
    /// enabled) from within the heap's growth window.
    #[inline]
    pub(super) fn reaches_past(end: usize, p: usize, size: usize) -> bool {
        end != 0 && p.saturating_add(size) > end && p < end.saturating_add(GROWTH_WINDOW)
    }

    /// Called for blocks that reach past the advised end: the heap grew.
    #[cold]
    fn advise_new_heap(end: usize) {
        // SAFETY: sbrk(0) reads the current program break.
        let top = unsafe { libc::sbrk(0) } as usize;
        if top == usize::MAX || top <= end {
            return;
        }
        if ADVISED_END.compare_exchange(end, top, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
            let page = 4096;
            let start = end.next_multiple_of(page);
            if top > start {
                // SAFETY: [start, top) is heap the allocator has mapped; MADV_HUGEPAGE only changes
                // how later faults in it are served. A kernel without THP answers EINVAL: ignored.
                unsafe { libc::madvise(start as *mut libc::c_void, top - start, libc::MADV_HUGEPAGE) };
            }
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod imp {
    #[inline]
    pub fn grown(_p: *mut u8, _size: usize) {}

    pub fn switch_on() {}
}

/// Make the settings (see the module) and advise the heap's growth from here on. For a process that
/// is the karpsim command only; once is enough (later calls do nothing).
pub fn switch_on() {
    imp::switch_on()
}

#[inline]
fn grown(p: *mut u8, size: usize) {
    imp::grown(p, size)
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::imp::{advised_end, reaches_past};

    #[test]
    fn off_until_switched_on_then_on_for_good() {
        // the only test here that throws the switch (the test binary's allocator is not `HugeHeap`)
        assert_eq!(advised_end(), 0, "a library leaves the host's allocator alone until told");
        super::switch_on();
        let end = advised_end();
        assert_ne!(end, 0);
        super::switch_on();
        assert_eq!(advised_end(), end, "a second switch changes nothing");
    }

    #[test]
    fn only_blocks_of_a_grown_heap_take_the_slow_path() {
        let end = 0x5555_0000_0000;
        // inside the advised heap: the fast path, one compare
        assert!(!reaches_past(end, end - 4096, 4096));
        // the heap grew: a block straddling the old end, or starting just past it
        assert!(reaches_past(end, end - 16, 64));
        assert!(reaches_past(end, end + (20 << 20), 100));
        // a block mapped on its own, or another thread's arena, far away in mmap's region
        assert!(!reaches_past(end, 0x7f00_0000_0000, 1 << 20));
        // before the settings are made, nothing is advised
        assert!(!reaches_past(0, end, 64));
    }
}
