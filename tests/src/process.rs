//! One test of the running test binary in a process of its own: for what is process-wide (the
//! heap a global allocator measures, the environment, the default client).

/// Set in the child process [`run_alone`] starts, to the path of the test it runs.
pub const ALONE: &str = "OPPER_TESTS_ALONE";

/// Whether this process is the one [`run_alone`] started for the test `path`.
pub fn is_alone(path: &str) -> bool {
    std::env::var(ALONE).is_ok_and(|alone| alone == path)
}

/// Runs the test `path` (`module::name`) of this test binary alone in a new process, with
/// [`ALONE`] set to `path`; panics unless it ran and passed. Returns its stdout (what it
/// printed: run with `--nocapture` to see it).
pub fn run_alone(path: &str) -> String {
    run_alone_with(path, &[], &[])
}

/// [`run_alone`], with the variables `env` set and those named in `remove` removed.
pub fn run_alone_with(path: &str, env: &[(&str, &str)], remove: &[&str]) -> String {
    let mut command = std::process::Command::new(std::env::current_exe().expect("the test binary"));
    command
        .args(["--exact", path, "--nocapture", "--test-threads=1"])
        .env(ALONE, path);
    for name in remove {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    let output = command.output().expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success() && stdout.contains("test result: ok. 1 passed"),
        "{path} {env:?} failed in its own process:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}
