fn main() -> std::process::ExitCode {
    karpsim_cli::exit_after_command();
    karpsim_cli::run(std::env::args_os())
}
