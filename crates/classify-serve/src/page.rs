//! The try-it page (`ClassifyPage On`): a browser's GET of the `<Location>` with no text answers
//! an HTML page where a person types a text and sees the model's answer, a bar per class and the
//! explanation drawn on the text. The page is static HTML describing the model, plus a script
//! and a style sheet the module serves itself (`?page-asset=page.js|page.css`), so it works
//! under a strict Content-Security-Policy (no inline script or style, nothing from elsewhere);
//! the script calls the module's own JSON API. Machine clients never see it: it needs
//! `ClassifyPage On` and an `Accept` that names `text/html`.

use classify_core::model::{Model, Task};

use crate::counters::AnswerTally;
use crate::html::escape;
use crate::protocol::{Method, ModelSource, Request, Response};

const SCRIPT: &str = include_str!("../assets/page.js");
const STYLE: &str = include_str!("../assets/page.css");
/// The tab's icon: served here, so a browser's favicon request never reaches the document root.
const ICON: &str = include_str!("../assets/icon.svg");

/// The page's own policy: its script, style sheet and API calls come from this location only.
/// (Apache may add a stricter one; the page needs no more than this.)
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The query parameter naming an asset of the page.
const ASSET_PARAMETER: &str = "page-asset=";

/// Explanations asked for by the page (n-grams listed).
const EXPLAINED_FEATURES: usize = 12;

/// The page or one of its assets, when `request` asks for one of them; `None` otherwise (the
/// request is the API's).
pub(crate) fn answer(
    model: &Model,
    source: &ModelSource,
    request: &Request<'_>,
) -> Option<Response> {
    if !request.page || !matches!(request.method, Some(Method::Get | Method::Head)) {
        return None;
    }
    if !request.path_text.is_empty() {
        return None;
    }
    match request.query.unwrap_or("") {
        "" if accepts_html(request.accept) => Some(page(model, source, request.model_name)),
        query => query.strip_prefix(ASSET_PARAMETER).and_then(asset),
    }
}

/// Whether `Accept` names `text/html` (with a quality above 0): a browser navigating.
fn accepts_html(accept: Option<&str>) -> bool {
    accept.is_some_and(|accept| {
        accept.split(',').any(|item| {
            let mut parts = item.split(';');
            let media = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                let p = p.trim();
                p.strip_prefix("q=")
                    .is_some_and(|q| q.trim().parse::<f64>().is_ok_and(|q| q <= 0.0))
            });
            media.eq_ignore_ascii_case("text/html") && !refused
        })
    })
}

fn asset(name: &str) -> Option<Response> {
    let (content_type, body) = match name {
        "page.js" => ("text/javascript; charset=utf-8", SCRIPT),
        "page.css" => ("text/css; charset=utf-8", STYLE),
        "icon.svg" => ("image/svg+xml", ICON),
        _ => return None,
    };
    Some(respond(content_type, body.as_bytes().to_vec(), "public, max-age=300"))
}

fn respond(content_type: &'static str, body: Vec<u8>, cache: &str) -> Response {
    Response {
        status: 200,
        content_type,
        body,
        label: None,
        allow: None,
        headers: vec![
            ("Content-Security-Policy".to_owned(), CONTENT_SECURITY_POLICY.to_owned()),
            ("X-Content-Type-Options".to_owned(), "nosniff".to_owned()),
            ("Cache-Control".to_owned(), cache.to_owned()),
            ("Vary".to_owned(), "Accept".to_owned()),
        ],
        answers: AnswerTally::default(),
    }
}

