//! The operating-system calls the module makes outside httpd's API, each behind a safe function:
//! the shared counters' memory, handing freed and start-up-only pages back, and keeping the
//! module's code mapped across httpd's unloads.

use std::ops::Range;
use std::os::raw::c_char;
use std::ptr;
use std::sync::atomic::AtomicU64;

/// A zero-filled anonymous mapping of `count` atomic words, shared with every process forked
/// after this call and never unmapped (`None` if the kernel refuses it).
pub(crate) fn shared_words(count: usize) -> Option<&'static [AtomicU64]> {
    let bytes = count.checked_mul(std::mem::size_of::<AtomicU64>())?;
    // SAFETY: a fresh anonymous mapping; MAP_SHARED keeps it shared with forked children.
    let memory = unsafe {
        libc::mmap(
            ptr::null_mut(),
            bytes,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if memory == libc::MAP_FAILED || memory.is_null() {
        return None;
    }
    // SAFETY: zero-filled, page-aligned memory of `bytes` bytes is a valid array of `count`
    // AtomicU64, accessed only through atomics, and never unmapped, so 'static.
    Some(unsafe { std::slice::from_raw_parts(memory as *const AtomicU64, count) })
}

/// Drops this process's page-table entries for `range`, a whole, page-aligned, read-only private
/// file mapping with no private (anonymous) pages: the next access faults the same bytes back in
/// from the file. `code_pages` finds such ranges.
pub(crate) fn drop_file_pages(range: Range<usize>) {
    // SAFETY: madvise takes no Rust references; for the ranges described above MADV_DONTNEED
    // changes no contents, it only unmaps pages that come back unchanged on the next access.
    unsafe {
        libc::madvise(range.start as *mut libc::c_void, range.len(), libc::MADV_DONTNEED);
    }
}

/// Returns the heap's free pages to the kernel (glibc keeps free pages in the middle of its heap
/// resident, and every child forked afterwards would share them).
pub(crate) fn release_free_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers; it only hands free heap pages back to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// mod_so `dlclose`s modules between the two start-up passes and on every graceful restart, which
/// would reset Rust statics (the panic hook among them) and leak what they owned. Taking one more
/// reference with RTLD_NODELETE keeps this DSO mapped for the life of the process, so its state is
/// deterministic. Replacing the `.so` therefore needs a full stop/start.
pub(crate) fn pin_module_in_memory() {
    let mut info: libc::Dl_info = libc::Dl_info {
        dli_fname: ptr::null(),
        dli_fbase: ptr::null_mut(),
        dli_sname: ptr::null(),
        dli_saddr: ptr::null_mut(),
    };
    let address = pin_module_in_memory as *const libc::c_void;
    // SAFETY: dladdr only reads the loader's tables; `info` is a valid out-parameter.
    if unsafe { libc::dladdr(address, &mut info) } == 0 || info.dli_fname.is_null() {
        return;
    }
    let path: *const c_char = info.dli_fname;
    // SAFETY: `path` is the loader's NUL-terminated name of this very object; RTLD_NOLOAD never
    // loads anything new, it only adds a reference and the NODELETE flag.
    unsafe {
        libc::dlopen(path, libc::RTLD_NOW | libc::RTLD_NOLOAD | libc::RTLD_NODELETE);
    }
}
