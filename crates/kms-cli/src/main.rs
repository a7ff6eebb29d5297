fn main() -> std::process::ExitCode {
    kms_cli::main()
}
