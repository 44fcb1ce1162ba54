//! A Python that can import a client library from PyPI, for the tests that drive the API with a
//! real client: the one `.ci/run` names in an environment variable, else a virtual environment
//! made (once) under `target/`.

use std::path::PathBuf;
use std::process::Command;

fn imports(python: &str, module: &str) -> bool {
    Command::new(python)
        .args(["-c", &format!("import {module}")])
        .status()
        .is_ok_and(|s| s.success())
}

/// The python named by `env_var`, or the one of `target/{venv}`, installing `package` (which
/// provides `module`) there if need be.
pub fn with(env_var: &str, venv: &str, module: &str, package: &str) -> String {
    if let Ok(python) = std::env::var(env_var) {
        assert!(
            imports(&python, module),
            "{env_var}={python} cannot import {module}"
        );
        return python;
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join(venv);
    let python = venv.join("bin/python").to_string_lossy().into_owned();
    if imports(&python, module) {
        return python;
    }
    let made = Command::new("python3").args(["-m", "venv"]).arg(&venv).status();
    assert!(
        made.is_ok_and(|s| s.success()),
        "python3 -m venv failed: install python3-venv"
    );
    let installed = Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", package])
        .status();
    assert!(
        installed.is_ok_and(|s| s.success()) && imports(&python, module),
        "could not install {package} from PyPI into {}",
        venv.display()
    );
    python
}
