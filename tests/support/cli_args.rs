//! Command lines the CLI tests give often.

/// `credential create --kind KIND --project PROJECT --name NAME`, then `extra`.
pub fn create_key<'a>(kind: &'a str, project: &'a str, name: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "credential",
        "create",
        "--kind",
        kind,
        "--project",
        project,
        "--name",
        name,
    ];
    args.extend_from_slice(extra);
    args
}
