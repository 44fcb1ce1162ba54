//! The table every list screen uses: a stable column set per screen, with priorities for narrow
//! terminals (a column with priority 0 is never dropped, only narrowed), an ellipsis wherever a
//! cell is cut, sorting by any column, a filter, and a selection that follows its row by
//! identity across reloads. Only the rows on screen are drawn (ratatui#1004: handing 100k rows
//! to `Table` costs ~70 ms a frame; windowing costs well under a millisecond).
//!
//! A table may offer checkboxes (Space marks a row, for a batch action); marks follow their
//! rows by identity across reloads and go with rows that are gone.
//!
//! Cells are computed once when rows arrive, through `text::visible`, so nothing raw from
//! outside is ever drawn and a frame costs the same whatever the row count.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::text::{cell, fit, shown, width};
use crate::tui::config::Dates;
use crate::tui::theme::Theme;

/// Columns left of the first cell: the selection marker.
const MARKER: usize = 2;
/// The checkbox after the marker, on tables that offer marks: "[x] ".
const CHECKBOX: usize = 4;
/// Columns between two cells.
const GAP: usize = 2;
/// No column asks for more than this when the terminal is wide; the detail view shows the rest.
const NATURAL_MAX: usize = 64;

/// What a column shows, which is also how it sorts: text by its text, times and numbers by
/// their value (so a date format that does not sort as text still sorts in time order).
pub enum Value<T> {
    Text(fn(&T) -> String),
    Time(fn(&T) -> DateTime<Utc>),
    Number(fn(&T) -> u64),
}

pub struct Column<T> {
    pub title: &'static str,
    /// The narrowest the column may be cut to.
    pub min: u16,
    /// 0: always shown; columns with higher numbers go first when the terminal is narrow.
    pub priority: u8,
    pub value: Value<T>,
}

pub const fn col<T>(title: &'static str, min: u16, priority: u8, text: fn(&T) -> String) -> Column<T> {
    Column {
        title,
        min,
        priority,
        value: Value::Text(text),
    }
}

/// A time, shown in the configured date format.
pub const fn time<T>(title: &'static str, min: u16, priority: u8, at: fn(&T) -> DateTime<Utc>) -> Column<T> {
    Column {
        title,
        min,
        priority,
        value: Value::Time(at),
    }
}

pub const fn number<T>(title: &'static str, min: u16, priority: u8, n: fn(&T) -> u64) -> Column<T> {
    Column {
        title,
        min,
        priority,
        value: Value::Number(n),
    }
}

impl<T> Column<T> {
    fn cell(&self, row: &T, dates: &Dates) -> String {
        match self.value {
            Value::Text(text) => text(row),
            Value::Time(at) => dates.show(&at(row)),
            Value::Number(n) => n(row).to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Ascending,
    Descending,
}

impl Order {
    pub fn arrow(self) -> &'static str {
        match self {
            Order::Ascending => "▲",
            Order::Descending => "▼",
        }
    }
}

pub struct Table<T: 'static> {
    columns: &'static [Column<T>],
    key: fn(&T) -> String,
    rows: Vec<T>,
    keys: Vec<String>,
    cells: Vec<Vec<String>>,
    natural: Vec<usize>,
    /// Rows shown, as indices into `rows`: filtered, then sorted.
    order: Vec<usize>,
    selected: usize,
    offset: usize,
    viewport: usize,
    filter: String,
    sort: Option<(usize, Order)>,
    loading: bool,
    error: Option<String>,
    /// The row to select once the next rows arrive (a row just created).
    want: Option<String>,
    /// Whether rows have checkboxes.
    checkable: bool,
    /// The keys of the marked rows.
    marks: BTreeSet<String>,
}

