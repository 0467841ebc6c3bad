//! The one table style of the CLI: plain columns two spaces apart, a rule
//! under the header, the total row set apart by a rule above it. Numbers
//! align right, text left. Given a width, the widest text column that may
//! shrink is shortened (with `…`) until the table fits; numbers never are.

/// How a column's cells align; numbers align right and never shrink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Text that must be shown whole (a time, a period).
    Fixed,
    /// Text that may be shortened to fit the width.
    Text,
    /// An identifier: shortened in the middle, since ids that share a
    /// prefix (or a suffix) still differ at the other end.
    Id,
    Number,
}

#[derive(Debug, Clone)]
struct Column {
    header: String,
    kind: Kind,
}

/// A table being built: its columns, rows and optional total row.
#[derive(Debug, Clone, Default)]
pub struct Table {
    columns: Vec<Column>,
    rows: Vec<Vec<String>>,
    total: Option<Vec<String>>,
}

/// The space between two columns.
const GAP: &str = "  ";

/// A shrinking column keeps at least this many characters (fewer only if it
/// never had more), so what is left still tells rows apart.
const MIN_SHRUNK: usize = 8;

impl Table {
    pub fn new() -> Table {
        Table::default()
    }

    /// A text column that may be shortened to fit (names, ids, lists).
    pub fn text(mut self, header: &str) -> Table {
        self.columns.push(Column {
            header: header.to_string(),
            kind: Kind::Text,
        });
        self
    }

    /// An id column that may be shortened in the middle to fit.
    pub fn id(mut self, header: &str) -> Table {
        self.columns.push(Column {
            header: header.to_string(),
            kind: Kind::Id,
        });
        self
    }

    /// A text column always shown whole (times, dates).
    pub fn fixed(mut self, header: &str) -> Table {
        self.columns.push(Column {
            header: header.to_string(),
            kind: Kind::Fixed,
        });
        self
    }

    /// A number column: right-aligned, never shortened.
    pub fn number(mut self, header: &str) -> Table {
        self.columns.push(Column {
            header: header.to_string(),
            kind: Kind::Number,
        });
        self
    }

    /// How many columns the table has so far.
    pub fn column_count(&self) -> usize {
        self.columns.len()
    }

    pub fn row(&mut self, cells: impl IntoIterator<Item = String>) {
        self.rows.push(cells.into_iter().collect());
    }

    /// The total row, printed last below a rule.
    pub fn total(&mut self, cells: impl IntoIterator<Item = String>) {
        self.total = Some(cells.into_iter().collect());
    }

    /// The table as text lines, each ending in a newline, fitted to `width`
    /// characters when given (as far as its text columns can shrink).
    pub fn render(&self, width: Option<usize>) -> String {
        let widths = self.widths(width);
        let mut out = String::new();
        let header: Vec<String> = self.columns.iter().map(|c| c.header.clone()).collect();
        self.line(&mut out, &header, &widths);
        let rule: Vec<String> = widths.iter().map(|&w| "─".repeat(w)).collect();
        out.push_str(&rule.join(GAP));
        out.push('\n');
        for row in &self.rows {
            self.line(&mut out, row, &widths);
        }
        if let Some(total) = &self.total {
            // A rule sets the total apart from rows; with none, the header's
            // rule is enough.
            if !self.rows.is_empty() {
                out.push_str(&rule.join(GAP));
                out.push('\n');
            }
            self.line(&mut out, total, &widths);
        }
        out
    }

