fn main() -> std::process::ExitCode {
    karpsim_cli::run(std::env::args_os())
}
