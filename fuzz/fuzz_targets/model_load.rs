//! Any bytes given to the model loader (JSON or binary form) give a model or an error, never a
//! panic, and a model that loads predicts without panicking.
#![no_main]

use classify_core::Model;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = Model::from_bytes(data) {
        let prediction = model.predict("fuzzing a loaded model");
        assert!(prediction.class_index < model.classes().len());
    }
});
