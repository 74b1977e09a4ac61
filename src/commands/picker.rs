//! A list picker for the terminal that stays current: ↑/↓ (PgUp/PgDn,
//! Home/End) move, Enter picks, Esc or q leaves, Ctrl-C exits 130; and the
//! list is read again and redrawn by itself whenever the database changes.

use std::io::Write;
use std::time::{Duration, Instant};

use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::{cursor, execute, terminal};

/// What the picker shows: a header and the items, as lines.
pub(super) struct Screen {
    pub header: Vec<String>,
    pub prompt: String,
    pub items: Vec<String>,
    /// A key per item, to keep the selection on the same thing across
    /// reloads (e.g. a chat id).
    pub keys: Vec<String>,
}

/// How often the picker asks whether the data changed.
const LOOK_EVERY: Duration = Duration::from_millis(100);
/// Redraw anyway this often (relative times age).
const REDRAW_EVERY: Duration = Duration::from_secs(30);

/// Shows `load()` and lets the user pick; calls `load` again when
/// `changed()` says so. Returns the picked item's index in the last screen
/// loaded and that screen, or `None` when the user leaves.
pub(super) fn pick(
    mut load: impl FnMut() -> anyhow::Result<Screen>,
    mut changed: impl FnMut() -> bool,
) -> anyhow::Result<Option<(usize, Screen)>> {
    let mut screen = load()?;
    let mut sel = 0usize;
    let raw_mode = RawMode::on()?;
    let mut drawn = Instant::now();
    draw(&screen, sel)?;
    loop {
        if event::poll(LOOK_EVERY)? {
            let Event::Key(KeyEvent {
                code,
                modifiers,
                kind,
                ..
            }) = event::read()?
            else {
                // A resize: draw again.
                draw(&screen, sel)?;
                continue;
            };
            if kind == KeyEventKind::Release {
                continue;
            }
            let last = screen.items.len().saturating_sub(1);
            let page = page_size(&screen).max(1);
            match code {
                KeyCode::Char('c') if modifiers.contains(KeyModifiers::CONTROL) => {
                    drop(raw_mode);
                    let _ = execute!(std::io::stderr(), cursor::Show);
                    eprintln!();
                    std::process::exit(130);
                }
                KeyCode::Up | KeyCode::Char('k') => sel = if sel == 0 { last } else { sel - 1 },
                KeyCode::Down | KeyCode::Char('j') => sel = if sel >= last { 0 } else { sel + 1 },
                KeyCode::PageUp => sel = sel.saturating_sub(page),
                KeyCode::PageDown => sel = (sel + page).min(last),
                KeyCode::Home => sel = 0,
                KeyCode::End => sel = last,
                KeyCode::Enter if !screen.items.is_empty() => return Ok(Some((sel, screen))),
                KeyCode::Esc | KeyCode::Char('q') => return Ok(None),
                _ => continue,
            }
            draw(&screen, sel)?;
            drawn = Instant::now();
        } else if changed() || drawn.elapsed() >= REDRAW_EVERY {
            let key = screen.keys.get(sel).cloned();
            screen = load()?;
            sel = key
                .and_then(|k| screen.keys.iter().position(|x| *x == k))
                .unwrap_or(sel)
                .min(screen.items.len().saturating_sub(1));
            draw(&screen, sel)?;
            drawn = Instant::now();
        }
    }
}

/// Rows for items: the terminal's height less the header and prompt.
fn page_size(screen: &Screen) -> usize {
    // A pseudo-terminal may not know its size: LINES, else 24 rows.
    let rows = match terminal::size() {
        Ok((_, r)) if r >= 5 => r as usize,
        _ => std::env::var("LINES")
            .ok()
            .and_then(|l| l.parse().ok())
            .unwrap_or(24),
    };
    rows.saturating_sub(screen.header.len() + 2).max(3)
}

fn draw(screen: &Screen, sel: usize) -> anyhow::Result<()> {
    let mut out = std::io::stderr().lock();
    execute!(
        out,
        cursor::Hide,
        cursor::MoveTo(0, 0),
        terminal::Clear(terminal::ClearType::All)
    )?;
    // Raw mode: lines end with CR LF.
    for line in &screen.header {
        write!(out, "{line}\r\n")?;
    }
    write!(
        out,
        "{} {}\r\n",
        console::style("?").yellow(),
        console::style(&screen.prompt).bold()
    )?;
    let page = page_size(screen);
    let first = sel
        .saturating_sub(page - 1)
        .min(screen.items.len().saturating_sub(page));
    for (i, item) in screen.items.iter().enumerate().skip(first).take(page) {
        if i == sel {
            write!(out, "{} {item}\r\n", console::style("❯").cyan().bold())?;
        } else {
            write!(out, "  {item}\r\n")?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Raw mode for as long as it lives; the cursor comes back after.
struct RawMode;

impl RawMode {
    fn on() -> anyhow::Result<RawMode> {
        terminal::enable_raw_mode()?;
        Ok(RawMode)
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = terminal::disable_raw_mode();
        let _ = execute!(std::io::stderr(), cursor::Show);
    }
}
