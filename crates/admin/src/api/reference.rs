//! `docs/management-api.md`, generated from the OpenAPI document (so the
//! reference cannot drift from the handlers: a test compares the file with
//! this output, and `gatehouse openapi --markdown` rewrites it).

use std::fmt::Write as _;

use serde_json::Value;

/// The Markdown reference of an OpenAPI document.
pub fn markdown(doc: &Value) -> String {
    let mut out = String::new();
    let title = doc["info"]["title"].as_str().unwrap_or("API");
    let _ = writeln!(out, "# {title}: reference\n");
    let _ = writeln!(
        out,
        "<!-- Generated from the OpenAPI document by `gatehouse openapi --markdown`; do not edit. -->\n"
    );
    if let Some(d) = doc["info"]["description"].as_str() {
        let _ = writeln!(out, "{d}\n");
    }
    let _ = writeln!(
        out,
        "Paths are relative to `/api/v1`. The document itself is served at \
         `/api/v1/openapi.json` (OpenAPI {}). Guide: [administration.md](administration.md).\n",
        doc["openapi"].as_str().unwrap_or("3.1")
    );
    let Some(paths) = doc["paths"].as_object() else {
        return out;
    };
    let mut tags: Vec<(String, String)> = doc["tags"]
        .as_array()
        .map(|t| {
            t.iter()
                .map(|t| {
                    (
                        t["name"].as_str().unwrap_or_default().to_owned(),
                        t["description"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    if tags.is_empty() {
        tags.push((String::new(), String::new()));
    }
    for (tag, description) in &tags {
        let _ = writeln!(out, "## {}\n", capitalise(tag));
        if !description.is_empty() {
            let _ = writeln!(out, "{description}.\n");
        }
        for (path, item) in paths {
            let Some(methods) = item.as_object() else {
                continue;
            };
            for method in ["get", "post", "put", "patch", "delete"] {
                let Some(op) = methods.get(method) else {
                    continue;
                };
                let in_tag = op["tags"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t.as_str() == Some(tag)));
                if !in_tag && !tag.is_empty() {
                    continue;
                }
                operation(&mut out, method, path, op);
            }
        }
    }
    schemas(&mut out, doc);
    out
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => "Operations".to_owned(),
    }
}

fn operation(out: &mut String, method: &str, path: &str, op: &Value) {
    let _ = writeln!(out, "### `{} {path}`\n", method.to_uppercase());
    for key in ["summary", "description"] {
        if let Some(text) = op[key].as_str() {
            let _ = writeln!(out, "{}\n", text.trim());
        }
    }
    let scopes: Vec<&str> = op["security"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["gatehouse"].as_array())
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if !scopes.is_empty() {
        let _ = writeln!(out, "Scope: `{}`.\n", scopes.join("`, `"));
    }
    if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
        let _ = writeln!(
            out,
            "| Parameter | In | Required | Description |\n|---|---|---|---|"
        );
        for p in params {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                p["name"].as_str().unwrap_or_default(),
                p["in"].as_str().unwrap_or_default(),
                if p["required"].as_bool() == Some(true) {
                    "yes"
                } else {
                    "no"
                },
                cell(p["description"].as_str().unwrap_or_default()),
            );
        }
        out.push('\n');
    }
    if let Some(schema) = op["requestBody"]["content"]["application/json"]["schema"].as_object() {
        let _ = writeln!(out, "Body: {}.\n", type_of(&Value::Object(schema.clone())));
    }
    if let Some(responses) = op["responses"].as_object() {
        let _ = writeln!(out, "| Status | Body |\n|---|---|");
        for (status, r) in responses {
            let body = r["content"]
                .as_object()
                .and_then(|c| c.values().next())
                .map(|c| type_of(&c["schema"]))
                .unwrap_or_else(|| "none".to_owned());
            let _ = writeln!(out, "| {status} | {body} |");
        }
        out.push('\n');
    }
}

/// A schema's name as a link to its section, or its type.
fn type_of(schema: &Value) -> String {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap_or(r);
        return format!("[`{name}`](#{})", name.to_lowercase());
    }
    match schema["type"].as_str() {
        Some("array") => format!("array of {}", type_of(&schema["items"])),
        Some(t) => format!("`{t}`"),
        None => match schema["type"].as_array() {
            Some(types) => {
                let names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
                format!("`{}`", names.join(" | "))
            }
            None => {
                for key in ["oneOf", "anyOf", "allOf"] {
                    if let Some(list) = schema[key].as_array() {
                        let parts: Vec<String> = list
                            .iter()
                            .filter(|s| s["type"].as_str() != Some("null"))
                            .map(type_of)
                            .collect();
                        return parts.join(" or ");
                    }
                }
                "any JSON".to_owned()
            }
        },
    }
}

fn schemas(out: &mut String, doc: &Value) {
    let Some(schemas) = doc["components"]["schemas"].as_object() else {
        return;
    };
    let _ = writeln!(out, "## Schemas\n");
    for (name, schema) in schemas {
        let _ = writeln!(out, "### {name}\n");
        if let Some(d) = schema["description"].as_str() {
            let _ = writeln!(out, "{}\n", d.trim());
        }
        if let Some(values) = schema["enum"].as_array() {
            let names: Vec<String> = values
                .iter()
                .filter_map(Value::as_str)
                .map(|v| format!("`{v}`"))
                .collect();
            let _ = writeln!(out, "One of {}.\n", names.join(", "));
            continue;
        }
        let Some(props) = schema["properties"].as_object() else {
            continue;
        };
        let required: Vec<&str> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let _ = writeln!(
            out,
            "| Field | Type | Required | Description |\n|---|---|---|---|"
        );
        for (field, p) in props {
            let _ = writeln!(
                out,
                "| `{field}` | {} | {} | {} |",
                type_of(p),
                if required.contains(&field.as_str()) {
                    "yes"
                } else {
                    "no"
                },
                cell(p["description"].as_str().unwrap_or_default()),
            );
        }
        out.push('\n');
    }
}

/// Text safe in a table cell.
fn cell(s: &str) -> String {
    s.trim().replace('\n', " ").replace('|', "\\|")
}
