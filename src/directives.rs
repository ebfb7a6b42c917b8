//! What the directives mean, and what `post_config` makes of them.
//!
//! `ClassifyModel` loads and validates the model while httpd parses its configuration, so
//! `apachectl configtest` (which never runs `post_config`) rejects a missing or broken model with
//! "Syntax error on line N of FILE". The loaded model belongs to the section's `ModelSection`,
//! which the configuration pool owns, and being loaded in the parent before children fork, one
//! copy is shared by every child.

use crate::apache::log::Server;
use crate::apache::{self, Directive, Level, ServerState};
use crate::models::{self, NamedModel};
use crate::{code_pages, log_server, shared_counters};

pub(crate) fn model(directive: &mut Directive<'_>, arg: &str) -> Result<(), String> {
    let path = directive.server_relative(arg);
    let (model, fresh) = models::load(&path).map_err(|e| format!("ClassifyModel: {e}"))?;
    let section = directive.section()?;
    section.load_seconds = fresh.then_some(model.source.load_ms / 1000.0);
    section.model = Some(model);
    Ok(())
}

pub(crate) fn max_body_size(directive: &mut Directive<'_>, arg: &str) -> Result<(), String> {
    directive.settings().max_body = Some(parse_size("ClassifyMaxBodySize", arg)?);
    Ok(())
}

pub(crate) fn max_batch(directive: &mut Directive<'_>, arg: &str) -> Result<(), String> {
    directive.settings().max_batch = Some(parse_size("ClassifyMaxBatch", arg)?);
    Ok(())
}

pub(crate) fn default_format(directive: &mut Directive<'_>, arg: &str) -> Result<(), String> {
    directive.settings().prefer_json = Some(match arg.to_ascii_lowercase().as_str() {
        "text" => false,
        "json" => true,
        _ => return Err(format!("ClassifyDefaultFormat: {arg:?} is neither text nor json")),
    });
    Ok(())
}

pub(crate) fn page(directive: &mut Directive<'_>, arg: &str) -> Result<(), String> {
    directive.settings().page = Some(match arg.to_ascii_lowercase().as_str() {
        "on" => true,
        "off" => false,
        _ => return Err(format!("ClassifyPage: {arg:?} is neither On nor Off")),
    });
    Ok(())
}

pub(crate) fn model_name(directive: &mut Directive<'_>, arg: &str) -> Result<(), String> {
    if arg.is_empty() || arg.contains(['/', '"', '\\']) || arg.chars().any(char::is_control) {
        return Err(format!(
            "ClassifyModelName: {arg:?} is not a usable name (non-empty, no '/', '\"', '\\' or \
             control characters)"
        ));
    }
    directive.section()?.name = Some(arg.to_owned());
    Ok(())
}

fn parse_size(directive: &str, arg: &str) -> Result<usize, String> {
    arg.parse::<usize>()
        .map_err(|_| format!("{directive}: {arg:?} is not a non-negative whole number"))
}

/// `post_config`, once every directive of every virtual host is read: logs the loads, gives each
/// model section its counter slot, counts the loads, publishes the named models for the inference
/// API (the first section to use a name keeps it), and hands back the memory loading freed.
pub(crate) fn finish_configuration(server: &Server, states: &mut [&mut ServerState]) {
    let lines = models::take_announcements();
    // The first start-up pass is a dry run: its models are discarded, so stay quiet.
    if apache::is_dry_run() {
        return;
    }
    for line in lines {
        log_server!(server, Level::Notice, "{line}");
    }
    let mut named: Vec<NamedModel> = Vec::new();
    let mut retained = Vec::new();
    for state in states.iter_mut() {
        for section in state.sections_mut() {
            let Some(model) = section.model.clone() else {
                if let Some(name) = &section.name {
                    log_server!(
                        server,
                        Level::Warning,
                        "CLS00007: ClassifyModelName {name:?} is in a section without \
                         ClassifyModel, so it names nothing: put it beside the ClassifyModel \
                         it names"
                    );
                }
                continue;
            };
            let Some(name) = section.model_name() else { continue };
            section.metrics_slot = shared_counters::slot_for(&name);
            if let Some(slot) = section.metrics_slot {
                let classes: Vec<String> =
                    model.model.classes().iter().map(|c| c.to_string()).collect();
                shared_counters::bind_classes(slot, &classes);
            }
            if let (Some(slot), Some(seconds)) = (section.metrics_slot, section.load_seconds) {
                shared_counters::record_load(slot, seconds);
            }
            retained.push(model.clone());
            match named.iter().find(|entry| entry.name == name) {
                Some(entry) if !std::sync::Arc::ptr_eq(&entry.model, &model) => log_server!(
                    server,
                    Level::Warning,
                    "CLS00005: model name {name:?} names both {} and {}; the inference API \
                     serves the first: give one a ClassifyModelName",
                    entry.model.source.path,
                    model.source.path
                ),
                Some(_) => {}
                None => named.push(NamedModel { name, model, metrics_slot: section.metrics_slot }),
            }
        }
    }
    for state in states.iter_mut() {
        state.set_named(named.clone());
    }
    models::retain_until_next_generation(retained);
    code_pages::release_parent_pages();
    // The dry run's models, the previous generation's, the loaders' temporaries and the smaps
    // text just read were freed: with a 130 MB model, glibc kept 14 MB of such pages resident
    // in every child.
    apache::os::release_free_heap();
}
