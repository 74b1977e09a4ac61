//! `shopchat backup PATH`: a consistent copy of the database while the
//! server runs (`SQLite` online backup), checked before it is put in place.

use anyhow::{bail, Context};

use super::term;
use crate::cli::{BackupArgs, Cli};
use crate::store::stats;

pub(super) fn run(cli: &Cli, args: &BackupArgs) -> anyhow::Result<()> {
    let conn = term::open(cli)?;
    let dest = &args.path;
    if dest.is_dir() {
        bail!(
            "{} is a directory; give a file name, e.g. {}",
            dest.display(),
            dest.join("chat-backup.db").display()
        );
    }
    if dest.exists() {
        if same_file(&cli.db, dest) {
            bail!(
                "{} is the database itself; give another path for the copy",
                dest.display()
            );
        }
        if !args.force {
            bail!(
                "{} already exists; pass --force to overwrite it, or give another path",
                dest.display()
            );
        }
    }
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    if !dir.is_dir() {
        bail!(
            "the folder {} does not exist; create it first",
            dir.display()
        );
    }
    let file_name = dest
        .file_name()
        .map_or_else(|| "backup".into(), |n| n.to_string_lossy().into_owned());
    // Written beside the target and renamed into place, so a failed or
    // interrupted backup never leaves a half-written file under PATH.
    let tmp = dir.join(format!(".{file_name}.partial-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let result = (|| -> anyhow::Result<(i64, i64)> {
        crate::db::backup_to(&conn, &tmp).map_err(|e| match e {
            crate::Error::Busy => anyhow::anyhow!("the database stayed busy; try the backup again"),
            e => anyhow::Error::new(e).context(format!("could not write {}", tmp.display())),
        })?;
        let copy = crate::db::open(&tmp)?;
        let check = crate::db::integrity_check(&copy)?;
        if check != "ok" {
            bail!("the copy failed its integrity check ({check}); the original is untouched, try again");
        }
        let s = stats::compute(&copy, &crate::time::today_start())?;
        Ok((s.sessions.total, s.messages.total))
    })();
    let (chats, msgs) = match result {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    std::fs::rename(&tmp, dest)
        .with_context(|| format!("could not move the copy to {}", dest.display()))?;
    let bytes = std::fs::metadata(dest).map_or(0, |m| m.len());
    term::say(format!(
        "Backed up {} to {} ({chats} chats, {msgs} messages, {}); integrity check ok.",
        cli.db.display(),
        dest.display(),
        size(bytes)
    ))
}

fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
    }
}
