mod huge_heap;

// the system allocator, its heap in huge pages where the kernel allows (set up before `main`)
#[global_allocator]
static ALLOCATOR: huge_heap::HugeHeap = huge_heap::HugeHeap;

fn main() -> std::process::ExitCode {
    // this process ends with the command: freeing its big structures first would be wasted work
    karpsim_cli::skip_freeing_at_exit();
    karpsim_cli::run(std::env::args_os())
}
