//! Aligned text columns for the people-facing output. Numbers align right, text left.

/// A table built row by row, then rendered with every column padded to its widest cell.
pub struct Table {
    header: Vec<String>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// `columns`: (header, right-aligned?).
    pub fn new(columns: &[(&str, bool)]) -> Table {
        Table {
            header: columns.iter().map(|(h, _)| h.to_string()).collect(),
            right: columns.iter().map(|(_, r)| *r).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.header.len());
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as lines ending in `\n`, two spaces between columns, no trailing spaces.
    pub fn render(&self) -> String {
        // Width in chars, not bytes: labels and names may carry non-ASCII text.
        let len = |s: &str| s.chars().count();
        let mut widths: Vec<usize> = self.header.iter().map(|h| len(h)).collect();
        for r in &self.rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(len(c));
            }
        }
        let mut out = String::new();
        for r in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::new();
            for (i, c) in r.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                let pad = " ".repeat(widths[i].saturating_sub(len(c)));
                if self.right[i] {
                    line.push_str(&pad);
                    line.push_str(c);
                } else {
                    line.push_str(c);
                    line.push_str(&pad);
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// Millicores as cores for people: `3.55`, `16`.
pub fn cores(milli: i64) -> String {
    if milli % 1000 == 0 { (milli / 1000).to_string() } else { format!("{:.2}", milli as f64 / 1000.0) }
}

/// Bytes as GiB for people, one decimal unless whole: `7.5`, `16`.
pub fn gib(bytes: i64) -> String {
    let g = bytes as f64 / (1u64 << 30) as f64;
    if (g - g.round()).abs() < 1e-9 { format!("{}", g.round() as i64) } else { format!("{g:.1}") }
}

/// A price in USD per hour, 4 decimals (spot prices of small types are fractions of a cent).
pub fn usd(p: f64) -> String {
    format!("{p:.4}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_columns_and_aligns_numbers_right() {
        let mut t = Table::new(&[("NAME", false), ("N", true)]);
        t.row(vec!["a".into(), "10".into()]);
        t.row(vec!["longer".into(), "2".into()]);
        assert_eq!(t.render(), "NAME     N\na       10\nlonger   2\n");
    }

    #[test]
    fn units_for_people() {
        assert_eq!(cores(3550), "3.55");
        assert_eq!(cores(16000), "16");
        assert_eq!(gib(8 << 30), "8");
        assert_eq!(gib(7_247_757_312), "6.8");
        assert_eq!(usd(0.0416), "0.0416");
    }
}
