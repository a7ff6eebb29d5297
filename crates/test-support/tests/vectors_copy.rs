//! The repository's `testdata/vectors` must be the original SDK's outputs,
//! byte for byte: where the steering repository's shared folder sits beside
//! the workspace (`../shared/vectors`), every file there must be here,
//! unchanged, and nothing else. This is the only code that reads that folder.

use kms_test_support::vectors::{check_copy, repository_copy, CopyCheck};

#[test]
fn testdata_vectors_are_the_shared_vectors_byte_for_byte() {
    let shared = kms_test_support::workspace_root().join("../shared/vectors");
    match check_copy(&shared, &repository_copy()) {
        Ok(CopyCheck::Identical) => {}
        Ok(CopyCheck::NoOriginal) => println!(
            "SKIP: {} is absent, so testdata/vectors cannot be compared with the original outputs",
            shared.display()
        ),
        Err(e) => panic!("{e}"),
    }
}