/// The HTML: what the model is, the form, and the empty places the script fills.
fn page(model: &Model, source: &ModelSource, model_name: Option<&str>) -> Response {
    let name = model_name.unwrap_or_else(|| source.path.rsplit('/').next().unwrap_or(&source.path));
    let task = model.task();
    let answers = match task {
        Task::Classification => format!("one of {} classes", model.classes().len()),
        Task::MultiLabel => format!("any of {} labels", model.classes().len()),
        Task::Regression => "a number".to_owned(),
    };
    let explanation = model.explanation_unavailable().unwrap_or_default();
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>Try {name}</title><link rel=\"stylesheet\" href=\"?page-asset=page.css\">\
<link rel=\"icon\" href=\"?page-asset=icon.svg\" type=\"image/svg+xml\"></head>\n<body>\
<main id=\"classify-page\" data-task=\"{task}\" data-classes=\"{classes}\" \
data-probabilities=\"{probabilities}\" data-explain=\"{explain}\" \
data-explain-unavailable=\"{unavailable}\">\n\
<h1>Try the model <span id=\"model-name\">{name}</span></h1>\n\
<p class=\"about\">{estimator}, answers {answers}, {features} features.</p>\n\
<form id=\"form\"><label for=\"text\">Text</label>\
<textarea id=\"text\" name=\"text\" required autofocus \
placeholder=\"Type or paste a text\"></textarea>\
<div class=\"actions\"><button type=\"submit\" id=\"submit\">Classify</button>\
<span class=\"hint\">Ctrl+Enter also classifies.</span></div></form>\n\
<p id=\"error\" class=\"error\" role=\"alert\" hidden></p>\n\
<section id=\"result\" aria-live=\"polite\" hidden>\
<p class=\"answer\" id=\"answer\"></p>\
<div id=\"ranking\"><h2 id=\"bars-title\">Per class</h2><div id=\"bars\" class=\"bars\"></div></div>\
<div id=\"why\"><h2>Why</h2><p id=\"no-explanation\" hidden></p>\
<div id=\"explanation\" hidden><p class=\"legend\"><mark class=\"for\">pushed toward the answer</mark> \
<mark class=\"against\">pushed against it</mark></p>\
<p id=\"no-places\" class=\"hint\" hidden></p>\
<div id=\"explained\" class=\"explained\"></div>\
<h2>Top contributions</h2><table id=\"contributions\"><thead><tr><th>n-gram</th>\
<th>contribution</th></tr></thead><tbody></tbody></table></div></div>\
</section>\n</main>\n<script src=\"?page-asset=page.js\"></script>\n</body></html>\n",
        name = escape(name),
        task = task.name(),
        classes = model.classes().len(),
        probabilities = model.has_probabilities(),
        explain = if explanation.is_empty() { EXPLAINED_FEATURES } else { 0 },
        unavailable = escape(&explanation),
        estimator = escape(model.estimator()),
        features = model.n_features(),
    );
    respond("text/html; charset=utf-8", html.into_bytes(), "no-cache")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::tiny;

    fn get<'a>(query: Option<&'a str>, accept: Option<&'a str>, page: bool) -> Request<'a> {
        Request { method: Some(Method::Get), query, accept, page, ..Default::default() }
    }

    const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

    #[test]
    fn a_browser_gets_the_page_only_when_it_is_on() {
        let source = ModelSource { path: "/srv/<reviews>.model".into(), ..Default::default() };
        let page = answer(&tiny(), &source, &get(None, Some(BROWSER), true)).expect("the page");
        assert_eq!(page.content_type, "text/html; charset=utf-8");
        let html = String::from_utf8(page.body).unwrap();
        assert!(html.contains("data-task=\"classification\""), "{html}");
        assert!(html.contains("&lt;reviews&gt;.model") && !html.contains("<reviews>"), "{html}");
        // No inline script or style: everything the page runs is an asset of its own.
        assert!(!html.contains("<script>") && !html.contains("style="), "{html}");
        assert!(page.headers.iter().any(|(name, value)| name == "Content-Security-Policy"
            && value.contains("script-src 'self'")));
        assert!(answer(&tiny(), &source, &get(None, Some(BROWSER), false)).is_none());
        for accept in [None, Some("*/*"), Some("application/json"), Some("text/html;q=0")] {
            assert!(answer(&tiny(), &source, &get(None, accept, true)).is_none(), "{accept:?}");
        }
        // A text, in the query or the path, is the API's.
        assert!(answer(&tiny(), &source, &get(Some("text=good"), Some(BROWSER), true)).is_none());
    }

    #[test]
    fn the_assets_are_served_and_nothing_else() {
        let source = ModelSource::default();
        let script =
            answer(&tiny(), &source, &get(Some("page-asset=page.js"), None, true)).unwrap();
        assert!(script.content_type.starts_with("text/javascript"));
        assert!(String::from_utf8(script.body).unwrap().contains("use strict"));
        let style =
            answer(&tiny(), &source, &get(Some("page-asset=page.css"), None, true)).unwrap();
        assert!(style.content_type.starts_with("text/css"));
        assert!(answer(&tiny(), &source, &get(Some("page-asset=../x"), None, true)).is_none());
    }
}
