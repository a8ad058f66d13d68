//! The `gatehouse` binary. Everything lives in the library so that tests can
//! assemble the same application in-process.

fn main() -> std::process::ExitCode {
    gatehouse_web::cli::main()
}
