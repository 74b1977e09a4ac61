//! The rules of ARCHITECTURE.md ("Invariants") that reading the source can
//! check, checked on every `cargo test`: which module may use `tiny_http`,
//! run SQL, set PRAGMAs, use anyhow, call the Bot API, read settings.
//!
//! Only the product's code is read (`src/`): tests and `vendor/` may use
//! what they need (the fake Bot API serves HTTP with `tiny_http`). Comments
//! never count, so a doc comment may name what it must not use. The
//! checker is itself tested: it passes on this tree and finds every
//! violation planted in a copy of it.

use std::path::{Path, PathBuf};

/// One rule: what it finds in a file, and where that is allowed.
struct Rule {
    name: &'static str,
    /// Path prefixes (relative, with `/`) the rule is about.
    applies: &'static [&'static str],
    /// Path prefixes where the rule's matches are fine.
    allowed: &'static [&'static str],
    finds: fn(&Lexed) -> Vec<usize>,
}

const RULES: &[Rule] = &[
    Rule {
        name: "tiny_http outside src/http/",
        applies: &["src/"],
        allowed: &["src/http/"],
        finds: |f| f.code_lines_with_word("tiny_http"),
    },
    Rule {
        name: "SQL outside src/store/ and src/db.rs",
        applies: &["src/"],
        allowed: &["src/store/", "src/db.rs"],
        finds: |f| {
            let mut lines = f.strings_where(is_sql);
            for call in [
                ".execute(",
                ".execute_batch(",
                ".prepare(",
                ".prepare_cached(",
                ".query_row(",
                ".query_map(",
                ".transaction(",
                ".transaction_with_behavior(",
                ".unchecked_transaction(",
                "Connection::open",
            ] {
                lines.extend(f.code_lines_with(call));
            }
            lines
        },
    },
    Rule {
        name: "PRAGMA outside src/db.rs",
        applies: &["src/"],
        allowed: &["src/db.rs"],
        finds: |f| {
            let mut lines = f.strings_where(|s| s.to_ascii_uppercase().contains("PRAGMA "));
            for call in [
                ".pragma_update(",
                ".pragma_query(",
                ".pragma(",
                ".pragma_query_value(",
            ] {
                lines.extend(f.code_lines_with(call));
            }
            lines
        },
    },
    Rule {
        name: "anyhow outside src/commands/ and src/main.rs",
        applies: &["src/"],
        allowed: &["src/commands/", "src/main.rs"],
        finds: |f| f.code_lines_with_word("anyhow"),
    },
    Rule {
        name: "an HTTP client outside src/telegram/",
        applies: &["src/"],
        allowed: &["src/telegram/"],
        finds: |f| f.code_lines_with_word("ureq"),
    },
    Rule {
        // `shopchat telegram test|chats` call the Bot API through the client
        // directly, on purpose (ARCHITECTURE.md says why); nothing else may.
        name: "Bot API calls outside src/telegram/ (and the telegram command)",
        applies: &["src/"],
        allowed: &["src/telegram/", "src/commands/telegram.rs"],
        finds: |f| {
            // (lettre's `smtp::client::` is the SMTP client of email.rs.)
            let mut lines: Vec<usize> = f
                .code_lines_with("client::")
                .into_iter()
                .filter(|&n| !f.code[n - 1].contains("smtp::client::"))
                .collect();
            lines.extend(f.code_lines_with_word("Client"));
            // A Bot API URL is {base}/bot{token}/{method}.
            lines.extend(f.strings_where(|s| s.contains("/bot")));
            lines
        },
    },
    Rule {
        name: "a setting's variable read outside src/cli.rs",
        applies: &["src/"],
        allowed: &["src/cli.rs"],
        finds: |f| f.strings_where(is_setting_variable),
    },
    Rule {
        name: "a command other than serve, create-tables and demo-data creating a database",
        applies: &["src/commands/"],
        // demo-data makes a database to fill when there is none (on purpose:
        // a benchmark or a try-out starts from nothing).
        allowed: &[
            "src/commands/serve.rs",
            "src/commands/create_tables.rs",
            "src/commands/demo_data/mod.rs",
        ],
        finds: |f| f.code_lines_with("db::init("),
    },
    Rule {
        // Commands go through chat.rs; only serve starts the server.
        name: "HTTP code in a command other than serve",
        applies: &["src/commands/"],
        allowed: &["src/commands/serve.rs"],
        finds: |f| f.code_lines_with("http::"),
    },
];