impl<T: 'static> Table<T> {
    pub fn new(columns: &'static [Column<T>], key: fn(&T) -> String) -> Table<T> {
        Table {
            columns,
            key,
            rows: Vec::new(),
            keys: Vec::new(),
            cells: Vec::new(),
            natural: columns.iter().map(|c| width(c.title) + 2).collect(),
            order: Vec::new(),
            selected: 0,
            offset: 0,
            viewport: 1,
            filter: String::new(),
            sort: None,
            // Nothing loaded yet: no row count is claimed (a locked Credentials tab is not
            // "0 rows").
            loading: true,
            error: None,
            want: None,
            checkable: false,
            marks: BTreeSet::new(),
        }
    }

    /// Rows get checkboxes (Space marks them for a batch action).
    pub fn checkable(mut self) -> Table<T> {
        self.checkable = true;
        self
    }

    /// The marked rows, in the model's order (marked rows the filter hides count too: the
    /// dialog that acts on them lists each).
    pub fn marked_rows(&self) -> Vec<&T> {
        self.rows
            .iter()
            .zip(&self.keys)
            .filter(|(_, key)| self.marks.contains(*key))
            .map(|(row, _)| row)
            .collect()
    }

    /// New rows (a load or a reload): the selection stays on the same row, by identity, where
    /// it still exists; a row asked for with `want` is selected instead.
    pub fn set_rows(&mut self, rows: Vec<T>, dates: &Dates) {
        let keep = self
            .want
            .take()
            .or_else(|| self.selected_key().map(str::to_string));
        let position = self.selected;
        // Keys are identities, compared and never drawn: kept as the model gave them.
        self.keys = rows.iter().map(self.key).collect();
        self.cells = rows
            .iter()
            .map(|r| {
                self.columns
                    .iter()
                    .map(|c| shown(&c.cell(r, dates)).into_owned())
                    .collect()
            })
            .collect();
        self.natural = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                self.cells
                    .iter()
                    .map(|r| width(&r[i]))
                    .max()
                    .unwrap_or(0)
                    .min(NATURAL_MAX)
                    .max(width(c.title) + 2)
                    .max(c.min as usize)
            })
            .collect();
        self.rows = rows;
        self.loading = false;
        self.error = None;
        // A mark goes with its row: a batch never acts on something no longer listed.
        let keys = &self.keys;
        self.marks.retain(|k| keys.contains(k));
        self.apply();
        match keep {
            Some(key) if self.select_key(&key) => {}
            _ => self.selected = position.min(self.order.len().saturating_sub(1)),
        }
        self.follow();
    }

    pub fn fail(&mut self, message: String) {
        self.rows.clear();
        self.keys.clear();
        self.cells.clear();
        self.order.clear();
        self.selected = 0;
        self.offset = 0;
        self.loading = false;
        self.error = Some(message);
    }

    pub fn set_loading(&mut self) {
        self.loading = true;
    }

    pub fn rows(&self) -> &[T] {
        &self.rows
    }

    pub fn selected_row(&self) -> Option<&T> {
        self.order.get(self.selected).map(|&i| &self.rows[i])
    }

    /// Filters and sorts `order` anew.
    fn apply(&mut self) {
        let needle = self.filter.to_lowercase();
        self.order = (0..self.rows.len())
            .filter(|&i| {
                needle.is_empty() || self.cells[i].iter().any(|c| c.to_lowercase().contains(&needle))
            })
            .collect();
        if let Some((column, order)) = self.sort {
            let rows = &self.rows;
            let cells = &self.cells;
            let compare = |a: &usize, b: &usize| -> Ordering {
                match &self.columns[column].value {
                    Value::Text(_) => cells[*a][column].cmp(&cells[*b][column]),
                    Value::Time(at) => at(&rows[*a]).cmp(&at(&rows[*b])),
                    Value::Number(n) => n(&rows[*a]).cmp(&n(&rows[*b])),
                }
            };
            match order {
                Order::Ascending => self.order.sort_by(compare),
                Order::Descending => self.order.sort_by(|a, b| compare(b, a)),
            }
        }
    }

    /// Re-filters or re-sorts, keeping the selected row.
    fn reorder(&mut self) {
        let keep = self.selected_key().map(str::to_string);
        self.apply();
        match keep {
            Some(key) if self.select_key(&key) => {}
            _ => self.selected = self.selected.min(self.order.len().saturating_sub(1)),
        }
        self.follow();
    }

    /// Keeps the selection inside the rows the viewport shows.
    fn follow(&mut self) {
        self.offset = visible_offset(self.offset, self.selected, self.viewport, self.order.len());
    }
}

