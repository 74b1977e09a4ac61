//! The docs are checked against the code, so they cannot drift: every
//! command and flag in docs/CLI.md, every route in docs/API.md, every
//! `serve` variable in README.md and `serve --help`, links and paths that
//! resolve inside the repository, and one set of restore steps.

use std::path::{Path, PathBuf};

use clap::CommandFactory;
use shopchat::cli::Cli;
use shopchat::http::routes::ROUTES;

use crate::clikit::{cmd_for, run};
use crate::common::TestServer;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// `## ` sections of a Markdown page: (heading, body).
fn sections(md: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in md.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            out.push((h.to_string(), String::new()));
        } else if let Some((_, body)) = out.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

/// Every flag and variable of `cmd` and its subcommands must be in `text`,
/// and every subcommand named there as `PATH SUB`.
fn missing_from(cmd: &clap::Command, path: &str, text: &str, missing: &mut Vec<String>) {
    for arg in cmd.get_arguments() {
        if arg.is_global_set() || arg.is_hide_set() {
            continue;
        }
        if let Some(long) = arg.get_long() {
            if !text.contains(&format!("--{long}")) {
                missing.push(format!("{path}: --{long}"));
            }
        }
        if let Some(env) = arg.get_env().and_then(|e| e.to_str()) {
            if !text.contains(env) {
                missing.push(format!("{path}: {env}"));
            }
        }
    }
    for sub in cmd.get_subcommands() {
        let sub_path = format!("{path} {}", sub.get_name());
        if !text.contains(&sub_path) {
            missing.push(sub_path.clone());
        }
        missing_from(sub, &sub_path, text, missing);
    }
}

/// Every long flag anywhere in the command tree.
fn all_flags(cmd: &clap::Command, out: &mut Vec<String>) {
    out.extend(
        cmd.get_arguments()
            .filter_map(|a| a.get_long())
            .map(str::to_string),
    );
    for sub in cmd.get_subcommands() {
        all_flags(sub, out);
    }
}

