//! The test PostgreSQL of `scripts/postgres.sh`, for the tests and
//! benchmarks that run the binary against it: a database of their own.

use std::process::Command;

/// Drops and creates the database `name` on the server `base` names (a URL
/// with any database in its path), with Debian's `psql`; returns the URL
/// of the new database, `base`'s credentials and options kept.
pub fn fresh_database(base: &str, name: &str) -> Result<String, String> {
    for sql in [
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("CREATE DATABASE {name}"),
    ] {
        let out = Command::new("psql")
            .args([base, "-v", "ON_ERROR_STOP=1", "-qc", &sql])
            .output()
            .map_err(|e| format!("psql: {e}"))?;
        if !out.status.success() {
            return Err(format!("{sql}: {}", String::from_utf8_lossy(&out.stderr)));
        }
    }
    let mut url = url::Url::parse(base).map_err(|e| format!("not a URL: {e}"))?;
    url.set_path(&format!("/{name}"));
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_url_names_the_new_database_and_keeps_the_rest() {
        let mut url =
            url::Url::parse("postgres://kms:pw@127.0.0.1:5432/kms_test?sslmode=disable").unwrap();
        url.set_path("/other");
        assert_eq!(
            url.as_str(),
            "postgres://kms:pw@127.0.0.1:5432/other?sslmode=disable"
        );
    }
}