/// The first row to draw so that `selected` is in a window of `height` rows.
fn visible_offset(offset: usize, selected: usize, height: usize, len: usize) -> usize {
    let height = height.max(1);
    let mut offset = offset.min(len.saturating_sub(height));
    if selected < offset {
        offset = selected;
    } else if selected >= offset + height {
        offset = selected + 1 - height;
    }
    offset
}

/// A table seen without its row type: what the app and the drawing need.
pub trait TableNav {
    fn titles(&self) -> Vec<(&'static str, u16, u8)>;
    fn natural(&self) -> &[usize];
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Rows that pass the filter.
    fn shown(&self) -> usize;
    /// The cells of the row at `position` among those shown.
    fn cells_at(&self, position: usize) -> &[String];
    fn key_at(&self, position: usize) -> &str;
    fn all_cells(&self) -> &[Vec<String>];
    fn selected(&self) -> usize;
    fn select(&mut self, position: usize);
    fn move_by(&mut self, delta: isize);
    fn offset(&self, height: usize) -> usize;
    fn set_viewport(&mut self, rows: usize);
    fn viewport(&self) -> usize;
    fn filter(&self) -> &str;
    fn set_filter(&mut self, filter: &str);
    fn sort(&self) -> Option<(usize, Order)>;
    /// The next column ascending; after the last, the model's own order again.
    fn sort_next(&mut self);
    fn sort_reverse(&mut self);
    /// Sorts by `column`; asked again, reverses.
    fn sort_by(&mut self, column: usize);
    fn selected_key(&self) -> Option<&str>;
    fn selected_cells(&self) -> Option<&[String]>;
    fn select_key(&mut self, key: &str) -> bool;
    fn contains(&self, key: &str) -> bool;
    fn want(&mut self, key: String);
    fn loading(&self) -> bool;
    fn error(&self) -> Option<&str>;
    /// Columns left of the first cell: the selection marker, and the checkbox if any.
    fn marker_width(&self) -> usize;
    /// Whether rows have checkboxes.
    fn is_checkable(&self) -> bool;
    fn is_marked(&self, position: usize) -> bool;
    /// Marks or unmarks the selected row.
    fn toggle_mark(&mut self);
    fn marked(&self) -> usize;
}

impl<T: 'static> TableNav for Table<T> {
    fn titles(&self) -> Vec<(&'static str, u16, u8)> {
        self.columns
            .iter()
            .map(|c| (c.title, c.min, c.priority))
            .collect()
    }

    fn natural(&self) -> &[usize] {
        &self.natural
    }

    fn len(&self) -> usize {
        self.rows.len()
    }

    fn shown(&self) -> usize {
        self.order.len()
    }

    fn cells_at(&self, position: usize) -> &[String] {
        &self.cells[self.order[position]]
    }

    fn key_at(&self, position: usize) -> &str {
        &self.keys[self.order[position]]
    }

    fn all_cells(&self) -> &[Vec<String>] {
        &self.cells
    }

    fn selected(&self) -> usize {
        self.selected
    }

    fn select(&mut self, position: usize) {
        self.selected = position.min(self.order.len().saturating_sub(1));
        self.follow();
    }

    fn move_by(&mut self, delta: isize) {
        let last = self.order.len().saturating_sub(1) as isize;
        self.selected = (self.selected as isize + delta).clamp(0, last.max(0)) as usize;
        self.follow();
    }

    fn offset(&self, height: usize) -> usize {
        visible_offset(self.offset, self.selected, height, self.order.len())
    }

    fn set_viewport(&mut self, rows: usize) {
        self.viewport = rows.max(1);
        self.follow();
    }

    fn viewport(&self) -> usize {
        self.viewport
    }

    fn filter(&self) -> &str {
        &self.filter
    }

    fn set_filter(&mut self, filter: &str) {
        if self.filter != filter {
            self.filter = filter.to_string();
            self.reorder();
        }
    }

    fn sort(&self) -> Option<(usize, Order)> {
        self.sort
    }

    fn sort_next(&mut self) {
        self.sort = match self.sort {
            None => Some((0, Order::Ascending)),
            Some((c, _)) if c + 1 < self.columns.len() => Some((c + 1, Order::Ascending)),
            Some(_) => None,
        };
        self.reorder();
    }

