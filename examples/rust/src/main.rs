//! Tern "hello" example. Zero dependencies, so JSON is handled by hand: the raw (still
//! JSON-escaped) "name" string is copied verbatim into the output. Limitation: this is not a
//! real parser, so a "name"/"fail" key inside a nested object or a string value may match too.
use std::{env, fs, process};

/// The text following `"key"`, optional whitespace, ':' and optional whitespace.
fn value_of<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("\"{key}\"");
    json.match_indices(&pat).find_map(|(i, _)| {
        json[i + pat.len()..].trim_start().strip_prefix(':').map(str::trim_start)
    })
}

/// The raw contents of the JSON string literal at the start of `s`.
fn string_literal(s: &str) -> Option<&str> {
    let body = s.strip_prefix('"')?;
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some(&body[..i]),
            _ => escaped = false,
        }
    }
    None
}

fn run() -> Result<String, String> {
    let path = env::args().nth(1).ok_or("usage: bootstrap EVENT_FILE")?;
    let event = fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    if value_of(&event, "fail").is_some_and(|v| v.starts_with("true")) {
        return Err("requested failure".into());
    }
    let name = value_of(&event, "name").and_then(string_literal).unwrap_or("world");
    Ok(format!(r#"{{"message":"Hello, {name}!","runtime":"rust"}}"#))
}

fn main() {
    match run() {
        Ok(out) => println!("{out}"),
        Err(e) => {
            eprintln!("boom: {e}");
            process::exit(1);
        }
    }
}