#[test]
fn cli_md_documents_every_command_and_flag() {
    let md = read("docs/CLI.md");
    let cli = Cli::command();
    let mut missing = Vec::new();
    for arg in cli.get_arguments().filter(|a| a.is_global_set()) {
        let long = arg.get_long().unwrap();
        if !md.contains(&format!("--{long}")) {
            missing.push(format!("global --{long}"));
        }
        if let Some(env) = arg.get_env().and_then(|e| e.to_str()) {
            if !md.contains(env) {
                missing.push(format!("global {env}"));
            }
        }
    }
    let sections = sections(&md);
    for cmd in cli.get_subcommands() {
        let name = cmd.get_name();
        // A command's section has it in the heading: "## `reply ID [TEXT]`: ...".
        let section = sections
            .iter()
            .find(|(h, _)| h.contains(&format!("`{name}`")) || h.contains(&format!("`{name} ")));
        let Some((heading, body)) = section else {
            missing.push(format!("a section for `{name}`"));
            continue;
        };
        let text = format!("{heading}\n{body}");
        missing_from(cmd, name, &text, &mut missing);
    }
    assert!(
        missing.is_empty(),
        "docs/CLI.md does not document (in the command's own section):\n{}",
        missing.join("\n")
    );

    // And it names no flag that does not exist.
    let mut flags = vec!["help".to_string(), "version".to_string()];
    all_flags(&cli, &mut flags);
    let unknown: Vec<&str> = md
        .match_indices("--")
        .map(|(at, _)| {
            let rest = &md[at + 2..];
            let end = rest
                .find(|c: char| !(c.is_ascii_lowercase() || c == '-'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .filter(|f| f.starts_with(|c: char| c.is_ascii_lowercase()))
        .filter(|f| !flags.iter().any(|k| k == f))
        .collect();
    assert!(
        unknown.is_empty(),
        "docs/CLI.md names unknown flags: {unknown:?}"
    );
}

#[test]
fn every_serve_variable_is_in_the_readme_and_in_serve_help() {
    let cli = Cli::command();
    let serve = cli.find_subcommand("serve").unwrap();
    let vars: Vec<String> = serve
        .get_arguments()
        .filter_map(|a| a.get_env().and_then(|e| e.to_str()).map(str::to_string))
        .collect();
    assert!(vars.len() > 15, "{vars:?}");
    let readme = read("README.md");
    let mut c = cmd_for(Path::new("chat.db"));
    c.args(["serve", "--help"]);
    let help = run(c).ok();
    for var in &vars {
        assert!(
            readme.contains(&format!("`{var}`")),
            "README.md lacks {var}"
        );
        assert!(
            help.contains(&format!("[env: {var}")),
            "serve --help lacks {var}"
        );
    }
    // Each setting shows its default, or says in words what absent means.
    for arg in serve.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if arg.get_env().is_none() {
            continue;
        }
        let described = !arg.get_default_values().is_empty()
            || arg
                .get_help()
                .is_some_and(|h| h.to_string().contains("[default: "));
        assert!(described, "--{long} shows no default in --help");
    }
}

#[test]
fn api_md_documents_every_route_and_the_cors_headers() {
    let md = read("docs/API.md");
    let missing: Vec<String> = ROUTES
        .iter()
        .map(|(m, p)| format!("{m} {p}"))
        .filter(|r| !md.contains(r.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/API.md does not document: {missing:?}"
    );

    let s = TestServer::start();
    let r = s.call(
        "OPTIONS",
        "/api/public/chat/sessions",
        &[("Origin", "https://shop.example")],
        None,
    );
    assert_eq!(r.status, 204);
    for name in [
        "Access-Control-Allow-Origin",
        "Access-Control-Allow-Methods",
        "Access-Control-Allow-Headers",
        "Access-Control-Expose-Headers",
        "Access-Control-Max-Age",
    ] {
        let value = r.header(name).unwrap_or_else(|| panic!("no {name}"));
        assert!(
            md.contains(&format!("{name}: {value}")),
            "docs/API.md lacks `{name}: {value}`"
        );
    }
}

#[test]
fn every_route_in_the_table_is_served() {
    let s = TestServer::start();
    for (method, pattern) in ROUTES {
        let path = pattern
            .replace(":id", "6f1c1a3e-0000-4000-8000-000000000000")
            .replace(":name", "admin.js");
        let body = (*method == "POST").then_some("{}");
        let r = s.call(method, &path, &[("Content-Type", "application/json")], body);
        let unrouted = r.status == 405 || (r.status == 404 && r.text.contains("no such endpoint"));
        assert!(!unrouted, "{method} {pattern} is not routed: {r:?}");
    }
}

/// The Markdown pages of the repository.
fn pages() -> Vec<String> {
    let mut pages: Vec<String> = [
        "README.md",
        "ARCHITECTURE.md",
        "vendor/tiny_http/PATCHED.md",
    ]
    .map(String::from)
    .to_vec();
    for dir in ["docs", "bench"] {
        for e in std::fs::read_dir(repo().join(dir)).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            if std::path::Path::new(&name)
                .extension()
                .is_some_and(|e| e == "md")
            {
                pages.push(format!("{dir}/{name}"));
            }
        }
    }
    pages
}

/// GitHub's anchor for a heading.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(md: &str) -> Vec<String> {
    md.lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| slug(l.trim_start_matches('#')))
        .collect()
}

#[test]
fn docs_stand_alone_every_link_and_path_resolves_in_the_repository() {
    let root = repo();
    let mut broken = Vec::new();
    for page in pages() {
        let md = read(&page);
        let dir = Path::new(&page).parent().unwrap().to_path_buf();
        if md.contains("SPEC") {
            broken.push(format!(
                "{page}: cites SPEC, which is not in the repository"
            ));
        }
        // Relative links, with their anchors.
        for (at, _) in md.match_indices("](") {
            let target = &md[at + 2..];
            let target = &target[..target.find(')').unwrap_or(0)];
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = target.split_once('#').unwrap_or((target, ""));
            let resolved = if file.is_empty() {
                root.join(&page)
            } else {
                root.join(&dir).join(file)
            };
            if !resolved.exists() {
                broken.push(format!("{page}: link to {target}"));
            } else if !anchor.is_empty()
                && !anchors(&std::fs::read_to_string(&resolved).unwrap())
                    .iter()
                    .any(|a| a == anchor)
            {
                broken.push(format!("{page}: no heading for #{anchor} in {file}"));
            }
        }
        // Paths named in backticks: `src/store/`, `docs/API.md`, `PATCHED.md`.
        for (i, chunk) in md.split('`').enumerate() {
            if i % 2 == 0 || chunk.contains(|c: char| c.is_whitespace() || "*{}<>$".contains(c)) {
                continue;
            }
            let repo_path = ["src/", "docs/", "tests/", "bench/", "vendor/"]
                .iter()
                .any(|p| chunk.starts_with(p));
            if repo_path && !root.join(chunk).exists() {
                broken.push(format!("{page}: `{chunk}` does not exist"));
            }
            if !chunk.contains('/')
                && std::path::Path::new(chunk)
                    .extension()
                    .is_some_and(|e| e == "md")
                && !exists_anywhere(&root, chunk)
            {
                broken.push(format!("{page}: `{chunk}` is not in the repository"));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

fn exists_anywhere(dir: &Path, name: &str) -> bool {
    std::fs::read_dir(dir).unwrap().any(|e| {
        let e = e.unwrap();
        let path = e.path();
        let skip = ["target", "node_modules", ".git"]
            .iter()
            .any(|s| path.file_name().is_some_and(|n| n == *s));
        if skip {
            false
        } else if path.is_dir() {
            exists_anywhere(&path, name)
        } else {
            path.file_name().is_some_and(|n| n == name)
        }
    })
}

#[test]
fn cli_md_and_operations_md_restore_the_same_way() {
    let restore = |page: &str| {
        let md = read(page).split_whitespace().collect::<Vec<_>>().join(" ");
        let start = md
            .find("To restore:")
            .unwrap_or_else(|| panic!("{page} has no restore steps"));
        let end =
            start + md[start..].find("start the server.").unwrap() + "start the server.".len();
        md[start..end].to_string()
    };
    assert_eq!(restore("docs/CLI.md"), restore("docs/OPERATIONS.md"));
}