fn is_sql(s: &str) -> bool {
    [
        "SELECT ",
        "INSERT INTO ",
        "INSERT OR ",
        "DELETE FROM ",
        "CREATE TABLE",
        "CREATE INDEX",
        "DROP TABLE",
        "ALTER TABLE",
        "BEGIN IMMEDIATE",
    ]
    .iter()
    .any(|k| s.contains(k))
        || (s.contains("UPDATE ") && s.contains(" SET "))
}

/// Exactly a variable name like `CHAT_BIND` or `TELEGRAM_TOPICS`.
fn is_setting_variable(s: &str) -> bool {
    let rest = s
        .strip_prefix("CHAT_")
        .or_else(|| s.strip_prefix("TELEGRAM_"));
    rest.is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'))
}

/// A Rust file with comments removed: the code (string literals emptied,
/// lines kept) and the string literals with their line numbers.
struct Lexed {
    code: Vec<String>,
    strings: Vec<(usize, String)>,
}

impl Lexed {
    fn code_lines_with(&self, needle: &str) -> Vec<usize> {
        (0..self.code.len())
            .filter(|&i| self.code[i].contains(needle))
            .map(|i| i + 1)
            .collect()
    }

    /// Lines where `word` appears as a whole identifier.
    fn code_lines_with_word(&self, word: &str) -> Vec<usize> {
        let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
        (0..self.code.len())
            .filter(|&i| {
                let line = &self.code[i];
                line.match_indices(word).any(|(at, _)| {
                    let before = line[..at].chars().next_back();
                    let after = line[at + word.len()..].chars().next();
                    !before.is_some_and(ident) && !after.is_some_and(ident)
                })
            })
            .map(|i| i + 1)
            .collect()
    }

    fn strings_where(&self, pred: impl Fn(&str) -> bool) -> Vec<usize> {
        self.strings
            .iter()
            .filter(|(_, s)| pred(s))
            .map(|(line, _)| *line)
            .collect()
    }
}

/// Splits Rust source into code and string literals, dropping comments.
/// Handles nested block comments, escapes, raw strings (`r#"..."#`) and
/// tells char literals from lifetimes; that is all these rules need.
fn lex(src: &str) -> Lexed {
    let chars: Vec<char> = src.chars().collect();
    let mut code = String::new();
    let mut strings = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        line += 1;
                        code.push('\n');
                    }
                    i += 1;
                }
            }
        } else if c == 'r'
            && matches!(next, Some('"' | '#'))
            && match i.checked_sub(1).map(|k| chars[k]) {
                // r"..", or br".." (a byte string's b)
                Some('b') => !(i > 1 && ident(chars[i - 2])),
                Some(p) => !ident(p),
                None => true,
            }
            && {
                let mut j = i + 1;
                while chars.get(j) == Some(&'#') {
                    j += 1;
                }
                chars.get(j) == Some(&'"')
            }
        {
            let mut hashes = 0;
            i += 1;
            while chars[i] == '#' {
                hashes += 1;
                i += 1;
            }
            i += 1; // the opening quote
            let start_line = line;
            let mut s = String::new();
            while i < chars.len() {
                if chars[i] == '"' && (1..=hashes).all(|k| chars.get(i + k) == Some(&'#')) {
                    i += 1 + hashes;
                    break;
                }
                if chars[i] == '\n' {
                    line += 1;
                }
                s.push(chars[i]);
                i += 1;
            }
            strings.push((start_line, s.clone()));
            code.push_str("\"\"");
            code.extend(s.chars().filter(|&c| c == '\n'));
        } else if c == '"' {
            i += 1;
            let start_line = line;
            let mut s = String::new();
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                if let Some(&ch) = chars.get(i) {
                    if ch == '\n' {
                        line += 1;
                    }
                    s.push(ch);
                }
                i += 1;
            }
            i += 1; // the closing quote
            strings.push((start_line, s.clone()));
            code.push_str("\"\"");
            code.extend(s.chars().filter(|&c| c == '\n'));
        } else if c == '\'' {
            // A char literal ('a', '\n', '\'') or a lifetime ('a).
            if next == Some('\\') {
                i += 3; // the quote, the backslash and the escaped char
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
                code.push_str("' '");
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
                code.push_str("' '");
            } else {
                code.push(c);
                i += 1;
            }
        } else {
            if c == '\n' {
                line += 1;
            }
            code.push(c);
            i += 1;
        }
    }
    Lexed {
        code: code.split('\n').map(str::to_string).collect(),
        strings,
    }
}