    fn sort_reverse(&mut self) {
        self.sort = match self.sort {
            None => Some((0, Order::Descending)),
            Some((c, Order::Ascending)) => Some((c, Order::Descending)),
            Some((c, Order::Descending)) => Some((c, Order::Ascending)),
        };
        self.reorder();
    }

    fn sort_by(&mut self, column: usize) {
        if column >= self.columns.len() {
            return;
        }
        self.sort = match self.sort {
            Some((c, Order::Ascending)) if c == column => Some((c, Order::Descending)),
            _ => Some((column, Order::Ascending)),
        };
        self.reorder();
    }

    fn selected_key(&self) -> Option<&str> {
        self.order.get(self.selected).map(|&i| self.keys[i].as_str())
    }

    fn selected_cells(&self) -> Option<&[String]> {
        self.order.get(self.selected).map(|&i| self.cells[i].as_slice())
    }

    fn select_key(&mut self, key: &str) -> bool {
        match self.order.iter().position(|&i| self.keys[i] == key) {
            Some(position) => {
                self.selected = position;
                self.follow();
                true
            }
            None => false,
        }
    }

    fn contains(&self, key: &str) -> bool {
        self.keys.iter().any(|k| k == key)
    }

    fn want(&mut self, key: String) {
        self.want = Some(key);
    }

    fn loading(&self) -> bool {
        self.loading
    }

    fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    fn marker_width(&self) -> usize {
        MARKER + if self.checkable { CHECKBOX } else { 0 }
    }

    fn is_checkable(&self) -> bool {
        self.checkable
    }

    fn is_marked(&self, position: usize) -> bool {
        self.marks.contains(self.key_at(position))
    }

    fn toggle_mark(&mut self) {
        if !self.checkable {
            return;
        }
        if let Some(key) = self.selected_key().map(str::to_string) {
            if !self.marks.remove(&key) {
                self.marks.insert(key);
            }
        }
    }

    fn marked(&self) -> usize {
        self.marks.len()
    }
}

/// Which columns are drawn and how wide, for `width` columns of terminal. Columns of priority
/// 2 and up go (highest first) while the rest would not fit whole; priority 1 only while the
/// rest would not fit even at their minimum widths; priority 0 never. Then the widest column is
/// narrowed, one column at a time, until everything fits. Stable: it depends on the rows only
/// through their widest cells, not on which rows are on screen.
pub fn layout(table: &dyn TableNav, width: usize) -> Vec<(usize, usize)> {
    let titles = table.titles();
    let natural = table.natural();
    let mut shown: Vec<usize> = (0..titles.len()).collect();
    let marker = table.marker_width();
    let gaps = |shown: &[usize]| marker + GAP * shown.len().saturating_sub(1);
    let whole = |shown: &[usize]| gaps(shown) + shown.iter().map(|&i| natural[i]).sum::<usize>();
    let least = |shown: &[usize]| gaps(shown) + shown.iter().map(|&i| titles[i].1 as usize).sum::<usize>();
    for (floor, need) in [(2u8, &whole as &dyn Fn(&[usize]) -> usize), (1, &least)] {
        while need(&shown) > width {
            let Some(&drop) = shown
                .iter()
                .filter(|&&i| titles[i].2 >= floor)
                .max_by_key(|&&i| (titles[i].2, i))
            else {
                break;
            };
            shown.retain(|&i| i != drop);
        }
    }
    let mut widths: Vec<(usize, usize)> = shown.iter().map(|&i| (i, natural[i])).collect();
    let available = width.saturating_sub(gaps(&shown));
    let mut total: usize = widths.iter().map(|(_, w)| w).sum();
    while total > available {
        let Some(widest) = widths
            .iter_mut()
            .filter(|(i, w)| *w > titles[*i].1 as usize)
            .max_by_key(|(_, w)| *w)
        else {
            break;
        };
        widest.1 -= 1;
        total -= 1;
    }
    widths
}

/// What a click at row `y` (0 = the header) and column `x` of the table's area hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit {
    Header(usize),
    Row(usize),
    Nothing,
}

