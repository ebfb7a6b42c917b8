//! Generates Rust bindings for the httpd/APR API from `httpd-headers/wrapper.h`, using the system's
//! headers as `apxs` and `apr-1-config` report them (Debian: the apache2-dev package).

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=httpd-headers/wrapper.h");
    println!("cargo:rerun-if-env-changed=APXS");
    println!("cargo:rerun-if-env-changed=APR_CONFIG");

    // Lays out the module's code with the functions a child runs per request first, together
    // (see src/hot-text.ld, scripts/hot-text and src/code_pages.rs). `-Xlinker` pairs, not
    // `-Wl,`, so that a comma in the checkout's path cannot split the argument.
    println!("cargo:rerun-if-changed=src/hot-text.ld");
    let hot_text =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
            .join("src/hot-text.ld");
    for arg in ["-Xlinker".into(), "-T".into(), "-Xlinker".into(), hot_text.display().to_string()] {
        println!("cargo:rustc-cdylib-link-arg={arg}");
    }

    let apxs = env::var("APXS").unwrap_or_else(|_| "apxs".into());
    let apr_config = env::var("APR_CONFIG").unwrap_or_else(|_| "apr-1-config".into());
    let httpd_include = command_output(&apxs, &["-q", "INCLUDEDIR"], "APXS");
    let apr_includes = command_output(&apr_config, &["--includes"], "APR_CONFIG");
    let apr_cppflags = command_output(&apr_config, &["--cppflags"], "APR_CONFIG");

    let mut builder = bindgen::Builder::default()
        .header("httpd-headers/wrapper.h")
        .clang_arg(format!("-I{}", httpd_include.trim()))
        .allowlist_function("ap_.*|apr_.*")
        .allowlist_type("request_rec|module|command_rec|cmd_parms|server_rec|apr_.*|ap_.*")
        .allowlist_var("cls_.*|OK|DECLINED|DONE|HTTP_.*|M_.*|APLOG_.*|APR_.*|AP_.*|OR_.*|REQUEST_.*|RSRC_CONF|ACCESS_CONF")
        .derive_default(false)
        .layout_tests(false)
        .generate_comments(false)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()));
    for flag in apr_includes.split_whitespace().chain(apr_cppflags.split_whitespace()) {
        builder = builder.clang_arg(flag);
    }
    let bindings = builder.generate().unwrap_or_else(|e| {
        panic!(
            "bindgen failed on httpd-headers/wrapper.h with httpd headers from `{apxs} -q \
             INCLUDEDIR` = {httpd_include:?}: {e}. Install apache2-dev and libclang-dev, or set \
             APXS / APR_CONFIG / LIBCLANG_PATH."
        )
    });
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    bindings.write_to_file(out.join("httpd_bindings.rs")).expect("write bindings");
}

fn command_output(program: &str, args: &[&str], env_var: &str) -> String {
    let output = Command::new(program).args(args).output().unwrap_or_else(|e| {
        panic!(
            "cannot run `{program} {}`: {e}. Install apache2-dev (Debian) or set {env_var} to the \
             tool's path.",
            args.join(" ")
        )
    });
    if !output.status.success() {
        panic!(
            "`{program} {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}
