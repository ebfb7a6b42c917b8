//! `classify inspect` describes what a model holds: for a nearest-neighbour model, its search and
//! the memory its training rows take.

use std::path::PathBuf;
use std::process::Command;

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../classify-core/testdata/golden")
        .join(format!("{name}.model.json"))
}

#[test]
fn inspect_states_the_memory_of_a_nearest_neighbour_models_training_rows() {
    let output = Command::new(env!("CARGO_BIN_EXE_classify"))
        .arg("inspect")
        .arg(golden("knn_tfidf_cosine_distance"))
        .output()
        .expect("classify runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let description: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("inspect prints JSON");
    let neighbors = &description["neighbors"];
    assert_eq!(neighbors["n_neighbors"], 9);
    assert_eq!(
        (neighbors["metric"].as_str(), neighbors["weights"].as_str()),
        (Some("cosine"), Some("distance"))
    );
    let rows = neighbors["training_rows"].as_u64().expect("training_rows");
    let values = neighbors["stored_values"].as_u64().expect("stored_values");
    assert_eq!(rows, 300);
    // indptr (u64), indices (u32) and values (f64), the norms (f64) and labels (u32).
    assert_eq!(neighbors["row_bytes"].as_u64(), Some(8 * (rows + 1) + 12 * values + 12 * rows));
    let memory = neighbors["memory"].as_str().expect("memory");
    assert!(memory.starts_with(&format!("{rows} training rows x ")), "{memory}");
    assert!(memory.contains(&format!("({values} values, ")), "{memory}");
}