    /// Each column's width: its widest cell, then shrunk to fit `limit`.
    fn widths(&self, limit: Option<usize>) -> Vec<usize> {
        let mut widths: Vec<usize> = self.columns.iter().map(|c| chars(&c.header)).collect();
        for row in self.rows.iter().chain(&self.total) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(chars(cell));
            }
        }
        let Some(limit) = limit else {
            return widths;
        };
        let gaps = GAP.len() * self.columns.len().saturating_sub(1);
        let floors = |shrunk: &dyn Fn(usize, usize) -> usize| -> Vec<usize> {
            self.columns
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(i, (c, &w))| match c.kind {
                    Kind::Text | Kind::Id => shrunk(i, w),
                    Kind::Fixed | Kind::Number => w,
                })
                .collect()
        };
        let fits = |floor: &[usize]| floor.iter().sum::<usize>() + gaps <= limit;
        // Text is cut no further than its values stay different, unless the
        // table fits only by cutting further; and when it cannot fit at all,
        // cutting further would lose the difference for nothing.
        let distinct = floors(&|i, w| self.distinct_floor(i, w));
        let shortest = floors(&|_, w| w.min(MIN_SHRUNK));
        let floor = if !fits(&distinct) && fits(&shortest) {
            shortest
        } else {
            distinct
        };
        while widths.iter().sum::<usize>() + gaps > limit {
            let widest = (0..widths.len())
                .filter(|&i| widths[i] > floor[i])
                .max_by_key(|&i| (widths[i], std::cmp::Reverse(i)));
            match widest {
                Some(i) => widths[i] -= 1,
                None => break,
            }
        }
        widths
    }

    /// The narrowest column `i` may get, from `MIN_SHRUNK` up to its whole
    /// width `whole`: the first width at which its different values are
    /// still different once cut (`claude-sonnet-4-5` and `claude-haiku-4-5`
    /// must not both read `claude-…`).
    fn distinct_floor(&self, i: usize, whole: usize) -> usize {
        let kind = self.columns[i].kind;
        let mut values: Vec<&str> = self
            .rows
            .iter()
            .filter_map(|row| row.get(i).map(String::as_str))
            .collect();
        values.sort_unstable();
        values.dedup();
        (whole.min(MIN_SHRUNK)..whole)
            .find(|&width| {
                let mut cut: Vec<String> = values
                    .iter()
                    .map(|v| match kind {
                        Kind::Id => fit_middle(v, width),
                        _ => fit(v, width),
                    })
                    .collect();
                cut.sort_unstable();
                cut.dedup();
                cut.len() == values.len()
            })
            .unwrap_or(whole)
    }

    fn line(&self, out: &mut String, cells: &[String], widths: &[usize]) {
        let mut line = String::new();
        for (i, (column, &width)) in self.columns.iter().zip(widths).enumerate() {
            if i > 0 {
                line.push_str(GAP);
            }
            let text = cells.get(i).map_or("", String::as_str);
            let cell = match column.kind {
                Kind::Id => fit_middle(text, width),
                _ => fit(text, width),
            };
            let pad = " ".repeat(width - chars(&cell));
            match column.kind {
                Kind::Number => {
                    line.push_str(&pad);
                    line.push_str(&cell);
                }
                Kind::Text | Kind::Id | Kind::Fixed => {
                    line.push_str(&cell);
                    line.push_str(&pad);
                }
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

/// `text` in at most `width` characters: cut, ending in `…`, if longer.
pub fn fit(text: &str, width: usize) -> String {
    if chars(text) <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut cut: String = text.chars().take(width - 1).collect();
    cut.push('…');
    cut
}

/// `text` in at most `width` characters: its start and end around a `…`
/// if longer (`4f1c2d…0002`).
pub fn fit_middle(text: &str, width: usize) -> String {
    let length = chars(text);
    if length <= width {
        return text.to_string();
    }
    if width < 3 {
        return fit(text, width);
    }
    let tail = (width - 1) / 2;
    let head = width - 1 - tail;
    let start: String = text.chars().take(head).collect();
    let end: String = text.chars().skip(length - tail).collect();
    format!("{start}…{end}")
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// The width output should fit: `COLUMNS` when set, else the terminal's
/// when stdout is one, else none (a pipe or a file takes any width).
pub fn output_width() -> Option<usize> {
    if let Some(columns) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0)
    {
        return Some(columns);
    }
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return None;
    }
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one winsize into the struct we own; stdout
    // is a terminal (checked above), and a failure leaves it zeroed.
    let rc = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) };
    (rc == 0 && size.ws_col > 0).then_some(usize::from(size.ws_col))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new().text("model").fixed("day").number("cost");
        t.row([
            "claude-sonnet-4-5-20250929".into(),
            "2026-09-20".into(),
            "$0.013".into(),
        ]);
        t.row(["gpt-5".into(), "2026-09-21".into(), "$12.300".into()]);
        t.total(["total".into(), String::new(), "$12.313".into()]);
        t
    }

    #[test]
    fn columns_align_and_the_total_is_set_apart() {
        let text = sample().render(None);
        assert_eq!(
            text,
            "model                       day            cost\n\
             ──────────────────────────  ──────────  ───────\n\
             claude-sonnet-4-5-20250929  2026-09-20   $0.013\n\
             gpt-5                       2026-09-21  $12.300\n\
             ──────────────────────────  ──────────  ───────\n\
             total                                   $12.313\n"
        );
    }

    #[test]
    fn over_the_width_the_widest_text_column_is_shortened() {
        let text = sample().render(Some(30));
        for line in text.lines() {
            assert!(line.chars().count() <= 30, "{line:?}");
        }
        assert!(
            text.contains("\nclaude-s…  2026-09-20   $0.013\n"),
            "{text}"
        );
        // Numbers and fixed columns stay whole, even when nothing else can give.
        let narrow = sample().render(Some(5));
        assert!(
            narrow.contains("2026-09-20") && narrow.contains("$12.313"),
            "{narrow}"
        );
    }

    #[test]
    fn a_column_is_never_cut_so_far_that_different_values_look_the_same() {
        let mut t = Table::new().text("model").number("cost");
        t.row(["claude-sonnet-4-5".into(), "$0.30".into()]);
        t.row(["claude-haiku-4-5".into(), "$0.02".into()]);
        let text = t.render(Some(10));
        // At MIN_SHRUNK both would read `claude-…`; `claude-s…` and
        // `claude-h…` tell them apart.
        assert!(text.contains("\nclaude-s…  $0.30\n"), "{text}");
        assert!(text.contains("\nclaude-h…  $0.02\n"), "{text}");
        let mut ids = Table::new().id("session");
        ids.row(["4f1c2d3e-aaaa-0001".into()]);
        ids.row(["4f1c2d3e-bbbb-0001".into()]);
        let text = ids.render(Some(4));
        let cells: Vec<&str> = text.lines().skip(2).collect();
        assert_ne!(cells[0], cells[1], "{text}");
    }

    #[test]
    fn fit_cuts_with_an_ellipsis() {
        assert_eq!(fit("abcdef", 6), "abcdef");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abcdef", 0), "");
        assert_eq!(fit_middle("4f1c2d3e-aaaa-0001", 9), "4f1c…0001");
        assert_eq!(fit_middle("4f1c2d3e-aaaa-0002", 8), "4f1c…002");
        assert_eq!(fit_middle("short", 8), "short");
    }
}
