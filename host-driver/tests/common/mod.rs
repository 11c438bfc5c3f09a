//! Helpers shared by the integration tests of the host driver.

/// Whether `tool` is on the PATH. Under CI a missing tool fails the test
/// (CI installs it); elsewhere the test is skipped with a message.
pub fn tool_available(tool: &str, package: &str) -> bool {
    let found = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} ({package}) is required under CI"
        );
        eprintln!("SKIPPED: {tool} is not installed (apt-get install {package})");
    }
    found
}
