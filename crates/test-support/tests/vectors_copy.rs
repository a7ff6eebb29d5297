//! The repository's `testdata/vectors` must be the original SDK's outputs,
//! byte for byte: where the steering repository's shared folder sits beside
//! the workspace (`../shared/vectors`), every file there must be here,
//! unchanged, and nothing else. This is the only code that reads that folder.

use kms_test_support::vectors::{compare_vector_dirs, repository_copy};

#[test]
fn testdata_vectors_are_the_shared_vectors_byte_for_byte() {
    let shared = kms_test_support::workspace_root().join("../shared/vectors");
    if !shared.is_dir() {
        println!(
            "SKIP: {} is absent, so testdata/vectors cannot be compared with the original outputs",
            shared.display()
        );
        return;
    }
    let copy = repository_copy();
    let differences = compare_vector_dirs(&shared, &copy).unwrap_or_else(|e| {
        panic!(
            "comparing {} with {}: {e}",
            shared.display(),
            copy.display()
        )
    });
    assert!(
        differences.is_empty(),
        "{} differs from {}: {differences:?}",
        copy.display(),
        shared.display()
    );
}
