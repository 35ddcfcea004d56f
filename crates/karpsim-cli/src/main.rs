use karpsim_cli::huge_heap::HugeHeap;

// the system allocator, its heap in huge pages where the kernel allows (switched on before `main`)
#[global_allocator]
static ALLOCATOR: HugeHeap = HugeHeap;

/// Run by the dynamic loader before `main` and before the Rust runtime's first allocation (an ELF
/// initializer, as C constructors are): the heap is still empty then, so all of it can be advised.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[used]
#[unsafe(link_section = ".init_array")]
static SWITCH_ON_AT_LOAD: extern "C" fn() = {
    extern "C" fn switch_on_at_load() {
        karpsim_cli::huge_heap::switch_on();
    }
    switch_on_at_load
};

fn main() -> std::process::ExitCode {
    // this process ends with the command: freeing its big structures first would be wasted work
    karpsim_cli::skip_freeing_at_exit();
    karpsim_cli::run(std::env::args_os())
}
