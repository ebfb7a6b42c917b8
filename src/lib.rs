//! mod_classify: placeholder until the module lands.