/// A broken rule: which, where.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Violation {
    rule: &'static str,
    file: String,
    line: usize,
}

/// What a scan of a tree found.
struct Report {
    violations: Vec<Violation>,
    /// Per rule, matches in allowed places: a rule matching nothing
    /// anywhere would be checking nothing.
    allowed_hits: Vec<(&'static str, usize)>,
    files: usize,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Checks every rule over `root/src`.
fn check(root: &Path) -> Report {
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    let mut violations = Vec::new();
    let mut allowed_hits: Vec<(&'static str, usize)> = RULES.iter().map(|r| (r.name, 0)).collect();
    for path in &files {
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let lexed = lex(&std::fs::read_to_string(path).unwrap());
        for (k, rule) in RULES.iter().enumerate() {
            let mut lines = (rule.finds)(&lexed);
            lines.sort_unstable();
            lines.dedup();
            if !rule.applies.iter().any(|a| rel.starts_with(a)) {
                continue;
            }
            if rule.allowed.iter().any(|a| rel.starts_with(a)) {
                allowed_hits[k].1 += lines.len();
            } else {
                violations.extend(lines.into_iter().map(|line| Violation {
                    rule: rule.name,
                    file: rel.clone(),
                    line,
                }));
            }
        }
    }
    Report {
        violations,
        allowed_hits,
        files: files.len(),
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let dest = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &dest);
        } else {
            std::fs::copy(&path, &dest).unwrap();
        }
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_source_keeps_the_architecture_rules() {
    let report = check(&repo());
    assert!(report.files > 30, "scanned only {} files", report.files);
    let list: Vec<String> = report
        .violations
        .iter()
        .map(|v| format!("{}:{}: {}", v.file, v.line, v.rule))
        .collect();
    assert!(
        list.is_empty(),
        "ARCHITECTURE.md's invariants are broken:\n{}",
        list.join("\n")
    );
    for (rule, hits) in &report.allowed_hits {
        assert!(*hits > 0, "the rule '{rule}' matches nothing anywhere");
    }
}

#[test]
fn the_checker_finds_each_planted_violation_and_nothing_in_comments() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&repo().join("src"), &dir.path().join("src"));
    let plant = |file: &str, text: &str| {
        let path = dir.path().join(file);
        let mut s = std::fs::read_to_string(&path).unwrap();
        s.push_str(text);
        std::fs::write(&path, s).unwrap();
    };
    // Decoys: comments and plain words never count.
    plant(
        "src/chat.rs",
        "\n// tiny_http, anyhow, ureq, \"SELECT 1\" and PRAGMA in a comment\n\
         /* a block comment: conn.execute(\"DELETE FROM x\") /* nested */ still a comment */\n\
         /// Lifetimes and chars: 'a, '\"', '\\''.\n\
         pub fn decoy<'a>(s: &'a str) -> (char, &'a str) { ('\"', s) }\n",
    );
    // One violation of each rule, each in a place it is not allowed.
    plant("src/chat.rs", "\nuse tiny_http::Server;\n");
    plant(
        "src/commands/stats.rs",
        "\nfn sneaky(c: &rusqlite::Connection) { c.execute(\"UPDATE chat_sessions SET status = 'x'\", []).ok(); }\n",
    );
    plant(
        "src/store/mod.rs",
        "\nconst SYNC: &str = r#\"PRAGMA synchronous = OFF\"#;\n",
    );
    plant(
        "src/config.rs",
        "\nfn oops() -> anyhow::Result<()> { Ok(()) }\n",
    );
    plant(
        "src/http/admin.rs",
        "\nfn direct() { let _ = ureq::get(\"https://api.telegram.org/botX/sendMessage\"); }\n",
    );
    plant(
        "src/commands/reply.rs",
        "\nfn tell() { let _ = crate::telegram::client::Client::new; }\n",
    );
    plant(
        "src/commands/watch.rs",
        "\nfn bind() -> Option<String> { std::env::var(\"CHAT_BIND\").ok() }\n",
    );
    plant(
        "src/commands/keys.rs",
        "\nfn fresh(p: &std::path::Path) { let _ = crate::db::init(p); }\n",
    );
    plant(
        "src/commands/close.rs",
        "\nfn handler() { let _ = crate::http::routes::is_public; }\n",
    );

    let found: Vec<(String, &str)> = {
        let mut v: Vec<(String, &str)> = check(dir.path())
            .violations
            .into_iter()
            .map(|v| (v.file, v.rule))
            .collect();
        v.dedup();
        v
    };
    let want = [
        ("src/chat.rs", "tiny_http outside src/http/"),
        (
            "src/commands/close.rs",
            "HTTP code in a command other than serve",
        ),
        (
            "src/commands/keys.rs",
            "a command other than serve, create-tables and demo-data creating a database",
        ),
        (
            "src/commands/reply.rs",
            "Bot API calls outside src/telegram/ (and the telegram command)",
        ),
        (
            "src/commands/stats.rs",
            "SQL outside src/store/ and src/db.rs",
        ),
        (
            "src/commands/watch.rs",
            "a setting's variable read outside src/cli.rs",
        ),
        (
            "src/config.rs",
            "anyhow outside src/commands/ and src/main.rs",
        ),
        ("src/http/admin.rs", "an HTTP client outside src/telegram/"),
        (
            "src/http/admin.rs",
            "Bot API calls outside src/telegram/ (and the telegram command)",
        ),
        ("src/store/mod.rs", "PRAGMA outside src/db.rs"),
    ];
    let mut want: Vec<(String, &str)> = want.iter().map(|(f, r)| (f.to_string(), *r)).collect();
    want.sort();
    let mut found_sorted = found.clone();
    found_sorted.sort();
    found_sorted.dedup();
    assert_eq!(found_sorted, want, "found: {found:#?}");
}

#[test]
fn the_lexer_keeps_code_strings_and_lines_apart() {
    let l = lex("let a = \"x // y\"; // z tiny_http\nlet b = r#\"q \"inner\" \"#; /* c\n d */ let c = 'x';\nlet d: &'static str = \"\";\n");
    assert_eq!(l.code.len(), 5);
    assert_eq!(l.strings[0], (1, "x // y".to_string()));
    assert_eq!(l.strings[1], (2, "q \"inner\" ".to_string()));
    assert!(l.code_lines_with_word("tiny_http").is_empty());
    assert_eq!(l.code_lines_with("let c"), vec![3]);
    assert_eq!(l.code_lines_with("'static"), vec![4]);
}