pub fn hit(table: &dyn TableNav, area: Rect, x: u16, y: u16) -> Hit {
    if x < area.x || y < area.y || x >= area.right() || y >= area.bottom() {
        return Hit::Nothing;
    }
    let row = (y - area.y) as usize;
    if row == 0 {
        let mut left = area.x as usize + table.marker_width();
        for (column, w) in layout(table, area.width as usize) {
            if (x as usize) >= left && (x as usize) < left + w + GAP {
                return Hit::Header(column);
            }
            left += w + GAP;
        }
        return Hit::Nothing;
    }
    let height = area.height.saturating_sub(1) as usize;
    let position = table.offset(height) + row - 1;
    if position < table.shown() {
        Hit::Row(position)
    } else {
        Hit::Nothing
    }
}

/// Draws the header and the rows that fit in `area`.
pub fn draw(table: &dyn TableNav, theme: &Theme, focused: bool, empty: &str, frame: &mut Frame, area: Rect) {
    let height = area.height.saturating_sub(1) as usize;
    if area.height == 0 {
        return;
    }
    let full = area.width as usize;
    let widths = layout(table, full);
    let titles = table.titles();
    let render = |marker: &str, texts: Vec<String>| -> String {
        let mut line = marker.to_string();
        for (n, ((_, w), text)) in widths.iter().zip(texts).enumerate() {
            if n > 0 {
                line.push_str(&" ".repeat(GAP));
            }
            line.push_str(&cell(&text, *w));
        }
        line
    };
    let sort = table.sort();
    let blank = " ".repeat(table.marker_width());
    let header = render(
        &blank,
        widths
            .iter()
            .map(|(i, _)| match sort {
                Some((c, order)) if c == *i => format!("{} {}", titles[*i].0, order.arrow()),
                _ => titles[*i].0.to_string(),
            })
            .collect(),
    );
    let mut lines = vec![Line::from(Span::styled(fit(&header, full), theme.table_header))];
    if table.shown() == 0 {
        lines.push(Line::from(Span::styled(format!("  {empty}"), theme.dim)));
    }
    let offset = table.offset(height);
    let end = (offset + height).min(table.shown());
    for position in offset..end {
        let selected = position == table.selected();
        let cells = table.cells_at(position);
        let mut marker = String::from(if selected { "▶ " } else { "  " });
        if table.is_checkable() {
            marker.push_str(if table.is_marked(position) { "[x] " } else { "[ ] " });
        }
        let text = render(&marker, widths.iter().map(|(i, _)| cells[*i].clone()).collect());
        let style = if selected && focused {
            theme.selected
        } else if selected {
            Style::new().add_modifier(Modifier::BOLD)
        } else {
            theme.base
        };
        lines.push(Line::from(Span::styled(fit(&text, full), style)));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Row(&'static str, u64);
    const COLUMNS: &[Column<Row>] = &[
        col("NAME", 6, 0, |r| r.0.to_string()),
        number("NUMBER", 6, 1, |r| r.1),
    ];

    fn table(rows: Vec<Row>) -> Table<Row> {
        let mut t = Table::new(COLUMNS, |r: &Row| r.0.to_string());
        t.set_rows(rows, &Dates::default());
        t
    }

    #[test]
    fn selection_follows_the_row_across_reloads_and_sorts() {
        let mut t = table(vec![Row("b", 2), Row("a", 10), Row("c", 1)]);
        t.select(1);
        assert_eq!(t.selected_key(), Some("a"));
        t.sort_by(1);
        assert_eq!(t.selected_key(), Some("a"), "numeric sort keeps the row");
        assert_eq!(t.key_at(0), "c");
        assert_eq!(t.key_at(2), "a", "10 sorts after 2 as a number");
        t.set_rows(vec![Row("a", 10), Row("z", 0)], &Dates::default());
        assert_eq!(t.selected_key(), Some("a"));
        t.want("z".into());
        t.set_rows(vec![Row("a", 10), Row("z", 0)], &Dates::default());
        assert_eq!(t.selected_key(), Some("z"));
    }

    #[test]
    fn narrow_layouts_drop_by_priority_and_keep_priority_zero() {
        let t = table(vec![Row("a-long-name-here", 1)]);
        assert_eq!(layout(&t, 80).len(), 2);
        let narrow = layout(&t, 12);
        assert_eq!(narrow, vec![(0, 10)], "NUMBER goes, NAME narrows");
        assert_eq!(layout(&t, 3), vec![(0, 6)], "never below its minimum");
    }
}
